/**
 * The batch pipeline end to end (real apply + real controllers + simulated runtimes): a job's
 * life from PENDING to its terminal state, arrays and their `%N` cap, retries with back-off,
 * time limits, begin times and cancellation.
 */
import { T0 } from '../../state/helpers.js';
import { BatchSim } from './sim.js';

describe('batch pipeline: job lifecycle', () => {
  it('reconcileWorkloads() runs a 1-unit job PENDING → RUNNING → COMPLETED', () => {
    const sim = new BatchSim({ runner: () => ({ ms: 3000, exitCode: 0 }) });
    const id = sim.submit({ name: 'hello' });
    const seen = [sim.job(id).state];
    sim.runUntil(() => {
      const state = sim.job(id).state;
      if (seen[seen.length - 1] !== state) seen.push(state);
      return state === 'COMPLETED';
    }, 30);

    expect(seen).toEqual(['PENDING', 'RUNNING', 'COMPLETED']);
    const job = sim.job(id);
    expect(job).toMatchObject({ exitCode: 0, succeeded: 1, failed: 0, units: 1, reason: '' });
    const tasks = sim.tasksOf(id);
    // The job's times are its task's, not when the controller noticed (a pass later).
    expect(job.startedAt).toBe(tasks[0]!.startedAt);
    expect(job.endedAt).toBe(tasks[0]!.endedAt);
    expect(job.endedAt!).toBeGreaterThanOrEqual(job.startedAt! + 3000);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.job).toEqual({ jobId: id, index: 0, attempt: 0, requeues: 0 });
    expect(tasks[0]).toMatchObject({ state: 'complete', exitCode: 0, serviceId: `job_${id}` });
    expect(tasks[0]!.usage?.cpuMs).toBeGreaterThan(0);
  });

  it('reconcileWorkloads() keeps an array 0-9%2 to 2 live tasks and completes every index once', () => {
    const sim = new BatchSim({ nodes: [{ cpus: 8 }, { cpus: 8 }], runner: () => ({ ms: 2000, exitCode: 0 }) });
    const id = sim.submit({ job: '{array: "0-9%2"}' });
    let maxLive = 0;
    sim.runUntil(() => {
      maxLive = Math.max(maxLive, sim.liveTasksOf(id).length);
      return sim.job(id).state === 'COMPLETED';
    }, 100);

    expect(maxLive).toBe(2); // the cap was reached, never passed
    expect(sim.peakLive.get(id)).toBe(2);
    const completed = sim.tasksOf(id).filter((t) => t.state === 'complete');
    expect(completed.map((t) => t.job!.index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sim.tasksOf(id)).toHaveLength(10);
    expect(sim.job(id)).toMatchObject({ state: 'COMPLETED', succeeded: 10, failed: 0, units: 10, exitCode: 0 });
  });

  it('reconcileWorkloads() runs `completions` units at most `parallelism` at a time', () => {
    const sim = new BatchSim({ nodes: [{ cpus: 8 }], runner: () => ({ ms: 3000, exitCode: 0 }) });
    const id = sim.submit({ job: '{completions: 5, parallelism: 2}' });
    sim.runToEnd(50);

    expect(sim.peakLive.get(id)).toBe(2);
    expect(sim.tasksOf(id).map((t) => t.job!.index)).toEqual([0, 1, 2, 3, 4]);
    expect(sim.job(id)).toMatchObject({ state: 'COMPLETED', units: 5, succeeded: 5 });
  });

  describe('retries', () => {
    const failTwice = { ms: 1000 };
    const runner = (task: { job?: { index: number; attempt: number } }) => ({
      ms: failTwice.ms,
      exitCode: task.job!.index === 6 && task.job!.attempt < 2 ? 3 : 0,
    });
    const job = '{array: "5-6", retries: RETRIES, backoff: {initial: 5s, max: 60s, factor: 2}}';

    it('reconcileWorkloads() retries a failing unit after its back-off until it succeeds', () => {
      const sim = new BatchSim({ runner });
      const id = sim.submit({ job: job.replace('RETRIES', '2') });
      sim.runToEnd(100);

      expect(sim.job(id)).toMatchObject({ state: 'COMPLETED', succeeded: 2, failed: 0, exitCode: 0 });
      const six = sim.tasksOf(id).filter((t) => t.job!.index === 6);
      expect(six.map((t) => [t.job!.attempt, t.job!.requeues, t.state])).toEqual([
        [0, 0, 'failed'],
        [1, 0, 'failed'],
        [2, 0, 'complete'],
      ]);
      // Back-off: 5 s after the first failure, 10 s after the second; never earlier.
      expect(six[1]!.createdAt).toBeGreaterThanOrEqual(six[0]!.endedAt! + 5000);
      expect(six[2]!.createdAt).toBeGreaterThanOrEqual(six[1]!.endedAt! + 10_000);
      expect(six[1]!.createdAt).toBeLessThanOrEqual(six[0]!.endedAt! + 5000 + 2000); // and not forgotten
    });

    it('reconcileWorkloads() fails the job when a unit runs out of retries, naming the index', () => {
      const sim = new BatchSim({ runner });
      const id = sim.submit({ job: job.replace('RETRIES', '1') });
      sim.runToEnd(100);

      const ended = sim.job(id);
      expect(ended).toMatchObject({ state: 'FAILED', exitCode: 3, succeeded: 1, failed: 1 });
      expect(ended.reason).toContain('index 6');
      expect(sim.tasksOf(id).filter((t) => t.job!.index === 6)).toHaveLength(2);
    });
  });

  it('reconcileWorkloads() ends a unit that outlives time_limit as TIMEOUT', () => {
    const sim = new BatchSim({ runner: () => ({ ms: 60_000, exitCode: 0 }) });
    const id = sim.submit({ job: '{time_limit: 5s}' });
    sim.runToEnd(30);

    const job = sim.job(id);
    expect(job.state).toBe('TIMEOUT');
    expect(job.reason).toContain('TIMEOUT');
    const [task] = sim.tasksOf(id);
    expect(task).toMatchObject({ state: 'failed', outcome: 'TIMEOUT' });
    expect(task!.endedAt! - task!.startedAt!).toBeGreaterThanOrEqual(5000);
    expect(task!.endedAt! - task!.startedAt!).toBeLessThan(60_000);
  });

  it('reconcileWorkloads() holds a job with a future begin time (BeginTime), then starts it', () => {
    const sim = new BatchSim();
    const beginAt = T0 + 30_000;
    const id = sim.submit({ beginAt });
    sim.runUntil(() => sim.now >= beginAt - 1000, 40);
    expect(sim.job(id)).toMatchObject({ state: 'PENDING' });
    expect(sim.job(id).reason).toMatch(/^BeginTime/);
    expect(sim.tasksOf(id)).toHaveLength(0);

    sim.runToEnd(30);
    expect(sim.job(id).state).toBe('COMPLETED');
    expect(sim.tasksOf(id)[0]!.createdAt).toBeGreaterThanOrEqual(beginAt);
    expect(sim.job(id).reason).toBe('');
  });

  describe('cancel', () => {
    function running(): { sim: BatchSim; id: string } {
      const sim = new BatchSim({ runner: () => ({ ms: 60_000, exitCode: 0 }) });
      const id = sim.submit({ job: '{array: "0-1"}' });
      sim.runUntil(() => sim.job(id).state === 'RUNNING' && sim.tasksOf(id).every((t) => t.state === 'running'), 20);
      return { sim, id };
    }

    it('job.cancel of a running job shuts its tasks down with outcome CANCELLED', () => {
      const { sim, id } = running();
      sim.apply({ type: 'job.cancel', jobIds: [id], reason: 'cancelled by alice' });
      const cancelledAt = sim.now;
      expect(sim.job(id)).toMatchObject({ state: 'CANCELLED', reason: 'cancelled by alice', endedAt: cancelledAt });
      expect(sim.tasksOf(id).map((t) => [t.desiredState, t.outcome])).toEqual([
        ['shutdown', 'CANCELLED'],
        ['shutdown', 'CANCELLED'],
      ]);

      sim.runUntil(() => sim.liveTasksOf(id).length === 0, 10);
      for (let i = 0; i < 5; i++) sim.step();
      expect(sim.tasksOf(id).map((t) => [t.state, t.outcome])).toEqual([
        ['shutdown', 'CANCELLED'],
        ['shutdown', 'CANCELLED'],
      ]);
      expect(sim.job(id)).toMatchObject({ state: 'CANCELLED', endedAt: cancelledAt, succeeded: 0 });
    });

    it('job.cancel ends a task that was never scheduled, so the job can be collected', () => {
      const sim = new BatchSim({ jobHistory: { jobs: 0, minAgeMs: 0 } });
      const id = sim.submit({ cpus: 64 }); // fits no node: its task stays pending
      for (let i = 0; i < 3; i++) sim.step();
      const [task] = sim.tasksOf(id);
      expect(task).toMatchObject({ state: 'pending', nodeId: null });
      expect(task!.message).toContain('never fits: one unit needs 64 CPUs');
      // Why it waits, as a Slurm reason (the scheduler's message, prefixed unless it has one).
      expect(sim.job(id).state).toBe('PENDING');
      expect(sim.job(id).reason).toMatch(/^Resources: never fits: .*\(not enough cpu\)/);
      expect(sim.job(id).reason).toContain(task!.message.replace(/^Resources: /, ''));

      sim.apply({ type: 'job.cancel', jobIds: [id], reason: 'cancelled' });
      expect(sim.state.tasks[task!.id]).toMatchObject({ state: 'shutdown', outcome: 'CANCELLED', endedAt: sim.now });
      sim.runUntil(() => !(id in sim.state.jobs), 5);
      expect(sim.state.tasks[task!.id]).toBeUndefined();
      expect(sim.state.services[`job_${id}`]).toBeUndefined();
    });

    it('a cancelled job stays CANCELLED when its last task then reports complete', () => {
      const { sim, id } = running();
      sim.apply({ type: 'job.cancel', jobIds: [id], reason: 'cancelled' });
      const before = sim.job(id);
      // The containers exited 0 just as the cancel landed: the runtimes report that instead.
      for (const task of sim.tasksOf(id)) {
        sim.apply({
          type: 'task.report',
          nodeId: task.nodeId!,
          reports: [
            {
              taskId: task.id,
              generation: task.generation,
              state: 'complete',
              message: 'exited 0',
              exitCode: 0,
              containerId: `c-${task.id}`,
              restarts: 0,
            },
          ],
        });
      }
      for (let i = 0; i < 5; i++) sim.step();
      expect(sim.tasksOf(id).map((t) => t.state)).toEqual(['complete', 'complete']);
      expect(sim.job(id)).toEqual(before);
      expect(sim.tasksOf(id)).toHaveLength(2); // no new attempt either
    });
  });
});
