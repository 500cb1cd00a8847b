/**
 * A pass scoped by a change set (`reconcileWorkloads({ changes })`) against the full pass, over
 * seeded random sequences of deploys, redeploys (rolling updates), scale changes, node failures
 * and returns, and job submissions, with the real apply and the real controllers (BatchSim).
 *
 * - Without failures or back-off, nothing but the commands changes what the controllers decide,
 *   so at every pass the scoped pass must propose exactly the full pass's commands.
 * - With crash loops (back-off: decisions that only time changes) the scoped pass may act up to
 *   one full pass later; a cluster run on scoped passes with a full pass every 5 steps must then
 *   converge to the same state as one run on full passes.
 */
import type { IdGenerator, WorkloadCommandInput } from '../../src/controllers/index.js';
import { seededRandom } from '../../src/scheduler/order.js';
import { isTerminal, type ClusterState, type TaskRecord } from '../../src/state/index.js';
import { BatchSim, stackOf, type Runner } from './batch/sim.js';

const NODES = [{ cpus: 4 }, { cpus: 4 }, { cpus: 4 }];

function stack(version: number, replicas: { web: number; api: number }) {
  const yaml = [
    'services:',
    '  web:',
    `    image: web:${version}`,
    '    deploy:',
    `      replicas: ${replicas.web}`,
    '      resources: {reservations: {cpus: "0.5"}}',
    '      update_config: {parallelism: 1, order: start-first}',
    `      restart_policy: {condition: any, delay: 2s}`,
    '  api:',
    '    image: api:1',
    '    deploy:',
    `      replicas: ${replicas.api}`,
    '      update_config: {parallelism: 2, order: stop-first}',
    `      restart_policy: {condition: on-failure, delay: 1s}`,
    '  agent:',
    '    image: agent:1',
    '    deploy: {mode: global}',
  ];
  return stackOf(yaml.join('\n') + '\n', 'app');
}

/** Service tasks run until stopped (api's crash soon while `crash.on`); job units run 1-4 s. */
function runner(random: () => number, crash = { on: false }): Runner {
  return (task: TaskRecord, job) => {
    if (job !== undefined) return { ms: 1000 * (1 + Math.floor(random() * 4)), exitCode: 0 };
    return task.serviceId === 'app_api' && crash.on ? { ms: 1500, exitCode: 1 } : { ms: 1e12, exitCode: 0 };
  };
}

/** Ids from a counter that restarts at `base`, so two passes that create alike name alike. */
function ids(base: number): IdGenerator {
  let n = 0;
  return () => `p${base}x${++n}`;
}

/** One random event of the storm; returns a line for the trace. */
function event(sim: BatchSim, random: () => number, shape: { version: number; web: number; api: number }): string {
  const r = random();
  const node = sim.nodeIds[Math.floor(random() * sim.nodeIds.length)]!;
  if (r < 0.1) {
    sim.apply({ type: 'service.scale', serviceId: 'app_web', replicas: (shape.web = Math.floor(random() * 6)) });
    return `scale web ${shape.web}`;
  }
  if (r < 0.18) {
    sim.deploy(stack(++shape.version, shape));
    return `redeploy web:${shape.version}`;
  }
  if (r < 0.24) {
    sim.kill(node);
    return `kill ${node.slice(-6)}`;
  }
  if (r < 0.34) {
    sim.revive(node);
    return `revive ${node.slice(-6)}`;
  }
  if (r < 0.44) {
    const id = sim.submit({ job: `{array: "0-${Math.floor(random() * 4)}"}`, cpus: 1 });
    return `submit job ${id}`;
  }
  return '';
}

/** Drop the run-dependent fields so two runs' states compare by what they converge to. */
function outcome(state: ClusterState): unknown {
  const live = Object.values(state.tasks).filter((t) => !isTerminal(t.state) && t.desiredState === 'running');
  const perService: Record<string, string[]> = {};
  for (const t of live) {
    const key = t.job === undefined ? `${t.serviceId}` : `job-${t.job.jobId}`;
    (perService[key] ??= []).push(`${t.slot}:${t.state}:v${t.serviceVersion}`);
  }
  for (const list of Object.values(perService)) list.sort();
  const jobs = Object.values(state.jobs).map((j) => `${j.id}:${j.state}:${j.succeeded}/${j.units}`);
  return { perService, jobs: jobs.sort(), nodes: Object.values(state.nodes).map((n) => `${n.id}:${n.status}`) };
}

describe('reconcileWorkloads() scoped by a change set', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('proposes exactly what the full pass proposes at every pass (seed %i)', (seed) => {
    const random = seededRandom(seed);
    const sim = new BatchSim({ nodes: NODES, runner: runner(seededRandom(seed + 1000)) });
    const shape = { version: 1, web: 3, api: 2 };
    sim.takeChanges(); // tracking starts here (the leader's first pass is full)
    sim.deploy(stack(1, shape));
    const trace: string[] = [];
    for (let step = 0; step < 120; step++) {
      const what = step < 90 ? event(sim, random, shape) : '';
      if (what !== '') trace.push(`step ${step}: ${what}`);
      const changes = sim.takeChanges();
      const scoped = sim.plan({ changes, newId: ids(step) });
      const full = sim.plan({ newId: ids(step) });
      if (JSON.stringify(scoped) !== JSON.stringify(full)) {
        throw new Error(
          `seed ${seed}, step ${step}: the scoped pass differs from the full pass\n` +
            `changes: tasks ${[...changes.tasks].join(',')}; services ${[...changes.services].join(',')}; ` +
            `nodes ${[...changes.nodes].join(',')}; jobs ${[...changes.jobs].join(',')}\n` +
            `scoped: ${JSON.stringify(scoped)}\nfull:   ${JSON.stringify(full)}\n${trace.join('\n')}`,
        );
      }
      for (const c of full) sim.apply(c);
      if (full[0]?.type === 'node.setStatus') sim.resetChanges(); // as the leader does
      sim.runtimes();
      sim.heartbeat();
      sim.now += 1000;
    }
    expect(trace.length).toBeGreaterThan(10);
  });

  it.each([11, 12, 13])('converges to the full passes’ state with crash loops and back-off (seed %i)', (seed) => {
    const run = (scoped: boolean): unknown => {
      const random = seededRandom(seed);
      const crash = { on: false };
      // Its own random stream: the two runs start tasks at different times.
      const sim = new BatchSim({ nodes: NODES, runner: runner(seededRandom(seed + 1000), crash) });
      const shape = { version: 1, web: 3, api: 2 };
      sim.takeChanges();
      sim.deploy(stack(1, shape));
      for (let step = 0; step < 160; step++) {
        crash.on = step >= 10 && step < 60;
        if (step < 90) event(sim, random, shape);
        const changes = sim.takeChanges();
        const commands: WorkloadCommandInput[] =
          scoped && step % 5 !== 0 ? sim.plan({ changes, newId: sim.newId }) : sim.plan({ newId: sim.newId });
        for (const c of commands) sim.apply(c);
        if (commands[0]?.type === 'node.setStatus') sim.resetChanges();
        sim.runtimes();
        sim.heartbeat();
        sim.now += 1000;
      }
      for (const id of sim.nodeIds) sim.revive(id);
      for (let step = 0; step < 60; step++) sim.step();
      return outcome(sim.state);
    };
    expect(run(true)).toEqual(run(false));
  });
});
