/**
 * Scale to zero in the leader's autoscaler loop, on a real state machine and a manual clock:
 * idle → zero after the nodes' meshes report no connection for `idle`, many wakes → one scale
 * 0→1 with its reason, and a woken service staying up at least `idle` (no oscillation).
 */
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { AutoscaleLoop } from '../../src/agent/autoscale-loop.js';
import { ApiError } from '../../src/api/index.js';
import { autoscaleEvents } from '../../src/events/derive/autoscale.js';
import { ClusterStateMachine, type CommandInput } from '../../src/state/index.js';
import { ManualClock } from '../runtime/memory-driver.js';
import { T0, init, peerId, register } from '../state/helpers.js';
import { applyAll, applyNext, deployOf, reportOf, stackSpec, stamp } from '../state/workload-helpers.js';

const SHOP = stackSpec(
  `
services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
    x-shoal:
      autoscale: {min: 0, max: 4, target_cpu: 50, sync_period: 1s, idle: 1m}
  api:
    image: nginx:1.27
    x-shoal:
      autoscale: {min: 1, max: 4, target_cpu: 50}
`,
  'shop',
);

/** Let the passes the clock's ticks started (and their proposals) finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 1));

function world() {
  const clock = new ManualClock();
  clock.t = T0 + 100;
  const machine = new ClusterStateMachine();
  applyAll(machine, [
    init(),
    register(1),
    register(2),
    deployOf(SHOP, T0 + 10),
    stamp({ type: 'task.create', tasks: [{ id: 'w1', serviceId: 'shop_web', slot: 1, serviceVersion: 1 }] }, T0 + 20),
    stamp({ type: 'task.assign', assignments: [{ taskId: 'w1', nodeId: peerId(1), gpus: [] }] }, T0 + 30),
    reportOf(1, 'w1', 1, 'running', T0 + 40),
  ]);
  const proposed: CommandInput[] = [];
  const applied: { command: CommandInput; message: string | undefined }[] = [];
  const writer = {
    // A commit takes a while: wakes that come meanwhile must share it.
    submit: async (command: CommandInput) => {
      proposed.push(command);
      await new Promise((resolve) => setImmediate(resolve));
      const before = machine.view();
      const result = applyNext(machine, stamp(command, clock.now()));
      if (!result.ok) throw new ApiError(409, 'conflict', result.error);
      const event = autoscaleEvents({ index: 0, command: stamp(command, clock.now()), before, after: machine.view() });
      applied.push({ command, message: event[0]?.message });
      return result;
    },
  };
  const loop = new AutoscaleLoop({ state: machine, writer, clock, log: pino({ level: 'silent' }) });
  /** Node 1's mesh reports (no connection unless `open`), then 1 s passes (the loop syncs on its ticks). */
  const second = async (open = 0) => {
    loop.receiveActivity(peerId(1), {
      v: 1,
      services: open > 0 ? [{ serviceId: 'shop_web', open, lastAcceptAgoMs: 0 }] : [],
    });
    clock.advance(1_000);
    await settle();
  };
  return { clock, machine, loop, proposed, applied, second };
}

describe('AutoscaleLoop scale to zero', () => {
  it('scales a min: 0 service to zero after idle without connections, not before', async () => {
    const { machine, loop, proposed, second } = world();
    loop.start();
    for (let s = 0; s < 30; s++) await second(1); // busy until 29 s
    for (let s = 0; s < 58; s++) await second(); // to 88 s
    expect(proposed).toEqual([]);
    await second();
    expect(proposed).toEqual([
      {
        type: 'service.autoscale',
        serviceId: 'shop_web',
        from: 1,
        replicas: 0,
        reason: 'idle: no connection through the service mesh for 60 s → 0',
        metrics: [],
      },
    ]);
    expect(machine.service('shop_web')?.replicas).toBe(0);
    for (let s = 0; s < 120; s++) await second();
    expect(proposed).toHaveLength(1); // at zero it stays, whatever the HPA would say
    loop.stop();
  });

  it('never scales to zero while no node reports its mesh (nobody could wake it)', async () => {
    const { clock, loop, proposed } = world();
    loop.start();
    for (let s = 0; s < 3 * 60; s++) {
      clock.advance(1_000);
      await settle();
    }
    expect(proposed).toEqual([]);
    loop.stop();
  });

  it('turns many wakes into one scale 0→1 with its reason, and the woken service stays up at least idle', async () => {
    const { machine, loop, proposed, applied, second } = world();
    loop.start();
    for (let s = 0; s <= 60; s++) await second();
    expect(machine.service('shop_web')?.replicas).toBe(0);
    proposed.length = 0;

    const wakes = await Promise.all([
      ...Array.from({ length: 40 }, () => loop.wake(peerId(2), { v: 1, serviceId: 'shop_web' })),
      ...Array.from({ length: 10 }, () => loop.wake(peerId(1), { v: 1, serviceId: 'shop_web' })),
    ]);
    expect(wakes).toEqual(Array(50).fill({ replicas: 1 }));
    expect(proposed).toEqual([
      {
        type: 'service.autoscale',
        serviceId: 'shop_web',
        from: 0,
        replicas: 1,
        reason: `cold start: connection on ${peerId(2)}`,
        metrics: [],
      },
    ]);
    expect(applied.at(-1)?.message).toBe(
      `service shop_web autoscaled from 0 to 1: cold start: connection on ${peerId(2)}`,
    );
    await expect(loop.wake(peerId(2), { v: 1, serviceId: 'shop_web' })).resolves.toEqual({ replicas: 1 });
    expect(proposed).toHaveLength(1);

    // No connection after the wake, and no CPU: the HPA keeps 1 and idle waits its whole time.
    for (let s = 0; s < 59; s++) {
      loop.receive(peerId(1), { v: 1, samples: [{ taskId: 'w1', cpuCores: 0, memoryBytes: null }] });
      await second();
    }
    expect(proposed).toHaveLength(1);
    await second();
    await second();
    expect(proposed.map((c) => c.type === 'service.autoscale' && c.replicas)).toEqual([1, 0]);
    loop.stop();
  });

  it('refuses to wake a service that does not scale to zero, and answers only when leading', async () => {
    const { loop } = world();
    await expect(loop.wake(peerId(1), { v: 1, serviceId: 'shop_web' })).rejects.toThrow(/does not lead/);
    loop.start();
    await expect(loop.wake(peerId(1), { v: 1, serviceId: 'shop_api' })).rejects.toThrow(
      /service shop_api does not scale to zero/,
    );
    await expect(loop.wake(peerId(1), { v: 1, serviceId: 'shop_web' })).resolves.toEqual({ replicas: 1 });
    loop.stop();
  });
});
