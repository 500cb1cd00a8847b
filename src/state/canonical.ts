/**
 * Canonical form for encoding: object keys in code-unit order at every depth, undefined-valued
 * keys dropped. JS objects keep insertion order, which differs between a peer that built its
 * state entry by entry and one restored from a snapshot; sorting makes the bytes depend on the
 * content only.
 * @module
 * @private
 */

/**
 * A copy of `value` with every plain object's keys sorted.
 * @example canonicalize({ b: 1, a: { d: 2, c: 3 } }) // { a: { c: 3, d: 2 }, b: 1 } in that key order
 */
export function canonicalize(value: unknown, depth = 0): unknown {
  if (depth > 64) throw new RangeError('Cannot canonicalize a value nested deeper than 64 levels');
  if (Array.isArray(value)) return value.map((v) => canonicalize(v, depth + 1));
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    // A Map, Set or Date would encode in an order or form we do not control: state is plain data.
    throw new TypeError(
      `Cannot canonicalize a ${proto?.constructor?.name ?? 'non-plain object'}: replicated state holds plain objects only`,
    );
  }
  const out: Record<string, unknown> = {};
  // Default sort compares UTF-16 code units: locale-independent, the same on every peer.
  for (const key of Object.keys(value).sort()) put(out, key, (value as Record<string, unknown>)[key], depth);
  return out;
}

/**
 * The canonical object of `keys` (sorted already) and their values: what {@link canonicalize}
 * makes of such an object, for a caller that holds the values elsewhere (a task table) and so
 * skips building the plain object first. `depth` is the depth of the object made.
 * @example canonicalRecord(sortedIds, (id) => table.get(id), 2)
 */
export function canonicalRecord(keys: readonly string[], valueOf: (key: string) => unknown, depth: number): object {
  if (depth > 64) throw new RangeError('Cannot canonicalize a value nested deeper than 64 levels');
  const out: Record<string, unknown> = {};
  for (const key of keys) put(out, key, valueOf(key), depth);
  return out;
}

/** `out[key]` = the canonical `v`, unless `v` is undefined. */
function put(out: Record<string, unknown>, key: string, v: unknown, depth: number): void {
  if (v === undefined) return;
  const scalar = typeof v !== 'object' || v === null;
  // Assignment to "__proto__" would set the prototype: defineProperty keeps it a key. Only
  // for that key, as defineProperty is several times slower and snapshots hold many keys.
  if (key === '__proto__')
    Object.defineProperty(out, key, {
      value: canonicalize(v, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  // A scalar is its own canonical form: no call for each of the millions in a snapshot.
  else out[key] = scalar ? v : canonicalize(v, depth + 1);
}
