/**
 * A small seeded pseudo-random generator for tests and the simulator.
 *
 * sfc32 (Chris Doty-Humphrey's Small Fast Counter), seeded through splitmix32 so that nearby
 * seeds (1, 2, 3...) give unrelated streams. Deterministic across platforms: only 32-bit
 * integer arithmetic, no Math.random().
 */

/** splitmix32: spreads one 32-bit seed into well-mixed words. */
function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seeded random source.
 *
 * @example
 * ```ts
 * const rng = new Prng(42);
 * rng.int(0, 6); // 0..5, the same for seed 42 on every run
 * ```
 */
export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed))
      throw new RangeError(`Cannot seed Prng as the seed must be a finite number: got ${seed}`);
    const mix = splitmix32((Math.floor(seed) >>> 0) ^ Math.floor(seed / 2 ** 32));
    this.#a = mix();
    this.#b = mix();
    this.#c = mix();
    this.#d = mix();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** The next 32-bit unsigned integer. */
  uint32(): number {
    const a = this.#a;
    const b = this.#b;
    const c = this.#c;
    const d = this.#d;
    const t = (((a + b) >>> 0) + d) >>> 0;
    this.#d = (d + 1) >>> 0;
    this.#a = (b ^ (b >>> 9)) >>> 0;
    this.#b = (c + (c << 3)) >>> 0;
    const rotated = ((c << 21) | (c >>> 11)) >>> 0;
    this.#c = (rotated + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [lo, hi). Throws a RangeError when the range is empty. */
  int(lo: number, hi: number): number {
    if (!(hi > lo)) throw new RangeError(`Cannot draw an integer in [${lo}, ${hi}) as the range is empty`);
    return lo + Math.floor(this.next() * (hi - lo));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Cannot pick from an empty array');
    return items[this.int(0, items.length)]!;
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** A pick weighted by `weight`; entries with weight <= 0 are never chosen. */
  weighted<T extends string>(weights: Readonly<Record<T, number>>): T {
    const entries = (Object.entries(weights) as [T, number][]).filter(([, w]) => w > 0);
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    if (total <= 0) throw new RangeError('Cannot make a weighted pick as every weight is zero');
    let x = this.next() * total;
    for (const [key, w] of entries) {
      x -= w;
      if (x < 0) return key;
    }
    return entries[entries.length - 1]![0];
  }

  /** An independent generator derived from this one (for a component that must not perturb others). */
  fork(): Prng {
    return new Prng(this.uint32() * 4294967296 + this.uint32());
  }

  /** A `() => number` in [0, 1), the shape RaftConfig.random wants. */
  asFunction(): () => number {
    return () => this.next();
  }
}
