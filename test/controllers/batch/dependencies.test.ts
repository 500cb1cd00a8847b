/**
 * Slurm dependencies through the whole pipeline: afterok, afternotok and afterany, with jobs that
 * really run (or fail) on the simulated nodes.
 */
import type { JobRecord, TaskRecord } from '../../../src/state/index.js';
import { BatchSim } from './sim.js';

/** Jobs named `fail*` exit 1 after 2 s; the others succeed after 2 s. */
const byName = (_t: TaskRecord, job: JobRecord | undefined) => ({
  ms: 2000,
  exitCode: job?.name.startsWith('fail') ? 1 : 0,
});

describe('batch pipeline: dependencies', () => {
  it('afterok waits (reason Dependency...) until its target completes, then runs', () => {
    const sim = new BatchSim({ runner: byName });
    const a = sim.submit({ name: 'a' });
    const b = sim.submit({ name: 'b', dependencies: [{ type: 'afterok', jobId: a }] });
    sim.runUntil(() => sim.job(a).state === 'RUNNING', 10);
    sim.step();
    expect(sim.job(b).state).toBe('PENDING');
    expect(sim.job(b).reason).toMatch(/^Dependency/);
    expect(sim.job(b).reason).toContain(`afterok:${a}`);
    expect(sim.tasksOf(b)).toHaveLength(0);

    sim.runToEnd(40);
    expect(sim.job(a).state).toBe('COMPLETED');
    expect(sim.job(b)).toMatchObject({ state: 'COMPLETED', reason: '' });
    expect(sim.tasksOf(b)[0]!.createdAt).toBeGreaterThanOrEqual(sim.job(a).endedAt!);
  });

  it('afterok on a job that fails cancels the dependant with DependencyNeverSatisfied', () => {
    const sim = new BatchSim({ runner: byName });
    const a = sim.submit({ name: 'fail-a' });
    const c = sim.submit({ name: 'c', dependencies: [{ type: 'afterok', jobId: a }] });
    sim.runToEnd(40);

    expect(sim.job(a).state).toBe('FAILED');
    expect(sim.job(c).state).toBe('CANCELLED');
    expect(sim.job(c).reason).toMatch(/^DependencyNeverSatisfied/);
    expect(sim.job(c).reason).toContain(`afterok:${a}`);
    expect(sim.tasksOf(c)).toHaveLength(0);
  });

  it('afternotok runs after a failure and is cancelled after a success', () => {
    const sim = new BatchSim({ runner: byName });
    const bad = sim.submit({ name: 'fail-x' });
    const good = sim.submit({ name: 'y' });
    const onBad = sim.submit({ name: 'cleanup-x', dependencies: [{ type: 'afternotok', jobId: bad }] });
    const onGood = sim.submit({ name: 'cleanup-y', dependencies: [{ type: 'afternotok', jobId: good }] });
    sim.runToEnd(60);

    expect(sim.job(onBad).state).toBe('COMPLETED');
    expect(sim.tasksOf(onBad)).toHaveLength(1);
    expect(sim.job(onGood).state).toBe('CANCELLED');
    expect(sim.job(onGood).reason).toMatch(/^DependencyNeverSatisfied: afternotok/);
  });

  it('afterany runs after its targets end, whatever their outcome', () => {
    const sim = new BatchSim({ runner: byName });
    const bad = sim.submit({ name: 'fail-x', job: '{array: "0-2"}' });
    const good = sim.submit({ name: 'y' });
    const after = sim.submit({
      name: 'report',
      dependencies: [
        { type: 'afterany', jobId: bad },
        { type: 'afterany', jobId: good },
      ],
    });
    sim.runToEnd(60);

    expect(sim.job(bad).state).toBe('FAILED');
    expect(sim.job(good).state).toBe('COMPLETED');
    expect(sim.job(after).state).toBe('COMPLETED');
    const started = sim.tasksOf(after)[0]!.createdAt;
    expect(started).toBeGreaterThanOrEqual(Math.max(sim.job(bad).endedAt!, sim.job(good).endedAt!));
  });

  it('a dependency chain runs in order: a → b (afterok) → c (afterok)', () => {
    const sim = new BatchSim({ runner: byName });
    const a = sim.submit({ name: 'a' });
    const b = sim.submit({ name: 'b', dependencies: [{ type: 'afterok', jobId: a }] });
    const c = sim.submit({ name: 'c', dependencies: [{ type: 'afterok', jobId: b }] });
    sim.runToEnd(60);

    expect([a, b, c].map((id) => sim.job(id).state)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(sim.job(b).startedAt!).toBeGreaterThanOrEqual(sim.job(a).endedAt!);
    expect(sim.job(c).startedAt!).toBeGreaterThanOrEqual(sim.job(b).endedAt!);
  });
});
