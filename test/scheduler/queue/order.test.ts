/** Queue order: priority, then fair share, then age, then job, index and task id. */
import { planQueue } from '../../../src/scheduler/queue/index.js';
import { GiB, job, MIN, node, NOW } from './fixtures.js';

describe('planQueue() order', () => {
  it.each([
    ['higher priority first', [job('low', 1, { priority: 10 }), job('high', 1, { priority: 20 })], ['high', 'low']],
    [
      'older submission first among equal priorities',
      [job('new', 1, { submittedAt: NOW }), job('old', 1, { submittedAt: NOW - MIN })],
      ['old', 'new'],
    ],
    [
      'priority beats age',
      [job('old', 1, { submittedAt: NOW - 60 * MIN }), job('urgent', 1, { priority: 101 })],
      ['urgent', 'old'],
    ],
    [
      'array index, then task id, inside a job',
      [
        job('j-b', 1, { jobId: 'j', index: 1 }),
        job('j-a', 1, { jobId: 'j', index: 1 }),
        job('j-z', 1, { jobId: 'j', index: 0 }),
      ],
      ['j-z', 'j-a', 'j-b'],
    ],
    ['job id breaks the remaining ties', [job('b', 1), job('a', 1)], ['a', 'b']],
  ])('planQueue() orders by %s', (_name, pending, expected) => {
    const plan = planQueue({ now: NOW, nodes: [node('n')], running: [], pending });
    expect(plan.order).toEqual(expected);
  });

  it('planQueue() puts the namespace with less usage per share first', () => {
    const pending = [job('heavy', 1, { namespace: 'heavy' }), job('light', 1, { namespace: 'light' })];
    const plan = planQueue({ now: NOW, nodes: [node('n')], running: [], pending, usage: { heavy: 900, light: 100 } });
    expect(plan.order).toEqual(['light', 'heavy']);
  });

  it('planQueue() divides usage by shares: a namespace with 4 shares may use 4 times as much', () => {
    const pending = [job('small', 1, { namespace: 'small' }), job('big', 1, { namespace: 'big' })];
    const usage = { small: 100, big: 300 };
    expect(planQueue({ now: NOW, nodes: [node('n')], running: [], pending, usage }).order).toEqual(['small', 'big']);
    const shares = { big: 4 };
    expect(planQueue({ now: NOW, nodes: [node('n')], running: [], pending, usage, shares }).order).toEqual([
      'big',
      'small',
    ]);
  });

  it('planQueue() counts a null namespace as no usage, and fair share beats age', () => {
    const pending = [
      job('used', 1, { namespace: 'ml', submittedAt: NOW - 60 * MIN }),
      job('none', 1, { namespace: null }),
    ];
    const plan = planQueue({ now: NOW, nodes: [node('n')], running: [], pending, usage: { ml: 1 } });
    expect(plan.order).toEqual(['none', 'used']);
  });

  it('planQueue() shares a full cluster by fair share between two namespaces', () => {
    // One node with room for 4 tasks; each namespace has 4 tasks; "b" used less so it goes first.
    const pending = [
      ...[0, 1, 2, 3].map((i) => job(`a-${i}`, 1000, { jobId: 'a', index: i, namespace: 'a', submittedAt: NOW - MIN })),
      ...[0, 1, 2, 3].map((i) => job(`b-${i}`, 1000, { jobId: 'b', index: i, namespace: 'b' })),
    ];
    const plan = planQueue({
      now: NOW,
      nodes: [node('n', 4000)],
      running: [],
      pending,
      usage: { a: 5e6, b: 1e6 },
      options: { preemption: false },
    });
    expect(plan.placements.map((p) => p.taskId).sort()).toEqual(['b-0', 'b-1', 'b-2', 'b-3']);
    expect(plan.waiting.map((w) => [w.taskId, w.reason])).toEqual([
      ['a-0', 'Resources'],
      ['a-1', 'Resources'],
      ['a-2', 'Resources'],
      ['a-3', 'Resources'],
    ]);
  });

  it('planQueue() places through the scheduler: constraints and memory still apply', () => {
    const nodes = [node('ssd', 4000, { labels: { disk: 'ssd' } }), node('hdd')];
    const pending = [
      job('wants-ssd', 1000, { constraints: ['node.labels.disk==ssd'] }),
      job('too-big', 1000, { reservations: { cpus: 1000, memoryBytes: 64 * GiB } }),
    ];
    const plan = planQueue({ now: NOW, nodes, running: [], pending });
    expect(plan.placements).toEqual([{ taskId: 'wants-ssd', nodeId: 'ssd' }]);
    expect(plan.waiting).toEqual([
      {
        taskId: 'too-big',
        reason: 'Resources',
        // More than any node has: it never fits, and says so.
        message:
          'Resources: never fits: one unit needs 1 CPUs, 64 GiB memory; the largest node, host-ssd, has 4 CPUs, 8 GiB memory (not enough memory)',
      },
    ]);
  });

  it('planQueue() rejects a negative maxReservations with a RangeError', () => {
    expect(() =>
      planQueue({ now: NOW, nodes: [], running: [], pending: [], options: { maxReservations: -1 } }),
    ).toThrow(/maxReservations=-1: expected an integer >= 0/);
  });
});
