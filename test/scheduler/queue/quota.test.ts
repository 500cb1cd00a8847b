/** Namespace quotas: enforced at admission, with the reason in the queue. */
import { type NamespaceQuota, planQueue, type QueuedTask } from '../../../src/scheduler/queue/index.js';
import { GiB, job, node, NOW, placedOn, running, waitOf } from './fixtures.js';

const ml = (id: string, over: Partial<QueuedTask> = {}): QueuedTask =>
  job(id, 2000, { namespace: 'ml', reservations: { cpus: 2000, memoryBytes: 2 * GiB, gpus: 1 }, ...over });

const gpuNode = node('g', 16_000, {
  resources: { cpus: 16_000, memoryBytes: 64 * GiB, gpus: ['GPU-0', 'GPU-1', 'GPU-2', 'GPU-3'] },
});

describe('planQueue() quotas', () => {
  it.each<[string, NamespaceQuota, string]>([
    ['CPUs', { cpus: 5000 }, 'Quota: namespace "ml" would use 6 of 5 CPUs'],
    ['memory', { memoryBytes: 5 * GiB }, 'Quota: namespace "ml" would use 6 GiB of 5 GiB memory'],
    ['GPUs', { gpus: 2 }, 'Quota: namespace "ml" would use 3 of 2 GPUs'],
    ['running jobs', { runningJobs: 2 }, 'Quota: namespace "ml" would run 3 of 2 jobs'],
  ])('planQueue() holds the task that would exceed the %s quota', (_name, quota, message) => {
    // One task of job "run" already runs; two more jobs are queued: the second one is over quota.
    const plan = planQueue({
      now: NOW,
      nodes: [gpuNode],
      running: [
        running('run', 'g', 2000, {
          namespace: 'ml',
          reservations: { cpus: 2000, memoryBytes: 2 * GiB, gpus: 1 },
          gpus: ['GPU-0'],
        }),
      ],
      pending: [ml('first'), ml('second')],
      quotas: { ml: quota },
    });
    expect(placedOn(plan, 'first')).toBe('g');
    expect(waitOf(plan, 'second')).toEqual({ taskId: 'second', reason: 'Quota', message });
  });

  it('planQueue() counts tasks of a running job as one running job', () => {
    const pending = [0, 1, 2].map((i) => ml(`j-${i}`, { jobId: 'j', index: i }));
    const plan = planQueue({ now: NOW, nodes: [gpuNode], running: [], pending, quotas: { ml: { runningJobs: 1 } } });
    expect(plan.placements).toHaveLength(3);
  });

  it('planQueue() does not count terminating tasks as running jobs', () => {
    const plan = planQueue({
      now: NOW,
      nodes: [gpuNode],
      running: [running('old', 'g', 1000, { namespace: 'ml', terminating: true })],
      pending: [ml('new')],
      quotas: { ml: { runningJobs: 1 } },
    });
    expect(placedOn(plan, 'new')).toBe('g');
  });

  it('planQueue() starts the part of an array job that fits in the quota', () => {
    const pending = [0, 1, 2, 3].map((i) => ml(`a-${i}`, { jobId: 'a', index: i }));
    const plan = planQueue({ now: NOW, nodes: [gpuNode], running: [], pending, quotas: { ml: { gpus: 3 } } });
    expect(plan.placements.map((p) => p.taskId)).toEqual(['a-0', 'a-1', 'a-2']);
    expect(waitOf(plan, 'a-3').message).toBe('Quota: namespace "ml" would use 4 of 3 GPUs');
  });

  it('planQueue() holds a whole gang that would exceed the quota', () => {
    const pending = [0, 1, 2].map((i) => ml(`g-${i}`, { jobId: 'g', gang: 'g', index: i }));
    const plan = planQueue({ now: NOW, nodes: [gpuNode], running: [], pending, quotas: { ml: { cpus: 5000 } } });
    expect(plan.placements).toEqual([]);
    expect(plan.waiting.map((w) => w.reason)).toEqual(['Quota', 'Quota', 'Quota']);
  });

  it('planQueue() lets lower tasks of other namespaces start past a quota wait', () => {
    const plan = planQueue({
      now: NOW,
      nodes: [node('n', 4000)],
      running: [],
      pending: [job('capped', 4000, { namespace: 'ml', priority: 900 }), job('other', 4000, { namespace: 'etl' })],
      quotas: { ml: { cpus: 1000 } },
      options: { backfill: false },
    });
    expect(waitOf(plan, 'capped').reason).toBe('Quota');
    expect(placedOn(plan, 'other')).toBe('n');
  });

  it('planQueue() applies no quota to tasks without a namespace', () => {
    const plan = planQueue({
      now: NOW,
      nodes: [node('n', 4000)],
      running: [],
      pending: [job('free', 4000)],
      quotas: { ml: { cpus: 0 } },
    });
    expect(placedOn(plan, 'free')).toBe('n');
  });
});
