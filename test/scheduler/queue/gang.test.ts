/** Gangs start all their tasks at once or none, and hold nothing partial that could deadlock. */
import { planQueue, type QueuedTask } from '../../../src/scheduler/queue/index.js';
import { job, MIN, node, NOW, placedOn, running, waitOf } from './fixtures.js';

/** `count` tasks of gang `id` (one job), `cpus` each. */
function gang(id: string, count: number, cpus: number, over: Partial<QueuedTask> = {}): QueuedTask[] {
  return Array.from({ length: count }, (_, i) => job(`${id}-${i}`, cpus, { jobId: id, gang: id, index: i, ...over }));
}

describe('planQueue() gangs', () => {
  it('planQueue() starts a gang whole when all its tasks fit', () => {
    const plan = planQueue({ now: NOW, nodes: [node('a'), node('b')], running: [], pending: gang('mpi', 4, 2000) });
    expect(plan.placements.map((p) => p.taskId).sort()).toEqual(['mpi-0', 'mpi-1', 'mpi-2', 'mpi-3']);
    expect(plan.waiting).toEqual([]);
  });

  it('planQueue() starts none of a gang when only part fits, and says so', () => {
    const plan = planQueue({
      now: NOW,
      nodes: [node('a'), node('b')],
      running: [],
      pending: gang('mpi', 5, 2000),
      options: { preemption: false },
    });
    expect(plan.placements).toEqual([]);
    expect(plan.waiting.map((w) => w.reason)).toEqual(['Gang', 'Gang', 'Gang', 'Gang', 'Gang']);
    expect(waitOf(plan, 'mpi-0').message).toBe('Gang: only 4 of 5 tasks of gang "mpi" fit now; it starts when all fit');
  });

  it('planQueue() says Resources when no task of the gang fits', () => {
    const plan = planQueue({ now: NOW, nodes: [node('a')], running: [], pending: gang('big', 2, 8000) });
    expect(waitOf(plan, 'big-1')).toMatchObject({ reason: 'Resources' });
  });

  it('planQueue() does not deadlock two gangs that each fit alone but not together', () => {
    const pending = [...gang('g1', 3, 2000), ...gang('g2', 3, 2000, { submittedAt: NOW + 1 })];
    const plan = planQueue({ now: NOW, nodes: [node('a'), node('b')], running: [], pending });
    expect(plan.placements.map((p) => p.taskId).sort()).toEqual(['g1-0', 'g1-1', 'g1-2']);
    expect(plan.waiting.map((w) => [w.taskId, w.reason])).toEqual([
      ['g2-0', 'Gang'],
      ['g2-1', 'Gang'],
      ['g2-2', 'Gang'],
    ]);
    // Next pass, g1 has finished: g2 starts whole (nothing of it was half-placed meanwhile).
    const next = planQueue({ now: NOW + MIN, nodes: [node('a'), node('b')], running: [], pending: pending.slice(3) });
    expect(next.placements.map((p) => p.taskId).sort()).toEqual(['g2-0', 'g2-1', 'g2-2']);
  });

  it('planQueue() lets smaller work use what a gang that does not fit would have taken', () => {
    const pending = [...gang('g', 3, 4000, { priority: 200 }), job('small', 1000)];
    const plan = planQueue({ now: NOW, nodes: [node('a'), node('b')], running: [], pending });
    // No end time is known for anything, so the gang gets no reservation and holds nothing.
    expect(placedOn(plan, 'small')).toBeDefined();
    expect(waitOf(plan, 'g-0').reason).toBe('Gang');
  });

  it('planQueue() reserves for a blocked gang like for any job', () => {
    const pending = [...gang('g', 2, 4000, { priority: 200 }), job('long', 1000)];
    const plan = planQueue({
      now: NOW,
      nodes: [node('a'), node('b')],
      running: [running('r', 'b', 1000, { timeLimitMs: 20 * MIN, startedAt: NOW, preemptible: false })],
      pending,
    });
    expect(waitOf(plan, 'g-0')).toMatchObject({ reason: 'Gang', expectedStart: NOW + 20 * MIN });
    expect(waitOf(plan, 'g-1').expectedStart).toBe(NOW + 20 * MIN);
    expect(waitOf(plan, 'long').reason).toBe('Priority');
  });

  it('planQueue() places a gang of mixed requests together', () => {
    const pending = [
      job('ps', 1000, { jobId: 'train', gang: 'train' }),
      ...gang('w', 2, 3000, { jobId: 'train', gang: 'train' }),
    ];
    const plan = planQueue({ now: NOW, nodes: [node('a'), node('b')], running: [], pending });
    expect(plan.placements.map((p) => p.taskId).sort()).toEqual(['ps', 'w-0', 'w-1']);
  });

  it('planQueue() preempts for a whole gang or for none of it', () => {
    const lowA = running('low-a', 'a', 4000, { priority: 10 });
    const highB = running('high-b', 'b', 4000, { priority: 900 });
    const plan = planQueue({
      now: NOW,
      nodes: [node('a'), node('b')],
      running: [lowA, highB],
      pending: gang('g', 2, 4000, { priority: 500 }),
    });
    // Only a's task could go, which is not enough for two tasks: nobody is preempted.
    expect(plan.preemptions).toEqual([]);
    const both = planQueue({
      now: NOW,
      nodes: [node('a'), node('b')],
      running: [lowA, { ...highB, priority: 10 }],
      pending: gang('g', 2, 4000, { priority: 500 }),
    });
    expect(both.preemptions.map((p) => p.victimTaskId).sort()).toEqual(['high-b', 'low-a']);
    expect(both.waiting.map((w) => w.reason)).toEqual(['Preempting', 'Preempting']);
  });
});
