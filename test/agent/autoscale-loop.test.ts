/**
 * The leader's autoscaler loop on a real state machine and a manual clock: what it accepts from
 * nodes, what it proposes (applied to the same machine, as the leader's writer would), and what
 * it leaves alone (rollouts, a manual scale).
 */
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { AutoscaleLoop } from '../../src/agent/autoscale-loop.js';
import { ApiError } from '../../src/api/index.js';
import { ClusterStateMachine, type CommandInput } from '../../src/state/index.js';
import { ManualClock } from '../runtime/memory-driver.js';
import { T0, init, peerId, register } from '../state/helpers.js';
import { applyAll, applyNext, deployOf, reportOf, stackSpec, stamp } from '../state/workload-helpers.js';
import { jobSubmit } from '../controllers/batch/sim.js';
import { hashService } from '../../src/stack/index.js';

const SHOP = stackSpec(
  `
services:
  api:
    image: nginx:1.27
    deploy: {replicas: 2}
    x-shoal:
      autoscale: {min: 1, max: 8, target_cpu: 50}
  plain:
    image: nginx:1.27
`,
  'shop',
);

/** node 1 runs shop_api tasks a1, a2 (version 1); node 2 runs shop_plain's p1. */
function world() {
  const clock = new ManualClock();
  clock.t = T0 + 100;
  const machine = new ClusterStateMachine();
  applyAll(machine, [init(), register(1), register(2), deployOf(SHOP, T0 + 10)]);
  const tasks = [
    { id: 'a1', serviceId: 'shop_api', slot: 1, serviceVersion: 1 },
    { id: 'a2', serviceId: 'shop_api', slot: 2, serviceVersion: 1 },
    { id: 'p1', serviceId: 'shop_plain', slot: 1, serviceVersion: 1 },
  ];
  applyAll(machine, [
    stamp({ type: 'task.create', tasks }, T0 + 20),
    stamp(
      {
        type: 'task.assign',
        assignments: [
          { taskId: 'a1', nodeId: peerId(1), gpus: [] },
          { taskId: 'a2', nodeId: peerId(1), gpus: [] },
          { taskId: 'p1', nodeId: peerId(2), gpus: [] },
        ],
      },
      T0 + 30,
    ),
    reportOf(1, 'a1', 1, 'running', T0 + 40),
    reportOf(1, 'a2', 2, 'running', T0 + 40),
    reportOf(2, 'p1', 3, 'running', T0 + 40),
  ]);
  const proposed: CommandInput[] = [];
  const writer = {
    submit: async (command: CommandInput) => {
      proposed.push(command);
      const result = applyNext(machine, stamp(command, clock.now()));
      if (!result.ok) throw new ApiError(409, 'conflict', result.error);
      return result;
    },
  };
  const loop = new AutoscaleLoop({
    state: machine,
    writer,
    clock,
    log: pino({ level: process.env.DBG ? 'debug' : 'silent' }),
  });
  /** Node 1 reports both api tasks at `cores` each; advance 5 s. */
  const sample = (cores: number) => {
    loop.receive(peerId(1), {
      v: 1,
      samples: ['a1', 'a2'].map((taskId) => ({ taskId, cpuCores: cores, memoryBytes: 1e8 })),
    });
  };
  return { clock, machine, loop, proposed, sample };
}

describe('AutoscaleLoop.receive()', () => {
  it('keeps only samples of the sender’s own tasks of autoscaled services', () => {
    const { loop } = world();
    loop.start();
    const frame = (taskId: string) => ({ v: 1, samples: [{ taskId, cpuCores: 0.5, memoryBytes: null }] });
    expect(loop.receive(peerId(1), frame('a1'))).toEqual({ accepted: 1, ignored: 0 });
    expect(loop.receive(peerId(2), frame('a1'))).toEqual({ accepted: 0, ignored: 1 }); // not node 2's task
    expect(loop.receive(peerId(2), frame('p1'))).toEqual({ accepted: 0, ignored: 1 }); // not autoscaled
    expect(loop.receive(peerId(1), frame('nope'))).toEqual({ accepted: 0, ignored: 1 });
    loop.stop();
  });

  it.each([
    ['not leading', null, /does not lead/],
    ['a wrong version', { v: 2, samples: [] }, /v: expected format version 1/],
    [
      'a negative value',
      { v: 1, samples: [{ taskId: 'a1', cpuCores: -1, memoryBytes: null }] },
      /cpuCores: expected null or a number/,
    ],
    [
      'a metric that is not a number',
      { v: 1, samples: [{ taskId: 'a1', cpuCores: null, memoryBytes: null, metric: 'NaN' }] },
      /samples\[0\]\.metric: expected null or a number/,
    ],
    [
      'a bad task id',
      { v: 1, samples: [{ taskId: '../x', cpuCores: 1, memoryBytes: null }] },
      /taskId: expected a task id/,
    ],
    ['too many samples', { v: 1, samples: Array.from({ length: 2049 }, () => ({})) }, /at most 2048 samples/],
  ])('refuses %s', (what, frame, message) => {
    const { loop } = world();
    if (what !== 'not leading') loop.start();
    expect(() => loop.receive(peerId(1), frame ?? { v: 1, samples: [] })).toThrow(message);
    loop.stop();
  });
});

describe('AutoscaleLoop.pass()', () => {
  it('proposes service.autoscale with its reason when the load asks for more', async () => {
    const { clock, machine, loop, proposed, sample } = world();
    loop.start();
    sample(0.9); // 90 % of one core against 50 %: ceil(2 × 1.8) = 4
    await loop.pass();
    expect(proposed).toEqual([
      {
        type: 'service.autoscale',
        serviceId: 'shop_api',
        from: 2,
        replicas: 4,
        reason: 'cpu 90 % of 50 % over 2 tasks → 4',
        metrics: [{ kind: 'cpu', value: 90, target: 50 }],
      },
    ]);
    expect(machine.service('shop_api')).toMatchObject({ replicas: 4, autoscale: { from: 2, to: 4 } });
    clock.advance(1000);
    await loop.pass(); // within the sync period: nothing
    expect(proposed).toHaveLength(1);
    loop.stop();
  });

  it('decides nothing while a rollout runs tasks of two versions', async () => {
    const { machine, loop, proposed, sample } = world();
    applyAll(machine, [
      stamp({ type: 'task.create', tasks: [{ id: 'a3', serviceId: 'shop_api', slot: 3, serviceVersion: 2 }] }, T0 + 50),
    ]);
    loop.start();
    sample(0.9);
    await loop.pass();
    expect(proposed).toEqual([]);
    loop.stop();
  });

  it('takes a manual scale as its new base: no scale-down from it before the down window', async () => {
    const { clock, machine, loop, proposed, sample } = world();
    loop.start();
    sample(0.5); // at the target: nothing to do
    await loop.pass();
    expect(proposed).toEqual([]);
    applyAll(machine, [stamp({ type: 'service.scale', serviceId: 'shop_api', replicas: 6 }, clock.now())]);
    // now idle: 10 % each would ask for 1, but the manual 6 holds for the 300 s window
    for (let t = 0; t < 280_000; t += 5_000) {
      clock.advance(5_000);
      sample(0.1);
      await loop.pass();
    }
    expect(proposed).toEqual([]);
    // the window counts from the first sync that saw the manual count (up to one sync period later)
    for (let t = 0; t < 40_000; t += 5_000) {
      clock.advance(5_000);
      sample(0.1);
      await loop.pass();
    }
    expect(proposed.map((c) => c.type === 'service.autoscale' && [c.from, c.replicas])).toEqual([[6, 1]]);
    loop.stop();
  });

  it('scales a worker service on the jobs pending in a namespace (from the state, no samples)', async () => {
    const { clock, machine, loop, proposed } = world();
    const workers = stackSpec(
      `
services:
  worker:
    image: worker:1
    x-shoal:
      autoscale: {max: 10, target_pending_jobs: {namespace: batch, per_task: 4}}
`,
      'q',
    ).services.worker!;
    applyAll(machine, [
      stamp(
        {
          type: 'stack.deploy',
          name: 'q',
          services: [{ name: 'worker', spec: workers, specHash: hashService(workers) }],
        },
        clock.now(),
      ),
      ...Array.from({ length: 12 }, (_, i) => stamp(jobSubmit({ name: `j${i}`, namespace: 'batch' }), clock.now())),
      stamp(jobSubmit({ name: 'elsewhere', namespace: 'other' }), clock.now()),
    ]);
    loop.start();
    await loop.pass();
    const decision = proposed.find((c) => c.type === 'service.autoscale' && c.serviceId === 'q_worker');
    expect(decision).toMatchObject({ from: 1, replicas: 3, reason: '12 jobs pending in batch, 4 per task → 3' });
    loop.stop();
  });
});
