/**
 * Small declarative checks for request bodies and query strings. A route declares the fields it
 * accepts; anything else, a missing required field or a value of the wrong type is refused with
 * a 400 whose message names the field (`body.token: expected a non-empty string, got 42`).
 * @module
 */
import { ApiError } from './types.js';

/** One accepted field. Query values arrive as strings, so a query field is a `string` or a `flag`. */
export type FieldSpec =
  | {
      readonly type: 'string';
      readonly optional?: boolean;
      readonly maxLength?: number;
      readonly pattern?: RegExp;
      /** The only accepted values (an enum). */
      readonly values?: readonly string[];
    }
  | { readonly type: 'boolean'; readonly optional?: boolean }
  /** In a query the decimal text is parsed first (`?tail=50`). */
  | { readonly type: 'integer'; readonly optional?: boolean; readonly min?: number; readonly max?: number }
  /** A finite number (body only), e.g. fractional CPUs. */
  | { readonly type: 'number'; readonly optional?: boolean; readonly min?: number; readonly max?: number }
  /** A query flag: present empty, `1`, `true`, `yes` mean true; `0`, `false`, `no` mean false. */
  | { readonly type: 'flag' }
  /** A JSON object of string values (`env`, labels); `maxLength` bounds each key and value. */
  | {
      readonly type: 'stringMap';
      readonly optional?: boolean;
      readonly maxEntries?: number;
      readonly maxLength?: number;
    }
  /** A JSON array of non-empty strings. */
  | {
      readonly type: 'stringList';
      readonly optional?: boolean;
      readonly maxEntries?: number;
      readonly maxLength?: number;
    };

/** The fields of a body or a query string, by name. */
export type Schema = Readonly<Record<string, FieldSpec>>;

/** The TypeScript type of one accepted field's value. */
type FieldValue<F extends FieldSpec> = F extends { readonly type: 'string' }
  ? F extends { readonly values: readonly (infer V)[] }
    ? V
    : string
  : F extends { readonly type: 'boolean' | 'flag' }
    ? boolean
    : F extends { readonly type: 'integer' | 'number' }
      ? number
      : F extends { readonly type: 'stringMap' }
        ? Readonly<Record<string, string>>
        : readonly string[];

type OptionalKeys<S extends Schema> = { [K in keyof S]: S[K] extends { readonly optional: true } ? K : never }[keyof S];

/**
 * What a body or query that `schema` accepted looks like to TypeScript (declare the schema
 * `as const satisfies Schema` so that its literal types survive): required fields present,
 * optional ones absent rather than undefined, flags always there.
 */
export type Parsed<S extends Schema> = { readonly [K in Exclude<keyof S, OptionalKeys<S>>]: FieldValue<S[K]> } & {
  readonly [K in OptionalKeys<S>]?: FieldValue<S[K]>;
};

/**
 * Give a record the router validated the type of its schema, by checking it again (cheap for
 * the bounded bodies routes accept): the type is earned, not cast.
 * @example assertParsed(SUBMIT_BODY, body); api.submitJob(body)
 */
export function assertParsed<S extends Schema>(
  schema: S,
  record: Readonly<Record<string, unknown>>,
  where = 'body',
): asserts record is Readonly<Record<string, unknown>> & Parsed<S> {
  validateRecord(where, { ...record }, schema);
}

const TRUE_WORDS = new Set(['', '1', 'true', 'yes']);
const FALSE_WORDS = new Set(['0', 'false', 'no']);

/** Describe a received value for an error message without echoing long (possibly secret) text. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  return String(value);
}

function badField(where: string, name: string, expected: string, value: unknown): ApiError {
  return new ApiError(400, 'bad_request', `${where}.${name}: expected ${expected}, got ${describeValue(value)}`);
}

function checkField(where: string, name: string, spec: FieldSpec, value: unknown): unknown {
  switch (spec.type) {
    case 'string': {
      if (typeof value !== 'string' || value.length === 0) throw badField(where, name, 'a non-empty string', value);
      if (spec.maxLength !== undefined && value.length > spec.maxLength) {
        throw badField(where, name, `at most ${spec.maxLength} characters`, value);
      }
      if (spec.pattern && !spec.pattern.test(value))
        throw badField(where, name, `a string matching ${spec.pattern}`, value);
      if (spec.values && !spec.values.includes(value))
        throw badField(where, name, `one of ${spec.values.join(', ')}`, value);
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw badField(where, name, 'true or false', value);
      return value;
    case 'integer': {
      const ok = typeof value === 'number' && Number.isSafeInteger(value);
      const min = spec.min ?? Number.MIN_SAFE_INTEGER;
      const max = spec.max ?? Number.MAX_SAFE_INTEGER;
      if (!ok || value < min || value > max) throw badField(where, name, `an integer in [${min}, ${max}]`, value);
      return value;
    }
    case 'number': {
      const min = spec.min ?? -Number.MAX_VALUE;
      const max = spec.max ?? Number.MAX_VALUE;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
        throw badField(where, name, `a number in [${min}, ${max}]`, value);
      return value;
    }
    case 'flag': {
      const word = typeof value === 'string' ? value.toLowerCase() : value;
      if (typeof word === 'string' && TRUE_WORDS.has(word)) return true;
      if (typeof word === 'string' && FALSE_WORDS.has(word)) return false;
      throw badField(where, name, '1, true, 0 or false', value);
    }
    case 'stringMap': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw badField(where, name, 'an object of strings', value);
      }
      const entries = Object.entries(value as Record<string, unknown>);
      checkCount(where, name, entries.length, spec.maxEntries);
      for (const [key, item] of entries) {
        // Keys may not be empty; values may (an empty variable is a value).
        if (key === '' || typeof item !== 'string') throw badField(where, `${name}.${key}`, 'a string', item);
        if (spec.maxLength !== undefined && (key.length > spec.maxLength || item.length > spec.maxLength)) {
          throw badField(where, `${name}.${key}`, `at most ${spec.maxLength} characters`, item);
        }
      }
      return value;
    }
    case 'stringList': {
      if (!Array.isArray(value)) throw badField(where, name, 'an array of strings', value);
      checkCount(where, name, value.length, spec.maxEntries);
      value.forEach((item: unknown, i) => {
        if (typeof item !== 'string' || item.length === 0)
          throw badField(where, `${name}[${i}]`, 'a non-empty string', item);
        if (spec.maxLength !== undefined && item.length > spec.maxLength) {
          throw badField(where, `${name}[${i}]`, `at most ${spec.maxLength} characters`, item);
        }
      });
      return value;
    }
  }
}

function checkCount(where: string, name: string, count: number, max: number | undefined): void {
  if (max !== undefined && count > max) {
    throw new ApiError(400, 'bad_request', `${where}.${name}: expected at most ${max} entries, got ${count}`);
  }
}

/**
 * Check a parsed JSON body against `schema` and return it as a record. `undefined` (no body) is
 * an empty object, so routes whose fields are all optional accept an empty POST.
 * @example validateBody({ token: 't', address: '/ip4/…' }, { token: { type: 'string' }, address: { type: 'string' } })
 */
export function validateBody(body: unknown, schema: Schema): Record<string, unknown> {
  const value = body === undefined ? {} : body;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ApiError(400, 'bad_request', `body: expected a JSON object, got ${describeValue(value)}`);
  }
  return validateRecord('body', value as Record<string, unknown>, schema);
}

/**
 * Check a query string against `schema`. A parameter given twice is refused (which one would win
 * is a guess nobody should have to make).
 * @example validateQuery(new URLSearchParams('stale=1'), { stale: { type: 'flag' } }) // { stale: true }
 */
export function validateQuery(query: URLSearchParams, schema: Schema): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [name, value] of query) {
    if (Object.hasOwn(record, name)) throw new ApiError(400, 'bad_request', `query.${name}: given more than once`);
    // Query values are text: an integer field takes decimal digits only (`1e3`, ` 5` are refused).
    const integer = schema[name]?.type === 'integer' && /^-?\d{1,16}$/.test(value);
    record[name] = integer ? Number(value) : value;
  }
  return validateRecord('query', record, schema);
}

function validateRecord(where: string, record: Record<string, unknown>, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(record)) {
    if (!Object.hasOwn(schema, name)) {
      const known = Object.keys(schema);
      const expected = known.length > 0 ? `expected one of ${known.join(', ')}` : 'this request takes none';
      throw new ApiError(400, 'bad_request', `${where}.${name}: unknown field (${expected})`);
    }
  }
  for (const [name, spec] of Object.entries(schema)) {
    const value = record[name];
    if (value === undefined) {
      if (spec.type === 'flag') out[name] = false;
      else if (!spec.optional) throw new ApiError(400, 'bad_request', `${where}.${name}: required field is missing`);
      continue;
    }
    out[name] = checkField(where, name, spec, value);
  }
  return out;
}
