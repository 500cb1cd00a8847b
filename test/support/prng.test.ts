import { Prng } from './prng.js';

describe('Prng', () => {
  it('repeats the same stream for the same seed', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    expect(Array.from({ length: 20 }, () => a.uint32())).toEqual(Array.from({ length: 20 }, () => b.uint32()));
  });

  it('gives different streams for nearby seeds', () => {
    expect(new Prng(1).uint32()).not.toBe(new Prng(2).uint32());
  });

  it('int() stays within [lo, hi) and hits every value', () => {
    const rng = new Prng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const x = rng.int(2, 7);
      expect(x).toBeGreaterThanOrEqual(2);
      expect(x).toBeLessThan(7);
      seen.add(x);
    }
    expect([...seen].sort()).toEqual([2, 3, 4, 5, 6]);
  });

  it('next() is roughly uniform', () => {
    const rng = new Prng(11);
    let sum = 0;
    for (let i = 0; i < 10000; i++) sum += rng.next();
    expect(sum / 10000).toBeGreaterThan(0.45);
    expect(sum / 10000).toBeLessThan(0.55);
  });

  it('weighted() never picks a zero weight', () => {
    const rng = new Prng(5);
    for (let i = 0; i < 200; i++) expect(rng.weighted({ a: 1, b: 0, c: 3 })).not.toBe('b');
  });

  it('int() rejects an empty range', () => {
    expect(() => new Prng(1).int(3, 3)).toThrow(RangeError);
  });
});
