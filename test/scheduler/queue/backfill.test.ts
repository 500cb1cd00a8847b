/**
 * Backfill: a lower job may start ahead of a blocked higher one only if that does not delay the
 * higher one's start, judged by time limits. Planted case: one 4-core node, half of it busy until
 * NOW + 20m; a high-priority job needs all 4 cores, so its resources are held from now on.
 */
import { planQueue, type QueueInput, type QueuedTask } from '../../../src/scheduler/queue/index.js';
import { job, MIN, node, NOW, placedOn, running, waitOf } from './fixtures.js';

/** The planted cluster, with `lower` queued behind the blocked high-priority job `big`. */
function planted(lower: QueuedTask[], over: Partial<QueueInput> = {}): QueueInput {
  return {
    now: NOW,
    nodes: [node('a', 4000)],
    running: [running('r1', 'a', 2000, { timeLimitMs: 30 * MIN, preemptible: false })],
    pending: [job('big', 4000, { priority: 200, timeLimitMs: 60 * MIN }), ...lower],
    ...over,
  };
}

describe('planQueue() backfill', () => {
  it('planQueue() reserves for the blocked job and says when it starts', () => {
    const plan = planQueue(planted([]));
    expect(waitOf(plan, 'big')).toEqual({
      taskId: 'big',
      reason: 'Resources',
      message: 'Resources: no suitable node (insufficient cpu on 1 node); expected start in ~20m',
      expectedStart: NOW + 20 * MIN,
    });
  });

  it('planQueue() MUST start a short job that ends before the reserved start', () => {
    const plan = planQueue(planted([job('short', 2000, { timeLimitMs: 15 * MIN })]));
    expect(placedOn(plan, 'short')).toBe('a');
    expect(waitOf(plan, 'big').expectedStart).toBe(NOW + 20 * MIN);
  });

  it('planQueue() starts a job ending exactly at the reserved start', () => {
    const plan = planQueue(planted([job('edge', 2000, { timeLimitMs: 20 * MIN })]));
    expect(placedOn(plan, 'edge')).toBe('a');
  });

  it.each([
    ['a job longer than the wait', 21 * MIN],
    ['a job without a time limit', 0],
  ])('planQueue() MUST NOT start %s: it would delay the reserved job', (_name, timeLimitMs) => {
    const plan = planQueue(planted([job('long', 2000, { timeLimitMs })]));
    expect(placedOn(plan, 'long')).toBeUndefined();
    expect(waitOf(plan, 'long')).toEqual({
      taskId: 'long',
      reason: 'Priority',
      message:
        'Priority: resources held for job "big" (expected start in ~20m); a time limit under 20m would let it start now',
    });
  });

  it('planQueue() starts a long job on resources the reservation does not need', () => {
    const plan = planQueue(
      planted([job('long', 2000, { timeLimitMs: 0 })], { nodes: [node('a', 4000), node('b', 2000)] }),
    );
    // big cannot fit on b (2 cores) at all, so b is free for anyone.
    expect(placedOn(plan, 'long')).toBe('b');
    expect(waitOf(plan, 'big').reason).toBe('Resources');
  });

  it('planQueue() lets a long job take what the reservation leaves over on its node', () => {
    // r1 frees 2 cores at +20m and big needs 3: 1 core of the free 2 is held, 1 is left over.
    const plan = planQueue(
      planted([], {
        pending: [job('big', 3000, { priority: 200 }), job('one', 1000), job('two', 1000, { jobId: 'two' })],
      }),
    );
    expect(placedOn(plan, 'one')).toBe('a');
    expect(waitOf(plan, 'two').reason).toBe('Priority');
  });

  it('planQueue() keeps a host port the reserved job publishes free of longer jobs', () => {
    const port = [{ port: 8080 }];
    const plan = planQueue(
      planted([], {
        pending: [
          job('big', 3000, { priority: 200, ports: port }),
          job('same-port', 0, { ports: port }),
          job('other-port', 0, { ports: [{ port: 9090 }] }),
        ],
      }),
    );
    expect(waitOf(plan, 'big').expectedStart).toBe(NOW + 20 * MIN);
    // Neither asks for CPU, so only the port can stop them.
    expect(waitOf(plan, 'same-port').reason).toBe('Priority');
    expect(placedOn(plan, 'other-port')).toBe('a');
  });

  it('planQueue() without backfill starts nothing behind a blocked job', () => {
    const plan = planQueue(planted([job('short', 2000, { timeLimitMs: 5 * MIN })], { options: { backfill: false } }));
    expect(placedOn(plan, 'short')).toBeUndefined();
    expect(waitOf(plan, 'short')).toEqual({
      taskId: 'short',
      reason: 'Priority',
      message: 'Priority: waits behind job "big" (backfill is off)',
    });
    expect(waitOf(plan, 'big').expectedStart).toBe(NOW + 20 * MIN);
  });

  it('planQueue() with maxReservations 0 holds nothing back', () => {
    const plan = planQueue(planted([job('long', 2000)], { options: { maxReservations: 0 } }));
    expect(placedOn(plan, 'long')).toBe('a');
    expect(waitOf(plan, 'big').expectedStart).toBeUndefined();
  });

  it('planQueue() gives no expected start to a job that only a never-ending task blocks', () => {
    const plan = planQueue(
      planted([job('long', 2000)], {
        running: [running('forever', 'a', 2000, { timeLimitMs: 0, preemptible: false })],
      }),
    );
    expect(waitOf(plan, 'big')).toEqual({
      taskId: 'big',
      reason: 'Resources',
      message: 'Resources: no suitable node (insufficient cpu on 1 node)',
    });
    // Nothing is reserved, so the lower job uses the free half.
    expect(placedOn(plan, 'long')).toBe('a');
  });

  it('planQueue() counts a terminating task as gone at the reserved start', () => {
    const plan = planQueue(
      planted([job('short', 1000, { timeLimitMs: MIN })], {
        running: [running('stopping', 'a', 2000, { terminating: true, preemptible: false })],
        options: { preemption: false },
      }),
    );
    expect(waitOf(plan, 'big')).toMatchObject({ reason: 'Resources', expectedStart: NOW });
    expect(waitOf(plan, 'big').message).toMatch(/expected start once terminating tasks stop$/);
    // No time limit is short enough to run before "now": the short job waits too.
    expect(waitOf(plan, 'short').reason).toBe('Priority');
  });

  it('planQueue() reserves for an array job its next task and lets later ones wait', () => {
    const pending = [0, 1].map((i) => job(`arr-${i}`, 4000, { jobId: 'arr', index: i, priority: 200 }));
    const plan = planQueue(planted([], { pending: [...pending, job('long', 2000)] }));
    expect(waitOf(plan, 'arr-0').expectedStart).toBe(NOW + 20 * MIN);
    expect(waitOf(plan, 'arr-1').expectedStart).toBeUndefined();
    expect(waitOf(plan, 'long').reason).toBe('Priority');
  });
});
