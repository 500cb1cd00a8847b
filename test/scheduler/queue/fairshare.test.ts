/** Fair-share usage: decayed with a half-life, accrued from running tasks, and what it does to the order. */
import { accrueUsage, decay, planQueue } from '../../../src/scheduler/queue/index.js';
import { job, MIN, node, NOW, running } from './fixtures.js';

const HOUR = 60 * MIN;

describe('fair-share usage', () => {
  it.each([
    [0, 800],
    [HOUR, 400],
    [2 * HOUR, 200],
    [3 * HOUR, 100],
  ])('decay() after %i ms with a one-hour half-life leaves %i of 800', (elapsed, expected) => {
    expect(decay(800, elapsed, HOUR)).toBeCloseTo(expected, 9);
  });

  it('decay() rejects a half-life that is not positive', () => {
    expect(() => decay(1, 1, 0)).toThrow(/halfLifeMs=0: expected a number > 0/);
  });

  it('accrueUsage() decays old usage and adds the CPU time of running tasks since the last pass', () => {
    const tasks = [
      running('a', 'n', 2000, { namespace: 'ml', startedAt: NOW - 10 * MIN }),
      // Started halfway through the interval: counts half of it.
      running('b', 'n', 1000, { namespace: 'etl', startedAt: NOW - 30 * MIN }),
      running('svc', 'n', 4000, { namespace: null }),
    ];
    const usage = accrueUsage({ ml: 1e6, old: 1 }, tasks, NOW - HOUR, NOW, HOUR);
    expect(usage.ml).toBeCloseTo(0.5e6 + 2 * 10 * MIN, 6);
    expect(usage.etl).toBeCloseTo(1 * 30 * MIN, 6);
    expect(usage).not.toHaveProperty('old');
    expect(Object.keys(usage).sort()).toEqual(['etl', 'ml']);
  });

  it('accrueUsage() lets a namespace that stopped using the cluster come back to the front', () => {
    const pending = [job('heavy', 1, { namespace: 'heavy' }), job('steady', 1, { namespace: 'steady' })];
    const steady = [running('s', 'n', 1000, { namespace: 'steady', startedAt: NOW - 100 * HOUR })];
    let usage: Record<string, number> = { heavy: 1e9 };
    const order = (): readonly string[] =>
      planQueue({ now: NOW, nodes: [node('n')], running: [], pending, usage }).order;
    expect(order()).toEqual(['steady', 'heavy']);
    // Ten half-lives later, heavy's burst has faded and steady's constant use dominates.
    for (let h = 0; h < 10; h++) usage = accrueUsage(usage, steady, NOW + h * HOUR, NOW + (h + 1) * HOUR, HOUR);
    expect(order()).toEqual(['heavy', 'steady']);
  });
});
