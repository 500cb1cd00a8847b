/**
 * Typed, positioned reads over the YAML tree. Every reader returns
 * `undefined` on a bad value after recording an error, so validation goes on
 * and collects every problem in one pass.
 *
 * @module
 */
import { describeValue, type StackError } from './errors.js';
import { MAX_LIST_ITEMS, MAX_MAP_ENTRIES } from './limits.js';
import type { PMap, PNode, Pos } from './tree.js';
import { parseBytes, parseCpus, parseDuration } from './units.js';

/** Joins a key path: `join('services', 'api')` is `services.api`. */
export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Collects errors and warnings while reading values out of the tree. */
export class Reader {
  readonly errors: StackError[] = [];
  readonly warnings: StackError[] = [];

  constructor(readonly file: string) {}

  /** Records an error at a node (or position). */
  error(at: PNode | Pos | undefined, path: string, message: string): void {
    this.errors.push(this.#make(at, path, message));
  }

  /** Records a warning: something accepted but ignored, or defaulted. */
  warn(at: PNode | Pos | undefined, path: string, message: string): void {
    this.warnings.push(this.#make(at, path, message));
  }

  #make(at: PNode | Pos | undefined, path: string, message: string): StackError {
    const pos = at === undefined ? { line: 0, column: 0 } : 'kind' in at ? at.pos : at;
    return { file: this.file, line: pos.line, column: pos.column, path, message };
  }

  /**
   * Whether a field of `count` entries is within `max`; records an error when it is not. Checked
   * before the entries are read, so an oversized field costs nothing more.
   */
  within(node: PNode, path: string, count: number, max: number): boolean {
    if (count <= max) return true;
    this.error(node, path, `expected at most ${max} entries, got ${count}: the cluster refuses larger fields`);
    return false;
  }

  /** A mapping; a null value (`key:` with nothing) reads as empty when `nullable`. */
  map(node: PNode, path: string, nullable = false): PMap | undefined {
    if (node.kind === 'map') return node;
    if (nullable && node.kind === 'scalar' && node.value === null)
      return { kind: 'map', entries: new Map(), pos: node.pos };
    this.error(node, path, `expected a mapping, got ${show(node)}`);
    return undefined;
  }

  /**
   * Reports every key of `map` not in `allowed` as unsupported, suggesting
   * the nearest supported key. `x-*` keys are allowed when `extensions` is set.
   */
  checkKeys(map: PMap, path: string, allowed: readonly string[], extensions = false): void {
    for (const [key, e] of map.entries) {
      if (allowed.includes(key) || (extensions && key.startsWith('x-'))) continue;
      const near = nearest(key, allowed);
      const hint = near
        ? `; did you mean "${near}"?`
        : allowed.length <= 12
          ? `; supported here: ${allowed.join(', ')}`
          : '';
      this.error(e.keyPos, join(path, key), `unsupported key "${key}"${hint}`);
    }
  }

  /** A string; numbers are accepted and converted (YAML reads `tag: 1.0` as a number). */
  str(node: PNode, path: string): string | undefined {
    if (node.kind === 'scalar' && (typeof node.value === 'string' || typeof node.value === 'number'))
      return String(node.value);
    this.error(node, path, `expected a string, got ${show(node)}`);
    return undefined;
  }

  /** A non-empty string. */
  name(node: PNode, path: string): string | undefined {
    const s = this.str(node, path);
    if (s !== undefined && s.trim() === '') {
      this.error(node, path, 'expected a non-empty string');
      return undefined;
    }
    return s;
  }

  /** A string or a list of strings (`dns: 8.8.8.8` or `dns: [8.8.8.8]`). */
  strList(node: PNode, path: string, allowSingle = true): string[] | undefined {
    if (allowSingle && node.kind === 'scalar') {
      const s = this.str(node, path);
      return s === undefined ? undefined : [s];
    }
    if (node.kind !== 'seq') {
      this.error(node, path, `expected a list of strings, got ${show(node)}`);
      return undefined;
    }
    if (!this.within(node, path, node.items.length, MAX_LIST_ITEMS)) return undefined;
    const out: string[] = [];
    node.items.forEach((it, i) => {
      const s = this.str(it, join(path, i));
      if (s !== undefined) out.push(s);
    });
    return out;
  }

  /** An integer in [min, max]; numeric strings (from interpolation) are accepted. */
  int(node: PNode, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = node.kind === 'scalar' ? node.value : undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    this.error(node, path, `expected an integer ${range}, got ${show(node)}`);
    return undefined;
  }

  /** A number in [min, max]. */
  num(node: PNode, path: string, min: number, max: number): number | undefined {
    const v = node.kind === 'scalar' ? node.value : undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d*\.?\d+\s*$/.test(v) ? Number(v) : NaN;
    if (Number.isFinite(n) && n >= min && n <= max) return n;
    this.error(node, path, `expected a number between ${min} and ${max}, got ${show(node)}`);
    return undefined;
  }

  /** A boolean; the strings `true`/`false` (from interpolation) are accepted. */
  bool(node: PNode, path: string): boolean | undefined {
    const v = node.kind === 'scalar' ? node.value : undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    this.error(node, path, `expected true or false, got ${show(node)}`);
    return undefined;
  }

  /** One of a fixed set of strings. */
  oneOf<T extends string>(node: PNode, path: string, values: readonly T[]): T | undefined {
    const v = node.kind === 'scalar' ? node.value : undefined;
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
    this.error(node, path, `expected one of ${values.join(', ')}, got ${show(node)}`);
    return undefined;
  }

  /** A duration in milliseconds (`10s`, `1m30s`). */
  duration(node: PNode, path: string): number | undefined {
    return this.#unit(node, path, parseDuration, 'a duration such as 10s or 1m30s');
  }

  /** A byte size (`512M`, `1g`). */
  bytes(node: PNode, path: string): number | undefined {
    return this.#unit(node, path, parseBytes, 'a size such as 512M or 1g');
  }

  /** CPUs in millicores (`'0.5'` is 500). */
  cpus(node: PNode, path: string): number | undefined {
    return this.#unit(node, path, parseCpus, 'a CPU count such as 0.5 or 2');
  }

  #unit(node: PNode, path: string, parse: (v: string | number) => number, what: string): number | undefined {
    const v = node.kind === 'scalar' ? node.value : undefined;
    if (typeof v === 'string' || typeof v === 'number') {
      try {
        return parse(v);
      } catch (e) {
        this.error(node, path, `${(e as Error).message}, got ${show(node)}`);
        return undefined;
      }
    }
    this.error(node, path, `expected ${what}, got ${show(node)}`);
    return undefined;
  }

  /**
   * A string map written either as a mapping or as a list of `KEY=VALUE`
   * (Compose's two forms for environment, labels, sysctls...). A key with no
   * value (`- KEY` or `KEY:`) maps to `null`. Values are stringified.
   */
  kv(node: PNode, path: string, sep = '='): Map<string, { value: string | null; node: PNode }> | undefined {
    const out = new Map<string, { value: string | null; node: PNode }>();
    const count = node.kind === 'map' ? node.entries.size : node.kind === 'seq' ? node.items.length : 0;
    if (!this.within(node, path, count, MAX_MAP_ENTRIES)) return undefined;
    if (node.kind === 'map') {
      for (const [k, e] of node.entries) {
        const v = e.value;
        if (v.kind !== 'scalar') {
          this.error(v, join(path, k), `expected a string, number, boolean or nothing, got ${show(v)}`);
          continue;
        }
        out.set(k, { value: v.value === null ? null : String(v.value), node: v });
      }
      return out;
    }
    if (node.kind === 'seq') {
      node.items.forEach((it, i) => {
        const s = this.str(it, join(path, i));
        if (s === undefined) return;
        const at = s.indexOf(sep);
        const key = at < 0 ? s : s.slice(0, at);
        if (key === '') {
          this.error(it, join(path, i), `expected KEY${sep}VALUE, got ${JSON.stringify(s)}`);
          return;
        }
        out.set(key, { value: at < 0 ? null : s.slice(at + 1), node: it });
      });
      return out;
    }
    this.error(node, path, `expected a mapping or a list of "KEY${sep}VALUE", got ${show(node)}`);
    return undefined;
  }

  /** Like {@link kv} but every key must have a value; returns a sorted record. */
  stringRecord(node: PNode, path: string, sep = '='): Record<string, string> {
    const m = this.kv(node, path, sep);
    const out: Record<string, string> = {};
    if (!m) return out;
    for (const [k, { value }] of m) out[k] = value ?? '';
    return sortRecord(out);
  }
}

/** Describes a node for "got ..." in messages. */
export function show(node: PNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  return describeValue(node.value);
}

/** A copy of `r` with keys in sorted order (for canonical specs). */
export function sortRecord<T>(r: Readonly<Record<string, T>>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}

/** The closest key within edit distance 2 (case-insensitive), for "did you mean". */
export function nearest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
