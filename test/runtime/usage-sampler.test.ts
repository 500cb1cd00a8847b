import { UsageSampler, sampleOf, type UsageSample } from '../../src/runtime/usage-sampler.js';
import { container } from './fixtures.js';

/** A sampler over a fake engine whose answers the test sets, on a clock the test moves. */
function rig(options: { intervalMs?: number; maxPerSecond?: number } = {}) {
  let now = 0;
  const calls: string[] = [];
  const usage = new Map<string, UsageSample | null>();
  const sampler = new UsageSampler(
    (id) => {
      calls.push(id);
      return Promise.resolve(usage.get(id) ?? null);
    },
    { ...options, now: () => now },
  );
  return { sampler, calls, usage, advance: (ms: number) => (now += ms) };
}

const running = (id: string) => container({ id, taskId: `t-${id}` });
const exited = (id: string) => container({ id, taskId: `t-${id}`, status: 'exited', exitCode: 0, finishedAt: 5000 });

describe('UsageSampler', () => {
  it('observe() samples a running container when first seen and reports the last sample once it stopped', async () => {
    const { sampler, usage } = rig();
    usage.set('a', { cpuMs: 120, peakMemoryBytes: 4 << 20 });
    expect(sampler.observe([running('a')])[0]!.usage).toBeUndefined(); // never waits for a sample
    await sampler.settled();
    expect(sampler.observe([running('a')])[0]!.usage).toEqual({ cpuMs: 120, peakMemoryBytes: 4 << 20 });
    usage.set('a', null); // stopped: the engine has nothing any more
    expect(sampler.observe([exited('a')])[0]).toMatchObject({ status: 'exited', usage: { cpuMs: 120 } });
  });

  it('observe() samples a container as often as it is old, from 1 s up to the interval', async () => {
    const { sampler, calls, advance } = rig({ intervalMs: 5000 });
    const times: number[] = [];
    for (let t = 0; t <= 20_000; t += 500) {
      const before = calls.length;
      sampler.observe([running('a')]);
      if (calls.length > before) times.push(t);
      await sampler.settled();
      advance(500);
    }
    expect(times).toEqual([0, 1000, 2000, 4000, 8000, 13_000, 18_000]);
  });

  it('observe() starts at most maxPerSecond samples a second, one in flight per container, the others next', async () => {
    const { sampler, calls, advance } = rig({ maxPerSecond: 2 });
    const many = ['a', 'b', 'c', 'd'].map(running);
    sampler.observe(many);
    sampler.observe(many);
    expect(calls).toEqual(['a', 'b']);
    expect(sampler.inFlight).toBe(2);
    await sampler.settled();
    advance(999);
    sampler.observe(many);
    expect(calls).toEqual(['a', 'b']);
    advance(1);
    sampler.observe(many);
    expect(calls).toEqual(['a', 'b', 'c', 'd']);
  });

  it('observe() never lets a sample lower what was measured, and forgets containers no longer listed', async () => {
    const { sampler, usage, advance } = rig({ intervalMs: 1000 });
    usage.set('a', { cpuMs: 300, peakMemoryBytes: 8 << 20 });
    sampler.observe([running('a')]);
    await sampler.settled();
    advance(1000);
    usage.set('a', { cpuMs: 250, peakMemoryBytes: 2 << 20 }); // a cgroup being torn down
    sampler.observe([running('a')]);
    await sampler.settled();
    const view = sampler.observe([running('a')])[0]!;
    expect(view.usage).toEqual({ cpuMs: 300, peakMemoryBytes: 8 << 20 });
    sampler.observe([]);
    expect(sampler.observe([exited('a')])[0]!.usage).toBeUndefined();
  });

  it('observe() hands out the same view while nothing changed (the runtime compares by identity)', async () => {
    const { sampler, usage } = rig();
    usage.set('a', { cpuMs: 1, peakMemoryBytes: 1 });
    const c = running('a');
    sampler.observe([c]);
    await sampler.settled();
    expect(sampler.observe([c])[0]).toBe(sampler.observe([c])[0]);
  });
});

describe('sampleOf()', () => {
  it.each([
    [
      'cgroup v1',
      { cpu_stats: { cpu_usage: { total_usage: 2_500_000 } }, memory_stats: { max_usage: 9000, usage: 4000 } },
      { cpuMs: 2.5, peakMemoryBytes: 9000 },
    ],
    [
      'cgroup v2 (no max_usage)',
      { cpu_stats: { cpu_usage: { total_usage: 1e6 } }, memory_stats: { usage: 4000 } },
      { cpuMs: 1, peakMemoryBytes: 4000 },
    ],
    ['a stopped container (all zero)', { cpu_stats: { cpu_usage: { total_usage: 0 } }, memory_stats: {} }, null],
  ])('reads %s', (_what, stats, expected) => {
    expect(sampleOf(stats)).toEqual(expected);
  });
});
