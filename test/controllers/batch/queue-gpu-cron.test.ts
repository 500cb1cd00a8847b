/**
 * The queue, GPUs and cron through the whole pipeline: priorities across jobs, namespace quotas
 * with their reason, exclusive GPU devices freed when a unit ends, and cron runs started once.
 */
import { hashService } from '../../../src/stack/index.js';
import { BatchSim, stackOf } from './sim.js';

const GPU_JOB = stackOf(
  `
services:
  train:
    image: trainer:1
    deploy:
      resources:
        reservations:
          devices: [{ capabilities: [gpu], count: 2 }]
    x-shoal:
      kind: job
`,
  'ml',
).services.train!;

describe('batch pipeline: queue, quotas, GPUs and cron', () => {
  it('a higher-priority job submitted later goes first, preempting a running low-priority one', () => {
    const sim = new BatchSim({ nodes: [{ cpus: 1 }], runner: () => ({ ms: 5000, exitCode: 0 }) });
    const first = sim.submit({ name: 'first', cpus: 1, priority: 50 });
    sim.step(); // first runs
    const low = sim.submit({ name: 'low', cpus: 1, priority: 10 });
    const high = sim.submit({ name: 'high', cpus: 1, priority: 900 });
    sim.runUntil(() => sim.job(high).state === 'RUNNING', 10);
    expect(sim.job(low).state).toBe('PENDING');
    expect(sim.tasksOf(first).some((t) => t.outcome === 'PREEMPTED')).toBe(true);
    // The victim says who took its place: the runtime reports this as its message.
    const victim = sim.tasksOf(first).find((t) => t.outcome === 'PREEMPTED')!;
    expect(victim.stopReason).toBe(`preempted by job ${high} (priority 900)`);
    sim.runToEnd(60);
    expect(sim.job(high).startedAt!).toBeLessThan(sim.job(low).startedAt!);
    expect(sim.job(first)).toMatchObject({ state: 'COMPLETED', succeeded: 1 });
    expect(sim.job(low).state).toBe('COMPLETED');
    // The preempted unit ran again and was counted once.
    expect(sim.tasksOf(first).filter((t) => t.state === 'complete')).toHaveLength(1);
  });

  it('a namespace quota caps what runs at once and says Quota in the queue', () => {
    const sim = new BatchSim({ nodes: [{ cpus: 8 }], runner: () => ({ ms: 3000, exitCode: 0 }) });
    sim.apply({ type: 'quota.set', namespace: 'ml', quota: { cpus: 2000 } });
    const id = sim.submit({ namespace: 'ml', cpus: 1, job: '{array: "0-5"}' });
    sim.step();
    sim.step();
    expect(sim.liveTasksOf(id).filter((t) => t.state === 'running' || t.state === 'assigned')).toHaveLength(2);
    expect(sim.liveTasksOf(id).filter((t) => t.state === 'pending')[0]!.message).toMatch(/^Quota: namespace "ml"/);
    sim.runToEnd(60);
    expect(sim.job(id)).toMatchObject({ state: 'COMPLETED', succeeded: 6 });
    expect(Math.max(...[...sim.peakLive.values()])).toBeLessThanOrEqual(6);
  });

  it('GPU units get distinct devices of their node, freed for the next units when they end', () => {
    const sim = new BatchSim({ nodes: [{ cpus: 8, gpus: 4 }], runner: () => ({ ms: 2000, exitCode: 0 }) });
    for (const name of ['a', 'b', 'c']) {
      sim.apply({
        type: 'job.submit',
        name,
        owner: 'alice',
        namespace: 'ml',
        priority: 100,
        beginAt: 0,
        dependencies: [],
        spec: GPU_JOB,
        specHash: hashService(GPU_JOB),
      });
    }
    sim.step();
    const held = (id: string) => sim.tasksOf(id).flatMap((t) => t.gpus);
    expect(held('1')).toHaveLength(2);
    expect(held('2')).toHaveLength(2);
    expect(new Set([...held('1'), ...held('2')]).size).toBe(4);
    expect(sim.job('3').state).toBe('PENDING'); // all 4 devices are taken
    sim.runUntil(() => sim.job('3').state !== 'PENDING', 20);
    expect(held('3')).toHaveLength(2);
    sim.runToEnd(30);
    expect(['1', '2', '3'].map((id) => sim.job(id).state)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
  });

  it('a cron service starts one run per schedule time, never twice across passes', () => {
    const sim = new BatchSim({ runner: () => ({ ms: 1000, exitCode: 0 }) });
    sim.deploy(
      stackOf(
        `
services:
  report:
    image: reports:1
    x-shoal:
      kind: cron
      cron:
        schedule: "* * * * *"
`,
        'ops',
      ),
    );
    const runs = () => Object.values(sim.state.jobs).filter((j) => j.serviceId === 'ops_report');
    expect(runs()).toHaveLength(0);
    for (let i = 0; i < 130; i++) sim.step(1000); // a bit over two minutes of virtual time
    const times = runs().map((j) => j.scheduledAt);
    expect(times.length).toBeGreaterThanOrEqual(2);
    expect(new Set(times).size).toBe(times.length);
    expect(times.every((t) => t !== null && t % 60_000 === 0)).toBe(true);
    expect(runs().filter((j) => j.state === 'COMPLETED').length).toBeGreaterThanOrEqual(2);
  });
});
