/**
 * `npm run bench:services -- --testbed`: node failover on the test bed (test/support/testbed.ts),
 * 3 machines each with its own Docker Engine, so that the survivors start the lost replicas in
 * parallel, as real machines do. Each trial starts from a fresh, balanced deployment, loses a
 * follower's machine (kill -9 of its agent, its containers killed on its engine) and waits until
 * every replica runs on the survivors: `failover_ms`. Then the floor, `direct_restart_ms`: the
 * same number of containers each survivor took, created and started directly on the survivors'
 * engines, all at once and both engines in parallel, on a network of their own as a stack's are.
 * Goal: failover_p50_ms <= grace + direct_restart_ms (median) + 500. Last line: JSON.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { bundle } from '../scripts/bundle.mjs';
import { bootstrapCluster, makeAgents, waitFor, type AgentProcess } from '../test/agent/support/agents.js';
import { TestBed } from '../test/support/testbed.js';

const IMAGE = 'shoal-test/busybox:latest';
/** The default node-down grace (the cluster setting), passed explicitly so the goal is computed from it. */
const GRACE_MS = 5_000;

interface TaskRow {
  state: string;
  desiredState: string;
  nodeId: string | null;
}

export interface TestbedFailoverOptions {
  readonly replicas: number;
  readonly trials: number;
}

/**
 * Running (wanted) replicas of `service` per node, as an agent sees them, and how many wanted
 * ones are placed away from `exceptNode`; null when it does not answer.
 */
async function runningByNode(
  agent: AgentProcess,
  service: string,
  exceptNode?: string,
): Promise<{ running: Map<string, number>; placedElsewhere: number } | null> {
  const reply = await agent.api<TaskRow[]>('GET', `/v1/services/${service}/tasks?stale=1`).catch(() => null);
  if (reply?.status !== 200) return null;
  const running = new Map<string, number>();
  let placedElsewhere = 0;
  for (const t of reply.body) {
    if (t.desiredState !== 'running' || t.nodeId === null) continue;
    if (t.nodeId !== exceptNode) placedElsewhere++;
    if (t.state === 'running') running.set(t.nodeId, (running.get(t.nodeId) ?? 0) + 1);
  }
  return { running, placedElsewhere };
}

const sum = (counts: Map<string, number>, except?: string): number =>
  [...counts].reduce((total, [node, n]) => total + (node === except ? 0 : n), 0);

async function containersOf(engine: Docker, label: string, all = false): Promise<Docker.ContainerInfo[]> {
  return engine.listContainers({ all, filters: { label: [label] } });
}

/** The floor: `counts[i]` containers created and started on `engines[i]`, every engine at once, all in flight. */
async function directRestart(engines: readonly Docker[], counts: readonly number[], trial: number): Promise<number> {
  const network = `shoal-bench-direct-${trial}`;
  await Promise.all(engines.map((e) => e.createNetwork({ Name: network, Driver: 'bridge' })));
  const started = performance.now();
  await Promise.all(
    engines.flatMap((engine, e) =>
      Array.from({ length: counts[e] ?? 0 }, async (_, i) => {
        const container = await engine.createContainer({
          Image: IMAGE,
          Cmd: ['sleep', '3600'],
          Labels: { 'shoal.bench.direct': String(trial) },
          name: `shoal-bench-direct-${trial}-${i}`,
          HostConfig: { NanoCpus: 10_000_000, Memory: 16 * 1024 * 1024, NetworkMode: network },
          NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: ['app'] } } },
        });
        await container.start();
      }),
    ),
  );
  const ms = performance.now() - started;
  await Promise.all(
    engines.map(async (engine) => {
      const left = await containersOf(engine, 'shoal.bench.direct', true);
      await Promise.all(left.map((c) => engine.getContainer(c.Id).remove({ force: true })));
      await engine
        .getNetwork(network)
        .remove()
        .catch(() => undefined);
    }),
  );
  return ms;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function runTestbedFailover({ replicas, trials }: TestbedFailoverOptions): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:services --testbed makes network namespaces and needs root');
  execFileSync('bash', ['scripts/ensure-docker.sh'], { stdio: 'ignore' });
  execFileSync('bash', ['scripts/build-test-image.sh', IMAGE], { stdio: 'ignore' });
  await bundle();
  const root = mkdtempSync(join(tmpdir(), 'shoal-bench-tb-'));
  const bed = TestBed.create(3, root);
  const { agents, cleanup } = makeAgents(3, 'shoal-bench-tb-agents-');
  const engines = bed.nodes.map((n) => new Docker({ socketPath: n.engine.socket }));
  const flags = ['--log-level', 'warn', '--node-grace-ms', String(GRACE_MS)];
  const place = (i: number) => bed.agentPlace(i);
  try {
    await bed.up([IMAGE]);
    const { ids } = await bootstrapCluster(agents, { flags, placeOf: place });
    const compose = `services:\n  app:\n    image: ${IMAGE}\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n    deploy:\n      replicas: ${replicas}\n      resources:\n        limits: { cpus: "0.01", memory: 16M }\n      restart_policy: { condition: any, delay: 1s }\n`;
    const failovers: number[] = [];
    const floors: number[] = [];
    const lost: number[] = [];
    /** When every replica had a node again (the machine declared down and its tasks rescheduled). */
    const placements: number[] = [];
    for (let trial = 0; trial < trials; trial++) {
      // a fresh, balanced deployment: shoal does not move replicas back to a returning node
      if (trial > 0) {
        await agents[0]!.api('DELETE', '/v1/stacks/bench');
        await waitFor(
          'the old deployment gone',
          async () =>
            (await Promise.all(engines.map((e) => containersOf(e, 'shoal.stack=bench', true)))).every(
              (list) => list.length === 0,
            ),
          120_000,
        );
      }
      const deployed = await agents[1]!.api('POST', '/v1/stacks', { name: 'bench', compose, file: 'compose.yml' });
      if (deployed.status !== 200) throw new Error(`deploy failed: ${JSON.stringify(deployed.body)}`);
      await waitFor(
        `${replicas} replicas running`,
        async () => sum((await runningByNode(agents[0]!, 'bench_app'))?.running ?? new Map()) === replicas,
        180_000,
      );
      const leader = (await agents[0]!.api<{ leader: string }>('GET', '/v1/status')).body.leader;
      const followers = ids.map((id, i) => (id === leader ? -1 : i)).filter((i) => i >= 0);
      const index = followers[trial % followers.length]!;
      const victim = agents[index]!;
      const observer = agents.find((_, i) => i !== index)!;
      const before = (await runningByNode(observer, 'bench_app'))!.running;
      lost.push(before.get(ids[index]!) ?? 0);

      // The machine dies: its agent at once, its containers with it (killed on its own engine).
      const killedAt = performance.now();
      await victim.kill('SIGKILL');
      const theirs = await containersOf(engines[index]!, `shoal.node.id=${ids[index]}`);
      await Promise.all(
        theirs.map((c) =>
          engines[index]!.getContainer(c.Id)
            .kill()
            .catch(() => undefined),
        ),
      );
      let after = new Map<string, number>();
      let placedMs = NaN;
      await waitFor(
        'all replicas running on the survivors',
        async () => {
          const seen = await runningByNode(observer, 'bench_app', ids[index]);
          if (Number.isNaN(placedMs) && seen?.placedElsewhere === replicas) placedMs = performance.now() - killedAt;
          after = seen?.running ?? new Map();
          return sum(after, ids[index]) === replicas;
        },
        120_000,
      );
      failovers.push(performance.now() - killedAt);
      placements.push(placedMs);

      // The floor: what each survivor took, started directly on its engine, survivors in parallel.
      const survivors = [0, 1, 2].filter((i) => i !== index);
      const took = survivors.map((i) => (after.get(ids[i]!) ?? 0) - (before.get(ids[i]!) ?? 0));
      floors.push(
        await directRestart(
          survivors.map((i) => engines[i]!),
          took,
          trial,
        ),
      );
      console.log(
        `failover ${trial + 1}: n${index + 1}'s ${lost.at(-1)} replicas placed on the survivors after ${placedMs.toFixed(0)} ms, running ${failovers.at(-1)!.toFixed(0)} ms after its machine died (survivors took ${took.join(' + ')}); the same containers started directly: ${floors.at(-1)!.toFixed(0)} ms`,
      );

      // The machine comes back (its engine never stopped; its agent cleans up what it left).
      victim.start(flags, place(index).env, place(index).netns);
      await victim.waitForApi();
      await waitFor(
        'the node to be back',
        async () => {
          const nodes = await observer.api<{ id: string; status: string }[]>('GET', '/v1/nodes').catch(() => null);
          return nodes?.body.find((n) => n.id === ids[index])?.status === 'ready';
        },
        60_000,
      );
    }
    const p50 = median(failovers);
    const floor = median(floors);
    const goal = GRACE_MS + floor + 500;
    console.log(
      `failover over ${trials} trials on 3 machines: p50 ${p50.toFixed(0)} ms, max ${Math.max(...failovers).toFixed(0)} ms; direct restart on the survivors' engines: median ${floor.toFixed(0)} ms; goal p50 <= grace ${GRACE_MS} + direct + 500 = ${goal.toFixed(0)} ms: ${p50 <= goal ? 'met' : 'missed'}`,
    );
    console.log(
      JSON.stringify({
        bench: 'services-testbed',
        nodes: 3,
        replicas,
        trials,
        grace_ms: GRACE_MS,
        failover_p50_ms: p50,
        failover_max_ms: Math.max(...failovers),
        direct_restart_ms: floor,
        goal_ms: goal,
        goal_met: p50 <= goal,
        failover_samples_ms: failovers,
        placed_p50_ms: median(placements),
        placed_samples_ms: placements,
        direct_restart_samples_ms: floors,
        lost_replicas: lost,
      }),
    );
  } finally {
    await cleanup();
    await bed.down();
    rmSync(root, { recursive: true, force: true });
  }
}
