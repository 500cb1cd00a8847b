import { describe, expect, it } from '@jest/globals';
import { StatsWindow } from '../../src/autoscale/index.js';

const sample = (at: number, cpuCores = 1) => ({ at, cpuCores, memoryBytes: null });

describe('StatsWindow', () => {
  it('add() keeps a task’s samples within keepMs and at most maxSamplesPerTask', () => {
    const window = new StatsWindow({ keepMs: 10_000, maxSamplesPerTask: 3 });
    for (let at = 0; at <= 20_000; at += 1_000) window.add('s', 't', sample(at));
    expect(
      window
        .samples('s')
        .get('t')!
        .map((s) => s.at),
    ).toEqual([18_000, 19_000, 20_000]);
    const slow = new StatsWindow({ keepMs: 10_000, maxSamplesPerTask: 100 });
    for (let at = 0; at <= 20_000; at += 5_000) slow.add('s', 't', sample(at));
    expect(
      slow
        .samples('s')
        .get('t')!
        .map((s) => s.at),
    ).toEqual([10_000, 15_000, 20_000]);
  });

  it('add() drops, and counts, samples of more tasks than maxTasks', () => {
    const window = new StatsWindow({ maxTasks: 2 });
    window.add('s', 'a', sample(0));
    window.add('s', 'b', sample(0));
    window.add('z', 'c', sample(0));
    window.add('s', 'a', sample(1)); // a known task still gets its samples
    expect(window.tasks).toBe(2);
    expect(window.dropped).toBe(1);
    expect(window.samples('s').get('a')).toHaveLength(2);
    expect(window.samples('z').size).toBe(0);
  });

  it('retain() and retainServices() forget what is no longer live, freeing room', () => {
    const window = new StatsWindow({ maxTasks: 2 });
    window.add('s', 'a', sample(0));
    window.add('s', 'b', sample(0));
    window.retain('s', new Set(['b']));
    expect([...window.samples('s').keys()]).toEqual(['b']);
    window.add('t', 'c', sample(0));
    expect(window.tasks).toBe(2);
    window.retainServices(new Set(['t']));
    expect(window.tasks).toBe(1);
    expect(window.samples('s').size).toBe(0);
  });
});
