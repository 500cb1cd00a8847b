/**
 * Stack job services (a deploy starts a run; pipelines link by name), job garbage collection, and
 * fair-share usage, through the whole pipeline.
 */
import type { JobRecord, TaskRecord } from '../../../src/state/index.js';
import { collectJobs, DEFAULT_MIN_JOB_AGE_MS } from '../../../src/controllers/index.js';
import { BatchSim, stackOf } from './sim.js';

const TRAIN = (image: string) => `
services:
  train:
    image: ${image}
    x-shoal:
      kind: job
`;

/** `first` depends on `second` (afterok) or the other way round, to check that name order does not matter. */
const PIPELINE = (upstream: string, downstream: string) => `
services:
  ${downstream}:
    image: busybox:1.36
    x-shoal:
      kind: job
      job:
        dependencies: ["afterok:${upstream}"]
  ${upstream}:
    image: busybox:1.36
    x-shoal:
      kind: job
`;

const runsOf = (sim: BatchSim, serviceId: string): JobRecord[] =>
  Object.values(sim.state.jobs).filter((j) => j.serviceId === serviceId);

describe('batch pipeline: stack job services', () => {
  it('stack.deploy starts a run of a job service; an unchanged redeploy does not, a changed one does', () => {
    const sim = new BatchSim();
    sim.deploy(stackOf(TRAIN('trainer:1'), 'ml'));
    expect(runsOf(sim, 'ml_train')).toHaveLength(1);
    sim.runToEnd(20);
    expect(runsOf(sim, 'ml_train')[0]).toMatchObject({ state: 'COMPLETED', name: 'train', serviceVersion: 1 });

    sim.deploy(stackOf(TRAIN('trainer:1'), 'ml'));
    for (let i = 0; i < 3; i++) sim.step();
    expect(runsOf(sim, 'ml_train')).toHaveLength(1);
    expect(sim.tasksOf(runsOf(sim, 'ml_train')[0]!.id)).toHaveLength(1);

    sim.deploy(stackOf(TRAIN('trainer:2'), 'ml'));
    const runs = runsOf(sim, 'ml_train');
    expect(runs.map((j) => [j.state, j.serviceVersion])).toEqual([
      ['COMPLETED', 1],
      ['PENDING', 2],
    ]);
    sim.runToEnd(20);
    expect(runsOf(sim, 'ml_train')[1]!.state).toBe('COMPLETED');
    expect(sim.tasksOf(runs[1]!.id)[0]!.serviceVersion).toBe(2);
  });

  it('a changed job service supersedes its unfinished run: cancelled, its tasks stopped', () => {
    const ARRAY = (array: string, image: string) => `
services:
  train:
    image: ${image}
    x-shoal:
      kind: job
      job: {array: "${array}"}
`;
    const sim = new BatchSim({ nodes: [{ cpus: 16 }], runner: () => ({ ms: 5000, exitCode: 0 }) });
    sim.deploy(stackOf(ARRAY('0-9%2', 'trainer:1'), 'ml'));
    sim.runUntil(() => sim.tasksOf('1').some((t) => t.state === 'running'), 5);
    sim.deploy(stackOf(ARRAY('100-101', 'trainer:2'), 'ml'));
    const before = new Set(sim.tasksOf('1').map((t) => t.id));
    sim.runToEnd(60);

    expect(sim.job('1').state).toBe('CANCELLED');
    expect(sim.job('1').reason).toMatch(/^Superseded: service ml_train changed to version 2/);
    expect(sim.tasksOf('1').every((t) => before.has(t.id))).toBe(true); // nothing new for the old run
    expect(sim.tasksOf('1').every((t) => t.job!.index < 10)).toBe(true);
    expect(sim.job('2')).toMatchObject({ state: 'COMPLETED', succeeded: 2, serviceVersion: 2 });
    expect(sim.tasksOf('2').map((t) => t.job!.index)).toEqual([100, 101]);
  });

  it.each([
    ['a', 'b'],
    ['b', 'a'],
  ])('two job services link by x-shoal.job.dependencies (%s runs before %s)', (up, down) => {
    const sim = new BatchSim({ runner: () => ({ ms: 3000, exitCode: 0 }) });
    sim.deploy(stackOf(PIPELINE(up, down), 'etl'));
    const [upstream] = runsOf(sim, `etl_${up}`);
    const [downstream] = runsOf(sim, `etl_${down}`);
    expect(downstream!.dependencies).toEqual([{ type: 'afterok', jobId: upstream!.id }]);
    expect(upstream!.dependencies).toEqual([]);

    sim.runToEnd(40);
    expect(sim.job(upstream!.id).state).toBe('COMPLETED');
    expect(sim.job(downstream!.id).state).toBe('COMPLETED');
    expect(sim.tasksOf(downstream!.id)[0]!.createdAt).toBeGreaterThanOrEqual(sim.job(upstream!.id).endedAt!);
  });

  it('stack.remove cancels a running run of its job service and stops its task', () => {
    const sim = new BatchSim({ runner: () => ({ ms: 60_000, exitCode: 0 }) });
    sim.deploy(stackOf(TRAIN('trainer:1'), 'ml'));
    const [run] = runsOf(sim, 'ml_train');
    sim.runUntil(() => sim.job(run!.id).state === 'RUNNING', 10);
    sim.apply({ type: 'stack.remove', name: 'ml' });
    expect(sim.job(run!.id)).toMatchObject({ state: 'CANCELLED', reason: 'its service was removed' });
    sim.runUntil(() => sim.liveTasksOf(run!.id).length === 0, 5);
    for (let i = 0; i < 3; i++) sim.step();
    expect(sim.tasksOf(run!.id).map((t) => t.state)).toEqual(['shutdown']);
    expect(sim.job(run!.id).state).toBe('CANCELLED');
  });

  it('a pipeline deployed after older jobs were collected still links up', () => {
    const sim = new BatchSim({ jobHistory: { jobs: 1, minAgeMs: 0 }, runner: () => ({ ms: 2000, exitCode: 0 }) });
    sim.submit({ name: 'old-1' });
    sim.submit({ name: 'old-2' });
    sim.runToEnd(20);
    sim.runUntil(() => !('1' in sim.state.jobs), 5); // job 1 collected, job 2 kept
    sim.deploy(stackOf(PIPELINE('a', 'b'), 'etl'));
    const [a] = runsOf(sim, 'etl_a');
    const [b] = runsOf(sim, 'etl_b');
    expect(b!.dependencies).toEqual([{ type: 'afterok', jobId: a!.id }]);
  });
});

describe('batch pipeline: job GC', () => {
  it('removes ended jobs beyond the history limit with their tasks and services, never running ones', () => {
    // Job n runs n seconds, so they end in id order; job 5 runs "for ever".
    const sim = new BatchSim({
      jobHistory: { jobs: 2, minAgeMs: 0 },
      nodes: [{ cpus: 8 }, { cpus: 8 }],
      runner: (_t, job) => ({ ms: job!.name === 'long' ? 600_000 : Number(job!.id) * 1000, exitCode: 0 }),
    });
    sim.deploy(stackOf(TRAIN('trainer:1'), 'ml')); // job 1, a stack run
    const ids = [sim.submit(), sim.submit(), sim.submit()]; // 2, 3, 4
    const long = sim.submit({ name: 'long' }); // 5
    const tasks = new Map<string, TaskRecord[]>();
    sim.runUntil(() => {
      for (const id of Object.keys(sim.state.jobs)) tasks.set(id, sim.tasksOf(id));
      return ['3', '4'].every((id) => sim.state.jobs[id]?.state === 'COMPLETED') && !('2' in sim.state.jobs);
    }, 40);
    for (let i = 0; i < 3; i++) sim.step();

    expect(Object.keys(sim.state.jobs).sort()).toEqual(['3', '4', '5']);
    expect(sim.job(long).state).toBe('RUNNING');
    for (const gone of ['1', '2']) {
      expect(tasks.get(gone)!.length).toBeGreaterThan(0);
      for (const t of tasks.get(gone)!) expect(sim.state.tasks[t.id]).toBeUndefined();
    }
    expect(sim.state.services['job_2']).toBeUndefined(); // a submitted job's own service goes with it
    expect(sim.state.services['ml_train']).toBeDefined(); // a stack's service stays
    expect(sim.state.services[`job_${ids[1]}`]).toBeDefined();
    expect(sim.tasksOf('3')).toHaveLength(1);

    // Even asked directly, apply keeps a running job (and its tasks).
    sim.apply({ type: 'job.remove', jobIds: [long, '3'] });
    expect(Object.keys(sim.state.jobs).sort()).toEqual(['4', '5']);
    expect(sim.liveTasksOf(long)).toHaveLength(1);
  });
});

describe('batch pipeline: job GC by tasks', () => {
  it('keeps ended jobs only while their tasks fit the budget, and always the newest ended job', () => {
    const sim = new BatchSim({
      jobHistory: { tasks: 10, minAgeMs: 0 },
      nodes: [{ cpus: 16 }],
      runner: (_t, job) => ({ ms: Number(job!.id) * 1000, exitCode: 0 }), // they end in id order
    });
    const small = sim.submit({ job: '{array: "0-3"}', cpus: 1 }); // 4 units
    const medium = sim.submit({ job: '{array: "0-5"}', cpus: 1 }); // 6 units
    const big = sim.submit({ job: '{array: "0-11"}', cpus: 1 }); // 12 units, alone over the budget
    sim.runUntil(() => sim.state.jobs[big]?.state === 'COMPLETED' && !(medium in sim.state.jobs), 60);
    for (let i = 0; i < 3; i++) sim.step();

    // newest first: big (12, kept as the newest), then medium (18 > 10: gone), small (gone)
    expect(Object.keys(sim.state.jobs)).toEqual([big]);
    expect(sim.tasksOf(big)).toHaveLength(12);
    expect(Object.values(sim.state.tasks).filter((t) => t.job?.jobId === small)).toEqual([]);
  });

  it('a small newer job keeps older ones within the budget', () => {
    const sim = new BatchSim({
      jobHistory: { tasks: 10, minAgeMs: 0 },
      nodes: [{ cpus: 16 }],
      runner: (_t, job) => ({ ms: Number(job!.id) * 1000, exitCode: 0 }),
    });
    const a = sim.submit({ job: '{array: "0-3"}', cpus: 1 }); // 4
    const b = sim.submit({ job: '{array: "0-3"}', cpus: 1 }); // 4
    const c = sim.submit({ job: '{array: "0-3"}', cpus: 1 }); // 4: c + b = 8 kept, a makes 12
    sim.runUntil(() => sim.state.jobs[c]?.state === 'COMPLETED' && !(a in sim.state.jobs), 60);
    expect(Object.keys(sim.state.jobs).sort()).toEqual([b, c].sort());
  });
});

describe('batch pipeline: what job GC always keeps', () => {
  it('counts every task of a job (retries too), not its units', () => {
    const sim = new BatchSim({
      jobHistory: { tasks: 3, minAgeMs: 0 },
      nodes: [{ cpus: 16 }],
      runner: (_t, job) => ({ ms: Number(job!.id) * 1000, exitCode: job!.name === 'flaky' ? 1 : 0 }),
    });
    const flaky = sim.submit({ name: 'flaky', job: '{retries: 3, backoff: {initial: 1s}}' }); // 1 unit, 4 runs
    const ok = sim.submit({ name: 'ok' });
    sim.runUntil(() => sim.state.jobs[ok]?.state === 'COMPLETED' && sim.state.jobs[flaky]?.state === 'FAILED', 60);
    expect(sim.tasksOf(flaky)).toHaveLength(4);
    // The failed job ends last (four runs); the completed one is then over the budget: 4 + 1 > 3.
    sim.runUntil(() => !(ok in sim.state.jobs), 5);
    expect(Object.keys(sim.state.jobs)).toEqual([flaky]);
  });

  it('keeps a job that ended less than the minimum age ago, however big, then lets it go', () => {
    const sim = new BatchSim({
      jobHistory: { tasks: 10 }, // the default minimum age: 5 minutes
      nodes: [{ cpus: 16 }],
      runner: (_t, job) => ({ ms: Number(job!.id) * 1000, exitCode: 0 }),
    });
    const small = sim.submit({ job: '{array: "0-3"}', cpus: 1 });
    const big = sim.submit({ job: '{array: "0-11"}', cpus: 1 });
    sim.runUntil(() => sim.state.jobs[big]?.state === 'COMPLETED', 60);
    const endedAt = sim.job(small).endedAt!;
    sim.runUntil(() => sim.now >= endedAt + DEFAULT_MIN_JOB_AGE_MS - 2000, 400);
    expect(Object.keys(sim.state.jobs).sort()).toEqual([small, big].sort());
    sim.runUntil(() => !(small in sim.state.jobs), 10);
    expect(sim.now).toBeGreaterThan(endedAt + DEFAULT_MIN_JOB_AGE_MS);
    expect(Object.keys(sim.state.jobs)).toEqual([big]);
  });

  it('keeps an ended job while a job that has not ended depends on it', () => {
    const sim = new BatchSim({
      jobHistory: { jobs: 0, minAgeMs: 0 },
      nodes: [{ cpus: 16 }],
      runner: (_t, job) => ({ ms: job!.name === 'slow' ? 30_000 : 1000, exitCode: job!.name === 'bad' ? 1 : 0 }),
    });
    const bad = sim.submit({ name: 'bad' });
    const slow = sim.submit({ name: 'slow' });
    const deps = [
      { type: 'afterany', jobId: bad },
      { type: 'afterok', jobId: slow },
    ] as const;
    const after = sim.submit({ name: 'after', dependencies: deps });
    const start = sim.now;
    sim.runUntil(() => sim.now > start + 20_000, 25);
    expect(sim.job(bad).state).toBe('FAILED'); // ended long ago, kept for the job that waits on it
    expect(sim.job(after)).toMatchObject({ state: 'PENDING', reason: `Dependency: waits for afterok:${slow}` });
    sim.runUntil(() => sim.state.jobs[after]?.state === 'COMPLETED', 30);
    sim.runUntil(() => Object.keys(sim.state.jobs).length === 0, 5);
  });

  it('refuses limits that are not integers >= 0', () => {
    const sim = new BatchSim();
    expect(() => collectJobs(sim.state, 0, { tasks: Number.NaN })).toThrow(RangeError);
    expect(() => collectJobs(sim.state, 0, { jobs: -1 })).toThrow(/integer >= 0/);
    expect(() => collectJobs(sim.state, 0, { minAgeMs: 1.5 })).toThrow(RangeError);
  });
});

describe('batch pipeline: fair-share usage', () => {
  it('charges a namespace cpus × run time of its ended job tasks', () => {
    const sim = new BatchSim({
      nodes: [{ cpus: 8 }, { cpus: 8 }],
      runner: (t) => ({ ms: 2000 + 1000 * t.job!.index, exitCode: t.job!.index === 3 ? 1 : 0 }),
    });
    const ml = sim.submit({ namespace: 'ml', cpus: 2, job: '{array: "0-3"}' });
    const other = sim.submit({ namespace: 'web', cpus: 1 });
    expect(sim.state.usage['ml']).toBeUndefined();
    sim.runToEnd(40);

    const expected = sim.tasksOf(ml).reduce((sum, t) => sum + 2 * (t.endedAt! - t.startedAt!), 0);
    expect(expected).toBeGreaterThan(2 * (2000 + 3000 + 4000 + 5000) - 1); // a failed run is charged too
    const charged = sim.state.usage['ml']!.value;
    expect(Math.abs(charged - expected) / expected).toBeLessThan(1e-3); // decay over seconds of a 7-day half-life
    const web = sim.tasksOf(other)[0]!;
    expect(sim.state.usage['web']!.value).toBeCloseTo(web.endedAt! - web.startedAt!, -1);
    expect(sim.tasksOf(ml).every((t) => t.usage !== undefined && t.usage.cpuMs > 0)).toBe(true);

    // A terminal report delivered again (a runtime retrying after a lost answer) is not charged again.
    const usage = sim.state.usage;
    const done = sim.tasksOf(ml)[0]!;
    sim.now += 10_000;
    sim.apply({
      type: 'task.report',
      nodeId: done.nodeId!,
      reports: [
        {
          taskId: done.id,
          generation: done.generation,
          state: 'complete',
          message: done.message,
          exitCode: 0,
          containerId: done.containerId,
          restarts: 0,
          usage: done.usage!,
        },
      ],
    });
    expect(sim.state.usage).toBe(usage);
  });
});
