/** neverFits(): a task no node could hold even empty, and the planner's REASON for it. */
import { neverFits, planQueue } from '../../../src/scheduler/queue/index.js';
import { GiB, NOW, job, node, waitOf } from './fixtures.js';

const nodes = [node('a', 4000), node('b', 8000, { resources: { cpus: 8000, memoryBytes: 16 * GiB, gpus: ['g0'] } })];

describe('neverFits()', () => {
  it.each([
    ['fits on the largest node', { cpus: 8000, memoryBytes: 16 * GiB, gpus: 1 }],
    ['fits on any node', { cpus: 1000 }],
    ['asks for nothing', {}],
  ])('neverFits() is null when a task %s', (_, request) => {
    expect(neverFits(request, nodes)).toBeNull();
  });

  it('neverFits() is null without nodes to judge by', () => {
    expect(neverFits({ cpus: 1_000_000 }, [])).toBeNull();
  });

  it.each([
    [
      '-c 1000',
      { cpus: 1_000_000 },
      'one unit needs 1000 CPUs, 0 B memory; the largest node, host-b, has 8 CPUs, 16 GiB memory (not enough cpu)',
    ],
    [
      '--mem 100T',
      { cpus: 1000, memoryBytes: 100 * 1024 * GiB },
      'one unit needs 1 CPUs, 100 TiB memory; the largest node, host-b, has 8 CPUs, 16 GiB memory (not enough memory)',
    ],
    [
      '--gpus 2',
      { cpus: 1000, gpus: 2 },
      'one unit needs 1 CPUs, 0 B memory, 2 GPUs; the largest node, host-b, has 8 CPUs, 16 GiB memory, 1 GPUs (not enough gpu)',
    ],
    [
      'more than one node has of everything',
      { cpus: 16_000, memoryBytes: 32 * GiB },
      'one unit needs 16 CPUs, 32 GiB memory; the largest node, host-b, has 8 CPUs, 16 GiB memory (not enough cpu, memory)',
    ],
  ])('neverFits() explains %s with the largest node', (_, request, message) => {
    expect(neverFits(request, nodes)).toBe(message);
  });

  it('neverFits() counts nodes that are down or drained (they may come back)', () => {
    const down = node('c', 64_000, { status: 'down', availability: 'drain' });
    expect(neverFits({ cpus: 32_000 }, [...nodes, down])).toBeNull();
  });
});

describe('planQueue() and a task that never fits', () => {
  it('planQueue() says a task never fits, naming the largest node, instead of waiting silently', () => {
    const plan = planQueue({ now: NOW, nodes, running: [], pending: [job('huge', 1_000_000), job('small', 1000)] });
    expect(waitOf(plan, 'huge')).toMatchObject({
      reason: 'Resources',
      message: expect.stringMatching(
        /^Resources: never fits: one unit needs 1000 CPUs, 0 B memory; the largest node, host-b, has 8 CPUs/,
      ),
    });
    expect(plan.placements.map((p) => p.taskId)).toEqual(['small']);
  });
});
