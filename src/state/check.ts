/**
 * Small path-aware checks for validating decoded data. Each returns the checked value (copied
 * where it is a container, so the caller never keeps a reference to untrusted input) or throws
 * a {@link FieldIssue} that names the field path; the caller turns it into its domain error.
 * @module
 * @private
 */

/** One field is wrong: `path` is dotted (`resources.gpus[1].uuid`). */
export class FieldIssue extends Error {
  override readonly name = 'FieldIssue';
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

/** The path of `key` under `path`. */
export function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** A short description of a value for "got …" in messages: never huge, never the whole object. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof Map) return 'a map with non-text keys';
  if (isPlainObject(value)) return 'an object';
  return typeof value === 'object' ? `a ${value.constructor?.name ?? 'object'}` : `a ${typeof value}`;
}

function fail(path: string, detail: string): never {
  throw new FieldIssue(path, detail);
}

/**
 * Whether `value` is a plain object (what a CBOR map with text keys decodes to). Any realm's
 * `Object.prototype` counts: a worker thread's message, or a vm context's object, is built on
 * another one (its own prototype is null-prototyped too; a class instance's is not).
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return true;
  return (
    typeof proto === 'object' &&
    Object.getPrototypeOf(proto) === null &&
    Object.prototype.toString.call(value) === '[object Object]'
  );
}

/** A plain object whose keys are all in `allowed` (and all `required` ones present). */
export function object(
  value: unknown,
  path: string,
  allowed: readonly string[],
  required: readonly string[] = allowed,
): Record<string, unknown> {
  if (!isPlainObject(value)) fail(path || '(root)', `expected an object, got ${show(value)}`);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(at(path, key), `unknown field (expected ${allowed.join(', ')})`);
  }
  for (const key of required) {
    if (value[key] === undefined) fail(at(path, key), 'is required');
  }
  return value;
}

export interface StringRule {
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
  /** Says what the pattern means, for the message. */
  readonly shape?: string;
}

export function string(value: unknown, path: string, rule: StringRule = {}): string {
  if (typeof value !== 'string') fail(path, `expected a string, got ${show(value)}`);
  const { min = 0, max = 1024 } = rule;
  if (value.length < min)
    fail(path, min === 1 ? 'must not be empty' : `expected at least ${min} characters, got ${value.length}`);
  if (value.length > max) fail(path, `expected at most ${max} characters, got ${value.length}`);
  if (rule.pattern && !rule.pattern.test(value))
    fail(path, `expected ${rule.shape ?? `to match ${rule.pattern}`}, got ${show(value)}`);
  return value;
}

export function integer(value: unknown, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    fail(path, `expected an integer ${range}, got ${show(value)}`);
  }
  return value;
}

export function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, `expected true or false, got ${show(value)}`);
  return value;
}

export function oneOf<T extends string | number>(value: unknown, path: string, options: readonly T[]): T {
  if (!options.includes(value as T))
    fail(path, `expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, got ${show(value)}`);
  return value as T;
}

/** A list of at most `max` items, each checked by `item`. */
export function list<T>(value: unknown, path: string, max: number, item: (v: unknown, path: string) => T): T[] {
  if (!Array.isArray(value)) fail(path, `expected a list, got ${show(value)}`);
  if (value.length > max) fail(path, `expected at most ${max} items, got ${value.length}`);
  return value.map((v, i) => item(v, at(path, i)));
}

/** A text-keyed map of at most `max` entries; keys are checked by `key`, values by `item`. */
export function map<T>(
  value: unknown,
  path: string,
  max: number,
  key: (k: string, path: string) => string,
  item: (v: unknown, path: string) => T,
): Record<string, T> {
  if (!isPlainObject(value)) fail(path, `expected an object, got ${show(value)}`);
  const keys = Object.keys(value);
  if (keys.length > max) fail(path, `expected at most ${max} entries, got ${keys.length}`);
  const out: Record<string, T> = {};
  for (const k of keys.sort()) {
    // Assignment of "__proto__" would set the prototype instead of a key.
    if (k === '__proto__') fail(at(path, k), 'is not allowed as a key');
    key(k, at(path, k));
    out[k] = item(value[k], at(path, k));
  }
  return out;
}

/** Throw when two items of a list share `keyOf`. */
export function unique<T>(items: readonly T[], path: string, keyOf: (t: T) => string | number, what: string): void {
  const seen = new Set<string | number>();
  items.forEach((item, i) => {
    const k = keyOf(item);
    if (seen.has(k)) fail(at(path, i), `duplicate ${what} ${show(k)}`);
    seen.add(k);
  });
}

export { fail };
