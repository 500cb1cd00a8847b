/**
 * measureRollout(): `monitor` counts from when a task became healthy (first reported `running`,
 * `runningAt`), not from its start, so a slow health check does not eat the monitor window; a
 * task that ends before it was ever reported running failed, however long it tried.
 */
import { measureRollout } from '../../../src/controllers/rollout/progress.js';
import type { UpdateSlot } from '../../../src/controllers/slots.js';
import type { ServiceRecord, TaskRecord } from '../../../src/state/index.js';
import { decodeState, encodeState } from '../../../src/state/index.js';
import { stackOf } from '../batch/sim.js';
import { WEB, rolloutSim, service } from './support.js';

const MONITOR = 5000;

/** app_web v1 (health-checked, monitor 5 s) deployed, v2 deployed: its record and one v1 task as a template. */
function setup(): { sim: ReturnType<typeof rolloutSim>; web: ServiceRecord; template: TaskRecord } {
  const sim = rolloutSim();
  const yaml = (image: string) =>
    stackOf(
      [
        'services:',
        '  web:',
        `    image: ${image}`,
        '    healthcheck: {test: ["CMD", "true"], interval: 1s}',
        '    deploy:',
        '      replicas: 1',
        '      update_config: {monitor: 5s}',
      ].join('\n') + '\n',
      'app',
    );
  sim.deploy(yaml('web:1'));
  sim.runUntil(() => service(sim).rollout?.state === 'completed', 60);
  sim.deploy(yaml('web:2'));
  const template = Object.values(sim.state.tasks).find((t) => t.serviceId === WEB)!;
  return { sim, web: service(sim), template };
}

function measure(web: ServiceRecord, task: TaskRecord, now: number, settled: boolean) {
  const slots: UpdateSlot<number>[] = [
    {
      key: 1,
      decision: settled
        ? { shutdown: [], create: false, status: 'settled', running: task, readyAt: 0 }
        : { shutdown: [], create: true, status: 'busy', readyAt: 0 },
    },
  ];
  return measureRollout({
    service: web,
    rollout: web.rollout!,
    slots,
    tasks: [task],
    current: (t) => t.serviceVersion === web.version,
    monitorMs: MONITOR,
    now,
  });
}

describe('measureRollout() monitor window', () => {
  it('counts monitor from when the task became healthy, not from its start', () => {
    const { web, template } = setup();
    const t0 = web.rollout!.startedAt + 1000;
    // Its health check took 20 s to pass: healthy (updated) at once, settled 5 s later.
    const task: TaskRecord = {
      ...template,
      serviceVersion: web.version,
      createdAt: t0,
      state: 'running',
      startedAt: t0,
      runningAt: t0 + 20_000,
    };
    const before = measure(web, task, t0 + 22_000, true);
    expect(before).toMatchObject({ updated: 1, settled: 0, wakeAt: t0 + 25_000, lastUpdatedAt: t0 + 20_000 });
    expect(measure(web, task, t0 + 25_000, true)).toMatchObject({ updated: 1, settled: 1 });
  });

  it.each([
    ['3 s after it became healthy', 1, 3000],
    ['8 s after it became healthy', 0, 8000],
  ])('a task that fails %s: failed %i', (_, failed, after) => {
    const { web, template } = setup();
    const t0 = web.rollout!.startedAt + 1000;
    const task: TaskRecord = {
      ...template,
      serviceVersion: web.version,
      createdAt: t0,
      state: 'failed',
      startedAt: t0,
      runningAt: t0 + 20_000,
      endedAt: t0 + 20_000 + after,
    };
    expect(measure(web, task, t0 + 40_000, false).failed).toBe(failed);
  });

  it('a task that ends after a minute of failing its health check (never running) failed', () => {
    const { web, template } = setup();
    const t0 = web.rollout!.startedAt + 1000;
    const { runningAt: _never, ...starting } = template;
    const task: TaskRecord = {
      ...starting,
      serviceVersion: web.version,
      createdAt: t0,
      state: 'failed',
      message: 'unhealthy',
      startedAt: t0,
      endedAt: t0 + 60_000,
    };
    expect(measure(web, task, t0 + 61_000, false)).toMatchObject({ failed: 1 });
  });
});

describe('task.report runningAt', () => {
  it('is set by the first running report (the health check passed), after startedAt by starting', () => {
    const { sim } = setup();
    // A new slot, passes without runtimes: its task is assigned and not reported yet.
    sim.apply({ type: 'service.scale', serviceId: WEB, replicas: 2 });
    const assigned = () => Object.values(sim.state.tasks).find((t) => t.slot === 2 && t.state === 'assigned');
    for (let i = 0; i < 3 && assigned() === undefined; i++) sim.pass();
    const task = assigned()!;
    const report = (state: 'starting' | 'running') => ({
      type: 'task.report' as const,
      nodeId: task.nodeId!,
      reports: [
        {
          taskId: task.id,
          generation: task.generation,
          state,
          message: state,
          exitCode: null,
          containerId: 'c',
          restarts: 0,
        },
      ],
    });
    const startedAt = sim.now;
    sim.apply(report('starting'));
    expect(sim.state.tasks[task.id]).toMatchObject({ startedAt });
    expect(sim.state.tasks[task.id]!.runningAt).toBeUndefined();
    sim.now += 7000;
    sim.apply(report('running'));
    expect(sim.state.tasks[task.id]).toMatchObject({ startedAt, runningAt: startedAt + 7000 });
    expect(decodeState(encodeState(sim.state, 1)).state.tasks[task.id]).toEqual(sim.state.tasks[task.id]);
  });
});
