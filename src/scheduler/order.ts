/** The tie-break order of nodes: by id, or a seeded shuffle of that (never Math.random). */
import { compareIds } from './accounting.js';
import type { NodeView } from './types.js';

/** mulberry32: a small, fast, seedable 32-bit generator; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Node ids in tie-break order: sorted by id, then shuffled (Fisher–Yates) when a seed is given.
 * @example nodeOrder(nodes) // ['a', 'b', 'c']
 */
export function nodeOrder(nodes: readonly NodeView[], seed?: number): string[] {
  const ids = nodes.map((n) => n.id).sort(compareIds);
  if (seed === undefined) return ids;
  const random = seededRandom(seed);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return ids;
}
