/**
 * Canonical hashing of specs, so "redeploying an unchanged file changes
 * nothing" is a comparison of two strings.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { ServiceSpec, StackSpec } from './spec.js';

/**
 * Canonical JSON: object keys sorted, `undefined` members dropped, arrays in
 * order, no whitespace. Throws a `TypeError` on values JSON cannot represent
 * faithfully (functions, symbols, bigints, non-finite numbers).
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [2, { d: 3, c: undefined }] }); // '{"a":[2,{"d":3}],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value))
        throw new TypeError(`Cannot hash the number ${value}: only finite numbers have a canonical form`);
      return JSON.stringify(Object.is(value, -0) ? 0 : value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`Cannot hash a ${typeof value}: specs hold only JSON values`);
  }
}

/**
 * SHA-256 (hex) of a service's canonical JSON. Equal for equivalent Compose
 * files (key order, short vs long syntax), different for any real change.
 *
 * @example
 * ```ts
 * if (hashService(next) === deployed.specHash) return []; // nothing to do
 * ```
 */
export function hashService(spec: ServiceSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

/** SHA-256 (hex) of a whole stack's canonical JSON. */
export function hashStack(spec: StackSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}
