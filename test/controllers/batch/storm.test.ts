/**
 * Property test: a seeded storm of submissions, failing and slow units, node deaths and returns,
 * preemptions, cancellations and leaders dying mid-pass, through the real apply and controllers.
 *
 * After every step: no unit has two live tasks or two completions, no job has more live tasks
 * than its parallelism / `%N` cap, no unit used more attempts than its retries, and an ended job
 * never changes again. After the storm, with every node back, every job ends, and a COMPLETED job
 * has exactly one completion per unit.
 */
import type { WorkloadCommandInput } from '../../../src/controllers/index.js';
import { seededRandom } from '../../../src/scheduler/order.js';
import { isTerminal, type JobRecord } from '../../../src/state/index.js';
import { BatchSim } from './sim.js';

const STORM = 120;
const CALM = 250;

function simulate(seed: number): { sim: BatchSim; trace: string[]; violations: string[] } {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const sim = new BatchSim({
    nodes: [{ cpus: 4 }, { cpus: 4 }, { cpus: 8 }, { cpus: 2 }],
    runner: () => ({
      ms: 1000 + Math.floor(random() * 6) * 1000,
      exitCode: random() < 0.25 ? 1 + Math.floor(random() * 3) : 0,
    }),
  });
  const trace: string[] = [];
  const violations: string[] = [];
  const ended = new Map<string, JobRecord>();
  const dead = new Set<string>();

  const check = (): void => {
    for (const job of Object.values(sim.state.jobs)) {
      const spec = sim.state.services[job.serviceId]?.spec.job;
      const tasks = sim.tasksOf(job.id);
      const live = tasks.filter((t) => !isTerminal(t.state));
      const cap = Math.min(spec?.parallelism ?? 1, spec?.array?.maxConcurrent || Infinity);
      if (live.length > cap) violations.push(`job ${job.id}: ${live.length} live tasks, cap ${cap}`);
      const byUnit = new Map<number, { live: number; complete: number }>();
      for (const t of tasks) {
        const u = byUnit.get(t.job!.index) ?? { live: 0, complete: 0 };
        if (!isTerminal(t.state)) u.live++;
        if (t.state === 'complete') u.complete++;
        byUnit.set(t.job!.index, u);
        if (t.job!.attempt > (spec?.retries ?? 0)) violations.push(`task ${t.id}: attempt ${t.job!.attempt}`);
      }
      for (const [index, u] of byUnit) {
        if (u.live > 1) violations.push(`job ${job.id} index ${index}: ${u.live} live tasks`);
        if (u.complete > 1) violations.push(`job ${job.id} index ${index}: completed ${u.complete} times`);
      }
      const before = ended.get(job.id);
      if (before !== undefined && JSON.stringify(before) !== JSON.stringify(job))
        violations.push(`job ${job.id} changed after it ended: ${before.state} → ${job.state}`);
      if (before === undefined && job.state !== 'PENDING' && job.state !== 'RUNNING') ended.set(job.id, job);
    }
  };

  let previous: WorkloadCommandInput[] = [];
  const updates: Extract<WorkloadCommandInput, { type: 'job.update' }>[] = [];
  for (let round = 0; round < STORM; round++) {
    const r = random();
    if (r < 0.12) {
      const size = 1 + Math.floor(random() * 6);
      const cap = random() < 0.5 ? `%${1 + Math.floor(random() * 3)}` : '';
      const limit = random() < 0.2 ? ', time_limit: 4s' : '';
      const job = `{array: "0-${size - 1}${cap}", retries: ${Math.floor(random() * 3)}, backoff: {initial: 1s, max: 4s}${limit}}`;
      const id = sim.submit({ job, cpus: 1 + Math.floor(random() * 2), namespace: pick(['ml', 'web']) });
      trace.push(`${round}: submit ${id} ${job}`);
    } else if (r < 0.16 && dead.size < 2) {
      const node = pick(sim.nodeIds);
      sim.kill(node);
      dead.add(node);
      trace.push(`${round}: kill ${node.slice(8, 12)}`);
    } else if (r < 0.22 && dead.size > 0) {
      const node = pick([...dead]);
      sim.revive(node);
      dead.delete(node);
      trace.push(`${round}: revive ${node.slice(8, 12)}`);
    } else if (r < 0.27) {
      const running = Object.values(sim.state.tasks).filter(
        (t) => t.state === 'running' && t.desiredState === 'running',
      );
      if (running.length > 0) {
        const victim = pick(running);
        sim.apply({ type: 'task.preempt', taskIds: [victim.id] });
        trace.push(`${round}: preempt ${victim.id}`);
      }
    } else if (r < 0.3) {
      const open = Object.values(sim.state.jobs).filter((j) => j.state === 'PENDING' || j.state === 'RUNNING');
      if (open.length > 0) {
        const job = pick(open);
        sim.apply({ type: 'job.cancel', jobIds: [job.id], reason: 'cancelled in the storm' });
        trace.push(`${round}: cancel ${job.id}`);
      }
    }
    if (random() < 0.1) {
      const keep = Math.floor(random() * sim.plan().length);
      trace.push(`${round}: leader dies after ${keep} commands`);
      previous = sim.step(1000, keep);
    } else if (random() < 0.2 && updates.length > 0) {
      // An old job update committed again, late (proposed twice across leader changes): apply
      // must ignore it for a job that has ended since.
      const stale = pick(updates);
      trace.push(`${round}: stale job.update of ${stale.updates.map((u) => `${u.jobId}:${u.state}`).join(',')}`);
      previous = sim.step();
      sim.apply(stale);
    } else previous = sim.step();
    for (const c of previous) if (c.type === 'job.update') updates.push(c);
    check();
  }
  for (const node of dead) sim.revive(node);
  trace.push('calm');
  for (let round = 0; round < CALM; round++) {
    if (Object.values(sim.state.jobs).every((j) => j.state !== 'PENDING' && j.state !== 'RUNNING')) break;
    sim.step();
    check();
  }
  return { sim, trace, violations };
}

describe('batch pipeline: storm', () => {
  it.each([11, 22, 33, 44, 55, 66])('reconcileWorkloads() keeps the batch invariants (seed %i)', (seed) => {
    const { sim, trace, violations } = simulate(seed);
    const context = `seed ${seed}\n${trace.join('\n')}\njobs: ${sim.describeJobs()}`;
    expect({ violations: violations.slice(0, 5), context }).toEqual({ violations: [], context });
    const jobs = Object.values(sim.state.jobs);
    expect(jobs.length).toBeGreaterThan(3);
    for (const job of jobs) {
      expect({ id: job.id, state: job.state, context }).not.toMatchObject({
        state: expect.stringMatching(/PENDING|RUNNING/),
      });
      if (job.state === 'COMPLETED') {
        const done = sim.tasksOf(job.id).filter((t) => t.state === 'complete');
        expect(done.map((t) => t.job!.index).sort((a, b) => a - b)).toEqual(
          Array.from({ length: job.units }, (_, i) => i),
        );
        expect(job.succeeded).toBe(job.units);
      }
      if (job.state === 'FAILED') expect(job.failed).toBeGreaterThan(0);
    }
    expect(sim.state.usage['ml']?.value ?? 0).toBeGreaterThanOrEqual(0);
  });
});
