import { describe, expect, it } from '@jest/globals';
import {
  decide,
  HPA_DEFAULTS,
  SCALE_TO_ZERO_DEFAULTS,
  type AutoscalePolicy,
  type AutoscalerMemory,
  type TaskObservation,
} from '../../src/autoscale/index.js';
import { seeded } from '../raft/core/support/prng.js';

const policy = (over: Partial<AutoscalePolicy> = {}): AutoscalePolicy => ({
  min: 1,
  max: 20,
  targets: [{ kind: 'cpu', percent: 70, requestCores: 1 }],
  ...HPA_DEFAULTS,
  ...SCALE_TO_ZERO_DEFAULTS,
  ...over,
});

/** Tasks each measured at `percent` of one core (one sample each, just now). */
function tasksAt(now: number, ...percents: (number | null | 'starting')[]): TaskObservation[] {
  return percents.map((p, i) => ({
    taskId: `t${i}`,
    ready: p !== 'starting',
    samples: p === null || p === 'starting' ? [] : [{ at: now - 1000, cpuCores: p / 100, memoryBytes: null }],
  }));
}

/**
 * A service on virtual time: `load(t)` cores in total, shared evenly by its running tasks, each
 * sampled every 5 s with `noise` (relative, uniform ±); a new task runs (and is sampled) from the
 * sample after it was asked for. The autoscaler decides every sync period. Returns the replicas
 * after each sync.
 */
function simulate(options: {
  policy: AutoscalePolicy;
  start: number;
  load: (t: number) => number;
  durationMs: number;
  noise?: number;
  seed?: number;
}): { at: number; replicas: number; reason: string }[] {
  const random = seeded(options.seed ?? 1);
  const noise = options.noise ?? 0;
  let replicas = options.start;
  let memory: AutoscalerMemory | null = null;
  const tasks = new Map<number, { born: number; samples: { at: number; cpuCores: number; memoryBytes: null }[] }>();
  const history: { at: number; replicas: number; reason: string }[] = [];
  for (let i = 0; i < replicas; i++) tasks.set(i, { born: -Infinity, samples: [] });
  for (let t = 0; t <= options.durationMs; t += 5_000) {
    const running = [...tasks.values()].filter((task) => task.born < t);
    for (const task of running) {
      const share = options.load(t) / running.length;
      task.samples.push({ at: t, cpuCores: share * (1 + noise * (2 * random() - 1)), memoryBytes: null });
      task.samples = task.samples.filter((s) => s.at > t - 60_000);
    }
    if (t % options.policy.syncPeriodMs !== 0 || t === 0) continue;
    const observed = [...tasks.entries()].map(([id, task]) => ({
      taskId: `t${id}`,
      ready: task.born < t - 5_000,
      samples: task.samples,
    }));
    const result = decide({ now: t, policy: options.policy, current: replicas, tasks: observed, memory });
    memory = result.memory;
    if (result.decision.replicas > replicas)
      for (let i = replicas; i < result.decision.replicas; i++) tasks.set(i, { born: t, samples: [] });
    if (result.decision.replicas < replicas) for (let i = result.decision.replicas; i < replicas; i++) tasks.delete(i);
    replicas = result.decision.replicas;
    history.push({ at: t, replicas, reason: result.decision.reason });
  }
  return history;
}

/** How many times the replica count changed. */
const changes = (history: { replicas: number }[], start: number) =>
  history.reduce((n, h, i) => n + (h.replicas !== (i === 0 ? start : history[i - 1]!.replicas) ? 1 : 0), 0);

describe('decide() one sync', () => {
  it('scales by ceil(tasks × value / target) and says why', () => {
    const now = 100_000;
    const { decision } = decide({ now, policy: policy(), current: 3, tasks: tasksAt(now, 92, 92, 92), memory: null });
    expect(decision).toMatchObject({ from: 3, replicas: 4, reason: 'cpu 92 % of 70 % over 3 tasks → 4' });
  });

  it('does nothing within the tolerance of 0.1', () => {
    const now = 100_000;
    const { decision } = decide({ now, policy: policy(), current: 3, tasks: tasksAt(now, 76, 76, 76), memory: null });
    expect(decision.replicas).toBe(3);
  });

  it('keeps the replicas when no task was measured, and says so', () => {
    const now = 100_000;
    const { decision } = decide({
      now,
      policy: policy(),
      current: 2,
      tasks: tasksAt(now, null, 'starting'),
      memory: null,
    });
    expect(decision).toMatchObject({ replicas: 2, reason: 'no measurements from any of 2 tasks: keeping 2' });
  });

  it('takes the highest recommendation of several metrics', () => {
    const now = 100_000;
    const tasks: TaskObservation[] = [0, 1].map((i) => ({
      taskId: `t${i}`,
      ready: true,
      samples: [{ at: now - 1000, cpuCores: 0.35, memoryBytes: 900 }],
    }));
    const both = policy({
      targets: [
        { kind: 'cpu', percent: 70, requestCores: 1 },
        { kind: 'memory', percent: 50, requestBytes: 1000 },
      ],
    });
    const { decision } = decide({ now, policy: both, current: 2, tasks, memory: null });
    expect(decision.replicas).toBe(4); // memory 90 % of 50 % → ceil(2 × 1.8) = 4; cpu alone says 1
    expect(decision.reason).toBe('cpu 35 % of 70 % over 2 tasks; memory 90 % of 50 % over 2 tasks → 4');
  });
});

describe('decide() missing measurements (HPA: they count against the change)', () => {
  it('a ready task without samples counts as at the target when scaling down', () => {
    const now = 100_000;
    // measured: 35, 35 → ratio 0.5 → would be 2 of 4; with the two unmeasured at 70: ratio 0.75 → 3
    const down = policy({ downWindowMs: 0 });
    const { decision } = decide({
      now,
      policy: down,
      current: 4,
      tasks: tasksAt(now, 35, 35, null, null),
      memory: null,
    });
    expect(decision.replicas).toBe(3);
    expect(decision.reason).toContain('over 2 tasks (2 unmeasured)');
  });

  it('a task without samples counts as idle when scaling up, which may cancel the change', () => {
    const now = 100_000;
    // measured 84 (ratio 1.2) but with the unmeasured one at 0 the ratio is 0.6: reversed, no change
    const { decision } = decide({ now, policy: policy(), current: 2, tasks: tasksAt(now, 84, null), memory: null });
    expect(decision.replicas).toBe(2);
  });

  it('a starting task counts as idle when scaling up', () => {
    const now = 100_000;
    // 210 % on two tasks, one more starting: (210+210+0)/3 = 140 % → ceil(2 × 3) = 6
    const { decision } = decide({
      now,
      policy: policy(),
      current: 3,
      tasks: tasksAt(now, 210, 210, 'starting'),
      memory: null,
    });
    expect(decision.replicas).toBe(6);
  });
});

describe('decide() bounds', () => {
  it('never goes above max nor below min, and corrects a count outside them', () => {
    const now = 100_000;
    const bounded = policy({ min: 2, max: 5, downWindowMs: 0 });
    expect(
      decide({ now, policy: bounded, current: 4, tasks: tasksAt(now, 200, 200, 200, 200), memory: null }).decision
        .replicas,
    ).toBe(5);
    expect(
      decide({ now, policy: bounded, current: 4, tasks: tasksAt(now, 5, 5, 5, 5), memory: null }).decision.replicas,
    ).toBe(2);
    expect(decide({ now, policy: bounded, current: 9, tasks: tasksAt(now, 70), memory: null }).decision).toMatchObject({
      replicas: 5,
      reason: '9 replicas is above max 5 → 5',
    });
    expect(decide({ now, policy: bounded, current: 1, tasks: tasksAt(now, 70), memory: null }).decision.replicas).toBe(
      2,
    );
  });

  it('limits a scale-up to max(4 tasks, 100 %) per sync period', () => {
    const now = 100_000;
    const tasks = tasksAt(now, 700, 700); // 10× the target → 20
    const first = decide({ now, policy: policy(), current: 2, tasks, memory: null });
    expect(first.decision.replicas).toBe(6); // 2 + 4 beats 2 × 2
    expect(first.decision.reason).toContain('limited to 6: at most max(4, 100 %) more per 15 s');
    // a second decision within the same period counts the first change against the limit
    const again = decide({ now: now + 5_000, policy: policy(), current: 6, tasks, memory: first.memory });
    expect(again.decision.replicas).toBe(6);
  });
});

describe('decide() over time (virtual time, seeded noise)', () => {
  it('a noisy metric around the target does not make it oscillate (10 minutes, ±20 % per sample)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const history = simulate({
        policy: policy(),
        start: 3,
        load: () => 3 * 0.7, // exactly the target on 3 tasks
        noise: 0.2,
        seed,
        durationMs: 600_000,
      });
      expect({ seed, changes: changes(history, 3) }).toEqual({ seed, changes: 0 });
    }
  });

  it('a step of load that needs 3× the replicas is followed within two syncs', () => {
    const history = simulate({
      policy: policy(),
      start: 2,
      load: (t) => (t < 60_000 ? 2 * 0.7 : 6 * 0.7),
      durationMs: 180_000,
    });
    const reached = history.find((h) => h.replicas >= 6);
    expect(reached).toBeDefined();
    expect(reached!.at - 60_000).toBeLessThanOrEqual(30_000);
    expect(Math.max(...history.map((h) => h.replicas))).toBe(6); // no overshoot
  });

  it('scales down only once the load stayed low for the whole 300 s window', () => {
    const history = simulate({
      policy: policy(),
      start: 6,
      load: (t) => (t < 60_000 ? 6 * 0.7 : 2 * 0.7),
      durationMs: 600_000,
    });
    const firstDown = history.find((h) => h.replicas < 6);
    expect(firstDown).toBeDefined();
    // the first sync that saw the drop was at 60 s: its recommendation holds for 300 s
    expect(firstDown!.at).toBeGreaterThanOrEqual(60_000 + 300_000 - 15_000);
    expect(history.at(-1)!.replicas).toBe(2);
    // only down: never back up while the load is steady
    expect(history.every((h, i) => i === 0 || h.replicas <= history[i - 1]!.replicas)).toBe(true);
  });

  it('after a new leader (no history) still waits the window before scaling down', () => {
    const now = 1_000_000;
    const first = decide({
      now,
      policy: policy(),
      current: 6,
      tasks: tasksAt(now, 20, 20, 20, 20, 20, 20),
      memory: null,
    });
    expect(first.decision.replicas).toBe(6);
    expect(first.decision.reason).toContain('held at 6: the highest recommendation of the last 300 s');
    const later = decide({
      now: now + 300_000,
      policy: policy(),
      current: 6,
      tasks: tasksAt(now + 300_000, 20, 20, 20, 20, 20, 20),
      memory: first.memory,
    });
    expect(later.decision.replicas).toBe(2);
  });
});

describe('decide() on pending jobs (a worker service)', () => {
  const workers = policy({ targets: [{ kind: 'pending', namespace: 'batch', perTask: 5 }], downWindowMs: 0 });

  it('asks one task per `perTask` jobs waiting, within the rate limit and max', () => {
    const now = 100_000;
    const { decision } = decide({
      now,
      policy: workers,
      current: 2,
      tasks: tasksAt(now, 50, 50),
      memory: null,
      pendingJobs: 40,
    });
    expect(decision).toMatchObject({
      replicas: 6,
      reason: '40 jobs pending in batch, 5 per task → 8, limited to 6: at most max(4, 100 %) more per 15 s',
    });
  });

  it('keeps the count within the tolerance, and goes to min when the queue is empty', () => {
    const now = 100_000;
    expect(
      decide({ now, policy: workers, current: 4, tasks: [], memory: null, pendingJobs: 21 }).decision.replicas,
    ).toBe(4);
    expect(
      decide({ now, policy: workers, current: 4, tasks: [], memory: null, pendingJobs: 0 }).decision.replicas,
    ).toBe(1);
  });

  it('has no opinion when the count is unknown', () => {
    const now = 100_000;
    expect(decide({ now, policy: workers, current: 3, tasks: [], memory: null }).decision).toMatchObject({
      replicas: 3,
      reason: 'no measurements from any of 0 tasks: keeping 3',
    });
  });
});

describe('decide() on a scraped metric (value per task)', () => {
  it('scales on the average per task against the target value, missing ones against the change', () => {
    const now = 100_000;
    const metric = policy({ targets: [{ kind: 'metric', name: 'jobs_in_flight', value: 10 }] });
    const tasks: TaskObservation[] = [18, 12, null].map((v, i) => ({
      taskId: `t${i}`,
      ready: true,
      samples: v === null ? [] : [{ at: now - 1000, cpuCores: null, memoryBytes: null, metric: v }],
    }));
    // measured 15 per task (ratio 1.5); with the unmeasured one at 0: 10 → no change
    expect(decide({ now, policy: metric, current: 3, tasks, memory: null }).decision.replicas).toBe(3);
    const all = tasks.slice(0, 2);
    const { decision } = decide({ now, policy: metric, current: 2, tasks: all, memory: null });
    expect(decision).toMatchObject({ replicas: 3, reason: 'jobs_in_flight 15 of 10 over 2 tasks → 3' });
  });
});
