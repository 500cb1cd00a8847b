/**
 * Small grammars of batch work: cron schedules (`*\/5 * * * *`, `@daily`),
 * job arrays (`0-99%10`, `1,3,5-7`, `0-15:4`) and time zones.
 *
 * @module
 */
import type { ArraySpec } from './spec.js';

const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FIELDS: readonly { name: string; min: number; max: number; names?: string[]; nameBase?: number }[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day of week', min: 0, max: 7, names: DAYS, nameBase: 0 },
];

/**
 * Checks a five-field cron expression or macro; returns `undefined` when
 * valid, else what is wrong.
 *
 * @example
 * ```ts
 * cronError('*\/15 9-17 * * mon-fri'); // undefined
 * cronError('61 * * * *'); // 'minute: 61 is out of range 0-59'
 * ```
 */
export function cronError(expr: string): string | undefined {
  const s = expr.trim();
  if (s.startsWith('@')) return MACROS.includes(s) ? undefined : `unknown macro "${s}": use ${MACROS.join(', ')}`;
  const parts = s.split(/\s+/);
  if (parts.length !== 5) return `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`;
  for (let i = 0; i < 5; i++) {
    const err = fieldError(parts[i]!, FIELDS[i]!);
    if (err) return `${FIELDS[i]!.name}: ${err}`;
  }
  return undefined;
}

function fieldError(text: string, f: (typeof FIELDS)[number]): string | undefined {
  for (const item of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(item);
    if (!m) return `cannot read "${item}"`;
    if (m[2] !== undefined && Number(m[2]) < 1) return `step must be >= 1 in "${item}"`;
    const base = m[1]!;
    if (base === '*' || (base === '?' && f.name.startsWith('day'))) continue;
    const [a, b, extra] = base.split('-');
    if (extra !== undefined) return `cannot read "${item}"`;
    const lo = value(a!, f);
    const hi = b === undefined ? lo : value(b, f);
    if (typeof lo === 'string') return lo;
    if (typeof hi === 'string') return hi;
    if (hi < lo) return `range "${base}" runs backwards`;
  }
  return undefined;
}

function value(t: string, f: (typeof FIELDS)[number]): number | string {
  const i = f.names?.indexOf(t.toLowerCase()) ?? -1;
  if (i >= 0) return i + f.nameBase!;
  if (!/^\d+$/.test(t)) return `"${t}" is not a number${f.names ? ' or name' : ''}`;
  const n = Number(t);
  return n < f.min || n > f.max ? `${n} is out of range ${f.min}-${f.max}` : n;
}

/** Largest array index and number of array tasks accepted. */
export const ARRAY_LIMITS = { maxIndex: 1_000_000, maxCount: 100_000 } as const;

/**
 * Parses a Slurm-style job array: comma-separated indices or ranges
 * (`a-b`, with an optional `:step`), then an optional `%N` concurrency cap.
 * Throws a `RangeError` saying what is expected.
 *
 * @example
 * ```ts
 * parseArray('0-99%10').count; // 100, maxConcurrent 10
 * ```
 */
export function parseArray(text: string): ArraySpec {
  const bad = (why: string) =>
    new RangeError(
      `invalid array ${JSON.stringify(text)}: ${why} (expected e.g. "0-99", "1,3,5-7", "0-15:4" or "0-99%10")`,
    );
  const [body, cap, more] = text.trim().split('%');
  if (more !== undefined || body === undefined || body === '') throw bad('cannot read it');
  let maxConcurrent = 0;
  if (cap !== undefined) {
    if (!/^\d+$/.test(cap) || Number(cap) < 1) throw bad('the %cap must be an integer >= 1');
    maxConcurrent = Number(cap);
  }
  const ranges: { start: number; end: number; step: number }[] = [];
  let count = 0;
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m) throw bad(`"${part}" is not an index or range`);
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (end < start) throw bad(`range "${part}" runs backwards`);
    if (step < 1) throw bad('step must be >= 1');
    if (end > ARRAY_LIMITS.maxIndex) throw bad(`indices are limited to ${ARRAY_LIMITS.maxIndex}`);
    ranges.push({ start, end, step });
    count += Math.floor((end - start) / step) + 1;
  }
  if (count > ARRAY_LIMITS.maxCount) throw bad(`at most ${ARRAY_LIMITS.maxCount} tasks`);
  return { text: text.trim(), ranges, count, maxConcurrent };
}

/** True when `tz` is an IANA time zone this Node.js knows (e.g. `Europe/Paris`, `UTC`). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
