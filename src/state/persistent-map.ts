/**
 * A persistent (immutable, structurally shared) map from strings to values: a hash array mapped
 * trie with 32-way nodes. `set` and `delete` return a new map that shares every node off the
 * changed path with the old one, so a change costs O(log32 n) (four levels at a million keys)
 * and every older version stays a consistent, unchanging view.
 *
 * The trie is canonical: the same keys give the same shape whatever the order they were set or
 * deleted in (a branch left with one leaf collapses into it; colliding keys are kept sorted), so
 * iteration order is a function of the key set and every peer iterates the same way.
 * @module
 * @private
 */

const BITS = 5;
const MASK = (1 << BITS) - 1;

class Leaf<V> {
  constructor(
    readonly hash: number,
    readonly key: string,
    readonly value: V,
  ) {}
}

/** A key, its hash and its value (made by {@link PersistentMap.entry}). */
export type MapEntry<V> = Leaf<V>;

/** Keys whose whole 32-bit hash is equal, sorted by key. */
class Collision<V> {
  constructor(
    readonly hash: number,
    readonly leaves: readonly Leaf<V>[],
  ) {}
}

/** `children` holds one node per set bit of `bitmap`, in bit order. */
class Branch<V> {
  constructor(
    readonly bitmap: number,
    readonly children: readonly Node<V>[],
  ) {}
}

type Node<V> = Leaf<V> | Collision<V> | Branch<V>;

/** FNV-1a over UTF-16 code units: fast, and good enough for ids that are mostly random already. */
function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

const fragment = (hash: number, shift: number): number => (hash >>> shift) & MASK;

function lookup<V>(node: Node<V> | null, hash: number, key: string): Leaf<V> | undefined {
  let shift = 0;
  while (node !== null) {
    if (node instanceof Branch) {
      const bit = 1 << fragment(hash, shift);
      if ((node.bitmap & bit) === 0) return undefined;
      node = node.children[popcount(node.bitmap & (bit - 1))]!;
      shift += BITS;
    } else if (node instanceof Leaf) {
      return node.key === key ? node : undefined;
    } else {
      return node.hash === hash ? node.leaves.find((l) => l.key === key) : undefined;
    }
  }
  return undefined;
}

/** A leaf or collision and a new leaf of another key, as the smallest subtree below `shift` holding both. */
function join<V>(a: Leaf<V> | Collision<V>, b: Leaf<V>, shift: number): Node<V> {
  if (a.hash === b.hash) {
    const leaves = a instanceof Leaf ? [a, b] : [...a.leaves, b];
    return new Collision(
      a.hash,
      leaves.sort((x, y) => (x.key < y.key ? -1 : 1)),
    );
  }
  const fa = fragment(a.hash, shift);
  const fb = fragment(b.hash, shift);
  if (fa === fb) return new Branch(1 << fa, [join(a, b, shift + BITS)]);
  return new Branch((1 << fa) | (1 << fb), fa < fb ? [a, b] : [b, a]);
}

function insert<V>(node: Node<V> | null, shift: number, leaf: Leaf<V>): Node<V> {
  if (node === null) return leaf;
  if (node instanceof Branch) {
    const bit = 1 << fragment(leaf.hash, shift);
    const at = popcount(node.bitmap & (bit - 1));
    if ((node.bitmap & bit) === 0) {
      const children = [...node.children];
      children.splice(at, 0, leaf);
      return new Branch(node.bitmap | bit, children);
    }
    const child = node.children[at]!;
    const next = insert(child, shift + BITS, leaf);
    if (next === child) return node;
    const children = [...node.children];
    children[at] = next;
    return new Branch(node.bitmap, children);
  }
  if (node instanceof Leaf) {
    if (node.key === leaf.key) return node.value === leaf.value ? node : leaf;
    return join(node, leaf, shift);
  }
  if (node.hash !== leaf.hash) return join(node, leaf, shift);
  const i = node.leaves.findIndex((l) => l.key === leaf.key);
  if (i >= 0 && node.leaves[i]!.value === leaf.value) return node;
  if (i >= 0)
    return new Collision(
      node.hash,
      node.leaves.map((l, k) => (k === i ? leaf : l)),
    );
  return join(node, leaf, shift);
}

function remove<V>(node: Node<V> | null, shift: number, hash: number, key: string): Node<V> | null {
  if (node === null) return null;
  if (node instanceof Leaf) return node.key === key ? null : node;
  if (node instanceof Collision) {
    if (node.hash !== hash) return node;
    const leaves = node.leaves.filter((l) => l.key !== key);
    if (leaves.length === node.leaves.length) return node;
    return leaves.length === 1 ? leaves[0]! : new Collision(hash, leaves);
  }
  const bit = 1 << fragment(hash, shift);
  if ((node.bitmap & bit) === 0) return node;
  const at = popcount(node.bitmap & (bit - 1));
  const child = node.children[at]!;
  const next = remove(child, shift + BITS, hash, key);
  if (next === child) return node;
  if (next === null) {
    if (node.children.length === 1) return null;
    const children = node.children.filter((_, k) => k !== at);
    // Canonical shape: a branch holding only a leaf (or collision) is that leaf.
    if (children.length === 1 && !(children[0] instanceof Branch)) return children[0]!;
    return new Branch(node.bitmap & ~bit, children);
  }
  if (node.children.length === 1 && !(next instanceof Branch)) return next;
  const children = [...node.children];
  children[at] = next;
  return new Branch(node.bitmap, children);
}

/**
 * The canonical subtree of `items` (distinct keys that agree on every fragment above `shift`),
 * built in one pass: the shape {@link insert} reaches one key at a time, without the copies.
 */
function build<V>(items: readonly Leaf<V>[], shift: number): Node<V> {
  if (items.length === 1) return items[0]!;
  const first = items[0]!.hash;
  if (items.every((l) => l.hash === first)) {
    const sorted = [...items].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i - 1]!.key === sorted[i]!.key)
        throw new RangeError(
          `Cannot build a map with key ${JSON.stringify(sorted[i]!.key)} twice: keys must be distinct`,
        );
    }
    return new Collision(first, sorted);
  }
  const buckets: Leaf<V>[][] = [];
  let bitmap = 0;
  for (const leaf of items) {
    const f = fragment(leaf.hash, shift);
    const bucket = buckets[f];
    if (bucket === undefined) buckets[f] = [leaf];
    else bucket.push(leaf);
    bitmap |= 1 << f;
  }
  const children: Node<V>[] = [];
  for (let f = 0; f <= MASK; f++) {
    const bucket = buckets[f];
    if (bucket !== undefined) children.push(build(bucket, shift + BITS));
  }
  return new Branch(bitmap, children);
}

/** The leaves under `node`, in trie order (a plain recursion: generators cost far more per key). */
function leaves<V>(node: Node<V> | null, out: Leaf<V>[] = []): Leaf<V>[] {
  if (node === null) return out;
  if (node instanceof Leaf) out.push(node);
  else if (node instanceof Collision) out.push(...node.leaves);
  else for (const child of node.children) leaves(child, out);
  return out;
}

/** A key whose value differs between two maps: absent on one side is `undefined`. */
export type DiffVisitor<V> = (key: string, before: V | undefined, after: V | undefined) => void;

function diffNodes<V>(a: Node<V> | null, b: Node<V> | null, shift: number, visit: DiffVisitor<V>): void {
  if (a === b) return;
  if (a instanceof Branch && b instanceof Branch) {
    const bits = a.bitmap | b.bitmap;
    for (let f = 0; f <= MASK; f++) {
      const bit = 1 << f;
      if ((bits & bit) === 0) continue;
      const ca = (a.bitmap & bit) === 0 ? null : a.children[popcount(a.bitmap & (bit - 1))]!;
      const cb = (b.bitmap & bit) === 0 ? null : b.children[popcount(b.bitmap & (bit - 1))]!;
      diffNodes(ca, cb, shift + BITS, visit);
    }
    return;
  }
  // A leaf or collision on one side: small on that side, so compare by key.
  const before = new Map<string, V>();
  for (const leaf of leaves(a)) before.set(leaf.key, leaf.value);
  for (const leaf of leaves(b)) {
    const old = before.get(leaf.key);
    if (!before.has(leaf.key)) visit(leaf.key, undefined, leaf.value);
    else if (old !== leaf.value) visit(leaf.key, old, leaf.value);
    before.delete(leaf.key);
  }
  for (const [key, value] of before) visit(key, value, undefined);
}

/**
 * An immutable string-keyed map with cheap updates.
 * @example
 * const a = PersistentMap.empty<number>().set('x', 1);
 * const b = a.set('y', 2); // a still has one key
 * a.diff(b, (key, before, after) => console.log(key, before, after)); // y undefined 2
 */
export class PersistentMap<V> implements Iterable<V> {
  readonly #root: Node<V> | null;
  readonly size: number;

  private constructor(root: Node<V> | null, size: number) {
    this.#root = root;
    this.size = size;
    Object.freeze(this);
  }

  static empty<V>(): PersistentMap<V> {
    return new PersistentMap<V>(null, 0);
  }

  /**
   * A map of `entries` built in one pass (O(n log32 n), no intermediate versions): the same map,
   * shape and iteration order as setting them one by one.
   * @throws {RangeError} when a key occurs twice.
   * @example PersistentMap.from([['a', 1], ['b', 2]]).size; // 2
   */
  static from<V>(entries: Iterable<readonly [string, V]>): PersistentMap<V> {
    const items: Leaf<V>[] = [];
    for (const [key, value] of entries) items.push(new Leaf(hashOf(key), key, value));
    return PersistentMap.#of(items);
  }

  /**
   * A key and its value, hashed once, for {@link ofEntries}: one entry can go into several maps
   * (a task in each index it belongs to), which shares it instead of copying it.
   */
  static entry<V>(key: string, value: V): MapEntry<V> {
    return new Leaf(hashOf(key), key, value);
  }

  /**
   * A map of `entries` built in one pass like {@link from} (the array is not changed).
   * @throws {RangeError} when a key occurs twice.
   * @example
   * const e = tasks.map((t) => PersistentMap.entry(t.id, t));
   * const all = PersistentMap.ofEntries(e);
   * const running = PersistentMap.ofEntries(e.filter((x) => x.value.state === 'running'));
   */
  static ofEntries<V>(entries: readonly MapEntry<V>[]): PersistentMap<V> {
    return PersistentMap.#of(entries);
  }

  static #of<V>(items: readonly Leaf<V>[]): PersistentMap<V> {
    return items.length === 0 ? PersistentMap.empty() : new PersistentMap(build(items, 0), items.length);
  }

  get(key: string): V | undefined {
    return lookup(this.#root, hashOf(key), key)?.value;
  }

  has(key: string): boolean {
    return lookup(this.#root, hashOf(key), key) !== undefined;
  }

  /** This map with `key` set to `value`; this very map when it holds that value already. */
  set(key: string, value: V): PersistentMap<V> {
    const hash = hashOf(key);
    const had = lookup(this.#root, hash, key) !== undefined;
    const root = insert(this.#root, 0, new Leaf(hash, key, value));
    return root === this.#root ? this : new PersistentMap(root, had ? this.size : this.size + 1);
  }

  /** This map without `key`; this very map when it has no such key. */
  delete(key: string): PersistentMap<V> {
    const root = remove(this.#root, 0, hashOf(key), key);
    return root === this.#root ? this : new PersistentMap(root, this.size - 1);
  }

  /** The keys, as a fresh array. */
  keys(): string[] {
    return leaves(this.#root).map((l) => l.key);
  }

  /** The values, as a fresh array. */
  values(): V[] {
    return leaves(this.#root).map((l) => l.value);
  }

  entries(): [string, V][] {
    return leaves(this.#root).map((l) => [l.key, l.value]);
  }

  [Symbol.iterator](): Iterator<V> {
    return this.values()[Symbol.iterator]();
  }

  /** Call `visit` for every key whose value differs in `next`; shared subtrees are skipped. */
  diff(next: PersistentMap<V>, visit: DiffVisitor<V>): void {
    diffNodes(this.#root, next.#root, 0, visit);
  }
}
