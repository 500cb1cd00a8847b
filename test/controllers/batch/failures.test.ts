/**
 * Failures through the whole pipeline: a node dying under running units (requeue or NODE_FAIL),
 * leaders dying mid-pass (a prefix of a pass's commands applied), duplicated job updates, and
 * preemption requeues. The invariant in all of them: a unit is counted once, a job ends once.
 */
import { seededRandom } from '../../../src/scheduler/order.js';
import type { JobUpdate } from '../../../src/state/job-commands.js';
import type { TaskRecord } from '../../../src/state/index.js';
import { BatchSim } from './sim.js';

/** Complete tasks per unit index: each must be exactly 1 once a job COMPLETED. */
function completionsByIndex(tasks: readonly TaskRecord[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of tasks) if (t.state === 'complete') out.set(t.job!.index, (out.get(t.job!.index) ?? 0) + 1);
  return out;
}

describe('batch pipeline: failures', () => {
  describe('node failure', () => {
    it('requeues the units of a dead node elsewhere (requeues + 1, same attempt) and completes once', () => {
      const sim = new BatchSim({
        nodes: [{}, {}, {}],
        runner: (t) => ({ ms: t.job!.requeues > 0 ? 2000 : 20_000, exitCode: 0 }),
      });
      const id = sim.submit({ job: '{array: "0-5"}', cpus: 1 });
      sim.runUntil(() => sim.tasksOf(id).filter((t) => t.state === 'running').length === 6, 10);
      const victim = sim.tasksOf(id)[0]!.nodeId!;
      const lost = sim.tasksOf(id).filter((t) => t.nodeId === victim);
      expect(lost.length).toBeGreaterThan(0);
      sim.kill(victim);
      sim.runToEnd(80);

      for (const t of lost) {
        const now = sim.state.tasks[t.id]!;
        expect(now).toMatchObject({ state: 'orphaned', outcome: 'NODE_FAIL', desiredState: 'shutdown' });
        const again = sim.tasksOf(id).filter((x) => x.job!.index === t.job!.index && x.id !== t.id);
        expect(again).toHaveLength(1);
        expect(again[0]!.job).toEqual({ jobId: id, index: t.job!.index, attempt: 0, requeues: 1 });
        expect(again[0]).toMatchObject({ state: 'complete' });
        expect(again[0]!.nodeId).not.toBe(victim);
      }
      expect(sim.state.nodes[victim]!.status).toBe('down');
      expect(sim.job(id)).toMatchObject({ state: 'COMPLETED', succeeded: 6, failed: 0, units: 6 });
      expect([...completionsByIndex(sim.tasksOf(id)).values()]).toEqual([1, 1, 1, 1, 1, 1]);

      // The node comes back and its runtime reports a lost container as complete: fenced, too late.
      const ended = sim.job(id);
      sim.revive(victim);
      sim.apply({
        type: 'task.report',
        nodeId: victim,
        reports: lost.map((t) => ({
          taskId: t.id,
          generation: t.generation,
          state: 'complete' as const,
          message: 'exited 0',
          exitCode: 0,
          containerId: `c-${t.id}`,
          restarts: 0,
        })),
      });
      for (let i = 0; i < 3; i++) sim.step();
      expect(sim.state.nodes[victim]!.status).toBe('ready');
      for (const t of lost) expect(sim.state.tasks[t.id]!.state).toBe('orphaned');
      expect(sim.job(id)).toEqual(ended);
    });

    it('ends a job NODE_FAIL when its node dies and requeue is false', () => {
      const sim = new BatchSim({ runner: () => ({ ms: 20_000, exitCode: 0 }) });
      const id = sim.submit({ job: '{requeue: false}' });
      sim.runUntil(() => sim.tasksOf(id)[0]?.state === 'running', 10);
      sim.kill(sim.tasksOf(id)[0]!.nodeId!);
      sim.runToEnd(40);

      expect(sim.job(id).state).toBe('NODE_FAIL');
      expect(sim.job(id).reason).toContain('NODE_FAIL');
      expect(sim.tasksOf(id)).toHaveLength(1); // not run again
    });
  });

  describe('out of memory', () => {
    it('reconcileJobs() ends a job OUT_OF_MEMORY when its unit was killed for memory', () => {
      const sim = new BatchSim({ runner: () => ({ ms: 1000, exitCode: 137, oomKilled: true }) });
      const id = sim.submit({});
      sim.runToEnd(30);

      expect(sim.job(id)).toMatchObject({ state: 'OUT_OF_MEMORY', exitCode: 137, failed: 1 });
      expect(sim.job(id).reason).toContain('OUT_OF_MEMORY');
    });

    it('reconcileJobs() ends a job OUT_OF_MEMORY when its main process exited 0 but a child was killed for memory', () => {
      const sim = new BatchSim({ runner: () => ({ ms: 1000, exitCode: 0, oomKilled: true }) });
      const id = sim.submit({});
      sim.runToEnd(30);

      expect(sim.job(id)).toMatchObject({ state: 'OUT_OF_MEMORY', exitCode: 0, succeeded: 0, failed: 1 });
    });

    it.each<[string, number, 'COMPLETED' | 'FAILED' | 'OUT_OF_MEMORY']>([
      ['a retry that succeeds completes the job', 0, 'COMPLETED'],
      ['a retry that exits 3 fails the job (its last run decides)', 3, 'FAILED'],
    ])('reconcileJobs() after a unit killed for memory: %s', (_what, retryExit, state) => {
      let runs = 0;
      const sim = new BatchSim({
        runner: () => (runs++ === 0 ? { ms: 1000, exitCode: 137, oomKilled: true } : { ms: 1000, exitCode: retryExit }),
      });
      const id = sim.submit({ job: '{retries: 1, backoff: {initial: 1s}}' });
      sim.runToEnd(60);

      expect(sim.job(id).state).toBe(state);
    });

    it('reconcileJobs() takes the first failed unit by index: OUT_OF_MEMORY only when that one was killed for memory', () => {
      const sim = new BatchSim({
        runner: (t) => (t.job!.index === 0 ? { ms: 1000, exitCode: 2 } : { ms: 1000, exitCode: 137, oomKilled: true }),
      });
      const failedFirst = sim.submit({ job: '{array: "0-1"}' });
      sim.runToEnd(40);
      expect(sim.job(failedFirst)).toMatchObject({ state: 'FAILED', exitCode: 2, failed: 2 });
    });

    it('afterok on a job that ran out of memory is never satisfied; afternotok runs', () => {
      const sim = new BatchSim({
        runner: (t, job) =>
          job?.name === 'oom' ? { ms: 1000, exitCode: 137, oomKilled: true } : { ms: 1000, exitCode: 0 },
      });
      const a = sim.submit({ name: 'oom' });
      const ok = sim.submit({ name: 'ok', dependencies: [{ type: 'afterok', jobId: a }] });
      const not = sim.submit({ name: 'not', dependencies: [{ type: 'afternotok', jobId: a }] });
      sim.runToEnd(40);

      expect(sim.job(a).state).toBe('OUT_OF_MEMORY');
      expect(sim.job(ok)).toMatchObject({ state: 'CANCELLED' });
      expect(sim.job(ok).reason).toContain(`job ${a} ended OUT_OF_MEMORY`);
      expect(sim.job(not).state).toBe('COMPLETED');
    });
  });

  describe('exactly once across leader changes', () => {
    it.each([1, 2, 3, 4, 5])('a leader dying mid-pass (seed %i) still counts every unit once', (seed) => {
      const random = seededRandom(seed);
      const sim = new BatchSim({
        nodes: [{}, {}, {}],
        runner: (t) => ({
          ms: 1000 + 1000 * (t.job!.index % 3),
          exitCode: t.job!.attempt === 0 && t.job!.index === 2 ? 1 : 0,
        }),
      });
      const id = sim.submit({ job: '{array: "0-7%3", retries: 1, backoff: {initial: 1s}}', cpus: 1 });
      let cuts = 0;
      sim.runUntil(() => {
        if (random() < 0.3) {
          const commands = sim.plan().length; // what the dying leader would have proposed
          const keep = Math.floor(random() * commands);
          sim.step(1000, keep);
          cuts++;
        }
        return sim.job(id).state === 'COMPLETED';
      }, 200);

      expect(cuts).toBeGreaterThan(0);
      expect(sim.job(id)).toMatchObject({ succeeded: 8, failed: 0, units: 8, exitCode: 0 });
      expect([...completionsByIndex(sim.tasksOf(id)).entries()].sort((a, b) => a[0] - b[0])).toEqual(
        [0, 1, 2, 3, 4, 5, 6, 7].map((i) => [i, 1]),
      );
      expect(
        sim
          .tasksOf(id)
          .filter((t) => t.job!.index === 2)
          .map((t) => t.job!.attempt),
      ).toEqual([0, 1]);
      expect(sim.peakLive.get(id)).toBeLessThanOrEqual(3);
    });

    it('job.update applied twice (or after the end) records the job once', () => {
      const sim = new BatchSim();
      const id = sim.submit({ job: '{array: "0-1"}' });
      let final: JobUpdate | undefined;
      const seen: JobUpdate[] = [];
      sim.runUntil(() => {
        const before = sim.job(id);
        if (before.state === 'COMPLETED') return true;
        const commands = sim.plan();
        for (const c of commands) {
          sim.apply(c);
          if (c.type === 'job.update') {
            sim.apply(c); // proposed again by a new leader that did not see it commit
            seen.push(...c.updates);
            final = c.updates.find((u) => u.jobId === id && u.state === 'COMPLETED') ?? final;
          }
        }
        return false;
      }, 30);
      expect(final).toBeDefined();
      const ended = sim.job(id);
      expect(ended).toMatchObject({ state: 'COMPLETED', succeeded: 2, failed: 0 });

      sim.now += 5000;
      sim.apply({ type: 'job.update', updates: [final!] });
      sim.apply({ type: 'job.update', updates: [{ ...seen[0]!, state: 'RUNNING', succeeded: 0 }] });
      sim.apply({
        type: 'job.update',
        updates: [{ ...final!, state: 'FAILED', exitCode: 1, failed: 2, succeeded: 0 }],
      });
      sim.apply({ type: 'job.cancel', jobIds: [id], reason: 'too late' });
      expect(sim.job(id)).toEqual(ended);
    });
  });

  it('task.preempt requeues the unit (requeues + 1, same attempt) without using a retry', () => {
    const sim = new BatchSim({ runner: (t) => ({ ms: t.job!.requeues > 0 ? 1000 : 60_000, exitCode: 0 }) });
    const id = sim.submit({ job: '{retries: 0}' });
    sim.runUntil(() => sim.tasksOf(id)[0]?.state === 'running', 10);
    const victim = sim.tasksOf(id)[0]!;
    sim.apply({ type: 'task.preempt', taskIds: [victim.id] });
    expect(sim.state.tasks[victim.id]).toMatchObject({ desiredState: 'shutdown', outcome: 'PREEMPTED' });

    sim.runToEnd(30);
    expect(sim.state.tasks[victim.id]).toMatchObject({ state: 'shutdown', outcome: 'PREEMPTED' });
    const tasks = sim.tasksOf(id);
    expect(tasks.map((t) => t.job)).toEqual([
      { jobId: id, index: 0, attempt: 0, requeues: 0 },
      { jobId: id, index: 0, attempt: 0, requeues: 1 },
    ]);
    expect(sim.job(id)).toMatchObject({ state: 'COMPLETED', succeeded: 1, failed: 0 });
    // An older command without `by` stays valid and names no one.
    expect(sim.state.tasks[victim.id]!.stopReason).toBeUndefined();
  });

  it('task.preempt with by names the preemptor; by must match taskIds one for one', () => {
    const sim = new BatchSim({ runner: () => ({ ms: 60_000, exitCode: 0 }) });
    const id = sim.submit({});
    sim.runUntil(() => sim.tasksOf(id)[0]?.state === 'running', 10);
    const victim = sim.tasksOf(id)[0]!;
    expect(() => sim.apply({ type: 'task.preempt', taskIds: [victim.id], by: [] })).toThrow(
      /by: expected one entry per task id \(1\), got 0/,
    );
    sim.apply({ type: 'task.preempt', taskIds: [victim.id], by: [{ taskId: 't-17', jobId: '17', priority: 500 }] });
    expect(sim.state.tasks[victim.id]).toMatchObject({
      desiredState: 'shutdown',
      outcome: 'PREEMPTED',
      stopReason: 'preempted by job 17 (priority 500)',
    });
  });
});
