/**
 * Preemption: higher-priority work that does not fit stops lower-priority preemptible tasks,
 * choosing the victims that lose the least work, and never twice for the same need.
 */
import { planQueue, type QueueInput } from '../../../src/scheduler/queue/index.js';
import { job, MIN, node, NOW, placedOn, running, victims, waitOf } from './fixtures.js';

/** Two full 4-core nodes; `urgent` (priority 500, 2 cores) is queued. */
function full(over: Partial<QueueInput> = {}): QueueInput {
  return {
    now: NOW,
    nodes: [node('a', 4000), node('b', 4000)],
    running: [
      // Work lost = age x cores: old-a 60m x 2, young-a 5m x 2, mid-b 20m x 2, tiny-b 1m x 1 (+1 core service).
      running('old-a', 'a', 2000, { startedAt: NOW - 60 * MIN }),
      running('young-a', 'a', 2000, { startedAt: NOW - 5 * MIN }),
      running('mid-b', 'b', 2000, { startedAt: NOW - 20 * MIN }),
      running('tiny-b', 'b', 1000, { startedAt: NOW - 1 * MIN }),
      running('svc-b', 'b', 1000, { priority: 10, jobId: null, preemptible: false, startedAt: NOW - 600 * MIN }),
    ],
    pending: [job('urgent', 2000, { priority: 500 })],
    ...over,
  };
}

describe('planQueue() preemption', () => {
  it('planQueue() picks the victims that lose the least work', () => {
    const plan = planQueue(full());
    // young-a alone (10 core-minutes) beats tiny-b + mid-b (41) and old-a (120).
    expect(plan.preemptions).toEqual([{ victimTaskId: 'young-a', forTaskId: 'urgent' }]);
    expect(waitOf(plan, 'urgent')).toEqual({
      taskId: 'urgent',
      reason: 'Preempting',
      message: 'Preempting: stopping 1 lower-priority task on node a',
    });
    expect(plan.placements).toEqual([]);
  });

  it('planQueue() takes one bigger victim over two cheaper ones when that loses less work', () => {
    const plan = planQueue({
      now: NOW,
      nodes: [node('a', 4000)],
      running: [
        running('small-1', 'a', 1000, { startedAt: NOW - 10 * MIN }),
        running('small-2', 'a', 1000, { startedAt: NOW - 10 * MIN }),
        running('pair', 'a', 2000, { startedAt: NOW - 7.5 * MIN }),
      ],
      pending: [job('urgent', 2000, { priority: 500 })],
    });
    // small-1 + small-2 lose 20 core-minutes, pair 15.
    expect(victims(plan)).toEqual(['pair']);
  });

  it('planQueue() preempts no more than needed', () => {
    // 1 core needed: tiny-b (1 core, 1 minute) is enough; nothing else goes.
    const plan = planQueue(full({ pending: [job('urgent', 1000, { priority: 500 })] }));
    expect(victims(plan)).toEqual(['tiny-b']);
  });

  it('planQueue() prefers fewer victims when the work lost is equal', () => {
    const plan = planQueue(
      full({
        running: [
          running('x1', 'a', 1000, { startedAt: NOW - 10 * MIN }),
          running('x2', 'a', 1000, { startedAt: NOW - 10 * MIN }),
          running('fill-a', 'a', 2000, { preemptible: false }),
          running('y', 'b', 2000, { startedAt: NOW - 10 * MIN }),
          running('fill-b', 'b', 2000, { preemptible: false }),
        ],
      }),
    );
    expect(victims(plan)).toEqual(['y']);
  });

  it('planQueue() never preempts a service that is not preemptible', () => {
    const plan = planQueue(
      full({
        running: [
          running('svc-a', 'a', 4000, { jobId: null, priority: 10, preemptible: false }),
          running('svc-b', 'b', 4000, { jobId: null, priority: 10, preemptible: false }),
        ],
      }),
    );
    expect(plan.preemptions).toEqual([]);
    expect(waitOf(plan, 'urgent').reason).toBe('Resources');
  });

  it('planQueue() preempts a service marked preemptible', () => {
    const plan = planQueue(
      full({
        running: [
          running('svc-a', 'a', 4000, { jobId: null, priority: 10, preemptible: true }),
          running('svc-b', 'b', 4000, { jobId: null, priority: 10, preemptible: false }),
        ],
      }),
    );
    expect(victims(plan)).toEqual(['svc-a']);
  });

  it.each([
    ['equal', 500],
    ['higher', 600],
  ])('planQueue() never preempts tasks of %s priority', (_name, priority) => {
    const plan = planQueue(
      full({ running: [running('a1', 'a', 4000, { priority }), running('b1', 'b', 4000, { priority })] }),
    );
    expect(plan.preemptions).toEqual([]);
    expect(waitOf(plan, 'urgent').reason).toBe('Resources');
  });

  it('planQueue() does not preempt again while earlier victims terminate', () => {
    const first = planQueue(full());
    expect(victims(first)).toEqual(['young-a']);
    // Next pass: the job controller marked the victim terminating; it still holds its cores.
    const again = planQueue(
      full({
        running: full().running.map((t) => (t.id === 'young-a' ? { ...t, terminating: true } : t)),
      }),
    );
    expect(again.preemptions).toEqual([]);
    expect(waitOf(again, 'urgent')).toEqual({
      taskId: 'urgent',
      reason: 'Preempting',
      message: 'Preempting: waiting for terminating tasks to stop on node a',
    });
    // Once it is gone, the task starts there.
    const after = planQueue(full({ running: full().running.filter((t) => t.id !== 'young-a') }));
    expect(placedOn(after, 'urgent')).toBe('a');
  });

  it('planQueue() preempts only for the new need while earlier victims terminate', () => {
    const stopping = full().running.map((t) => (t.id === 'young-a' ? { ...t, terminating: true } : t));
    const plan = planQueue(
      full({
        running: stopping,
        pending: [job('urgent', 2000, { priority: 500 }), job('second', 2000, { priority: 500, submittedAt: NOW + 1 })],
      }),
    );
    // urgent keeps waiting on young-a; second gets the next cheapest victim, not young-a again.
    expect(plan.preemptions).toEqual([{ victimTaskId: 'mid-b', forTaskId: 'second' }]);
    expect(waitOf(plan, 'urgent').message).toBe('Preempting: waiting for terminating tasks to stop on node a');
  });

  it('planQueue() does not preempt a task whose end a backfill reservation relies on', () => {
    const input = {
      now: NOW,
      nodes: [node('a', 4000)],
      running: [running('ending', 'a', 2000, { priority: 10, startedAt: NOW, timeLimitMs: 20 * MIN })],
      pending: [
        job('big', 4000, { priority: 200, mayPreempt: false }),
        job('mid', 4000, { priority: 150, submittedAt: NOW + 1 }),
      ],
    };
    const plan = planQueue(input);
    expect(waitOf(plan, 'big').expectedStart).toBe(NOW + 20 * MIN);
    // Stopping "ending" would only let big start earlier, not mid: mid waits.
    expect(plan.preemptions).toEqual([]);
    expect(waitOf(plan, 'mid').reason).toBe('Resources');
    // Without the reservation, mid preempts it.
    const alone = planQueue({ ...input, pending: input.pending.slice(1) });
    expect(victims(alone)).toEqual(['ending']);
  });

  it('planQueue() chooses each victim for one pending task only', () => {
    const plan = planQueue(
      full({
        pending: [
          job('u1', 2000, { priority: 500 }),
          job('u2', 2000, { priority: 500 }),
          job('u3', 2000, { priority: 500 }),
        ],
      }),
    );
    const ids = plan.preemptions.map((p) => p.victimTaskId);
    expect(new Set(ids).size).toBe(ids.length);
    // Room for exactly 3 two-core tasks: young-a, then mid-b, then old-a (tiny-b is not needed).
    expect(plan.waiting.map((w) => w.reason)).toEqual(['Preempting', 'Preempting', 'Preempting']);
    expect(plan.preemptions).toEqual([
      { victimTaskId: 'young-a', forTaskId: 'u1' },
      { victimTaskId: 'mid-b', forTaskId: 'u2' },
      { victimTaskId: 'old-a', forTaskId: 'u3' },
    ]);
  });

  it.each([
    ['preemption is off', { options: { preemption: false } }, job('urgent', 2000, { priority: 500 })],
    ['the task may not preempt', {}, job('urgent', 2000, { priority: 500, mayPreempt: false })],
  ])('planQueue() preempts nothing when %s', (_name, over, urgent) => {
    const plan = planQueue(full({ ...over, pending: [urgent] }));
    expect(plan.preemptions).toEqual([]);
    expect(waitOf(plan, 'urgent').reason).toBe('Resources');
  });

  it('planQueue() lets a scaled-up service take resources back from data mining', () => {
    const mining = [0, 1, 2, 3].map((i) =>
      running(`mine-${i}`, i < 2 ? 'a' : 'b', 2000, { jobId: 'mine', priority: 50, startedAt: NOW - (i + 1) * MIN }),
    );
    const web = [0, 1].map((i) => job(`web-${i}`, 2000, { jobId: null, serviceId: 'web', priority: 500, index: i }));
    const plan = planQueue(full({ running: mining, pending: web }));
    // The two youngest miners go, one task each.
    expect(plan.preemptions).toEqual([
      { victimTaskId: 'mine-0', forTaskId: 'web-0' },
      { victimTaskId: 'mine-1', forTaskId: 'web-1' },
    ]);
  });
  it('planQueue() waits for a task that reaches its time limit within the grace horizon instead of preempting it', () => {
    // ending has run 2.9 s of its 3 s limit: the cheapest victim by work lost, yet it frees its cores in 0.1 s.
    const ending = running('ending', 'a', 2000, { startedAt: NOW - 2_900, timeLimitMs: 3_000 });
    const input = full({ running: [...full().running.filter((t) => t.id !== 'young-a'), ending] });
    const plan = planQueue(input);
    expect(plan.preemptions).toEqual([]);
    expect(waitOf(plan, 'urgent')).toEqual({
      taskId: 'urgent',
      reason: 'Preempting',
      message: 'Preempting: waiting for terminating tasks to stop on node a',
    });
    // With no grace, it is just the cheapest victim again.
    expect(victims(planQueue({ ...input, options: { preemptionGraceMs: 0 } }))).toEqual(['ending']);
  });

  it('planQueue() still preempts a task whose time limit is beyond the grace horizon', () => {
    const later = running('later', 'a', 2000, { startedAt: NOW - 2_900, timeLimitMs: 3_000 + 60_000 });
    const plan = planQueue(full({ running: [...full().running.filter((t) => t.id !== 'young-a'), later] }));
    expect(victims(plan)).toEqual(['later']);
  });

  it('planQueue() prefers, for equal work lost, the victim with the most time left', () => {
    const plan = planQueue({
      now: NOW,
      nodes: [node('a', 4000)],
      running: [
        // Same age and size: equal work lost. a-short would end by its limit in 5 minutes anyway.
        running('a-short', 'a', 2000, { timeLimitMs: 15 * MIN }),
        running('b-long', 'a', 2000, { timeLimitMs: 10 * 60 * MIN }),
      ],
      pending: [job('urgent', 2000, { priority: 500 })],
    });
    expect(victims(plan)).toEqual(['b-long']);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('planQueue() refuses preemptionGraceMs=%s', (graceMs) => {
    expect(() => planQueue(full({ options: { preemptionGraceMs: graceMs } }))).toThrow(RangeError);
  });
});
