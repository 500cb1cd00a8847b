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
 * The value sets of a cron expression, read by {@link readCron}. Day of week is 0-6 (`7` is read
 * as Sunday, 0). Every list is sorted, without duplicates, and not empty.
 */
export interface CronFields {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly number[];
  readonly months: readonly number[];
  readonly daysOfWeek: readonly number[];
  /**
   * Day of month / day of week written as `*` or `?` (also `*\/1`). When both day fields are
   * restricted, a day matches if either matches (Vixie cron). A `*\/2` counts as restricted: it
   * does restrict (Vixie cron would read any field starting with `*` as unrestricted).
   */
  readonly anyDayOfMonth: boolean;
  readonly anyDayOfWeek: boolean;
}

/** What the macros stand for. */
const MACRO_FIELDS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/**
 * Reads a five-field cron expression or macro into its value sets; returns what is wrong as a
 * string when it is not valid (the message {@link cronError} gives).
 *
 * Beyond the five fields: lists (`1,15`), ranges (`mon-fri`), steps (`*\/15`, `0-30/10`),
 * `N/step` meaning `N-max/step` (as Quartz and robfig/cron read it), names of months and days,
 * `?` for `*` in the day fields.
 *
 * @example
 * ```ts
 * (readCron('*\/20 9 * * 7') as CronFields).minutes; // [0, 20, 40]
 * readCron('61 * * * *'); // 'minute: 61 is out of range 0-59'
 * ```
 */
export function readCron(expr: string): CronFields | string {
  let s = expr.trim();
  if (s.startsWith('@')) {
    const fields = MACRO_FIELDS[s];
    if (fields === undefined) return `unknown macro "${s}": use ${MACROS.join(', ')}`;
    s = fields;
  }
  const parts = s.split(/\s+/);
  if (parts.length !== 5) return `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`;
  const sets: number[][] = [];
  const any: boolean[] = [];
  for (let i = 0; i < 5; i++) {
    const read = readField(parts[i]!, FIELDS[i]!);
    if (typeof read === 'string') return `${FIELDS[i]!.name}: ${read}`;
    sets.push(read.values);
    any.push(read.any);
  }
  return {
    minutes: sets[0]!,
    hours: sets[1]!,
    daysOfMonth: sets[2]!,
    months: sets[3]!,
    daysOfWeek: sets[4]!,
    anyDayOfMonth: any[2]!,
    anyDayOfWeek: any[4]!,
  };
}

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
  const read = readCron(expr);
  return typeof read === 'string' ? read : undefined;
}

function readField(text: string, f: (typeof FIELDS)[number]): { values: number[]; any: boolean } | string {
  const dow = f.name === 'day of week';
  // Wildcards and `N/step` run to 6 in the day of week: Sunday is 0, `7` only when written.
  const top = dow ? 6 : f.max;
  const values = new Set<number>();
  let any = false;
  for (const item of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(item);
    if (!m) return `cannot read "${item}"`;
    if (m[2] !== undefined && Number(m[2]) < 1) return `step must be >= 1 in "${item}"`;
    const step = m[2] === undefined ? 1 : Number(m[2]);
    const base = m[1]!;
    let lo: number;
    let hi: number;
    if (base === '*' || (base === '?' && f.name.startsWith('day'))) {
      [lo, hi] = [f.min, top];
      if (step === 1) any = true;
    } else {
      const [a, b, extra] = base.split('-');
      if (extra !== undefined) return `cannot read "${item}"`;
      const first = value(a!, f);
      const last = b === undefined ? first : value(b, f);
      if (typeof first === 'string') return first;
      if (typeof last === 'string') return last;
      if (last < first) return `range "${base}" runs backwards`;
      lo = first;
      hi = b === undefined && m[2] !== undefined ? Math.max(first, top) : last;
    }
    for (let v = lo; v <= hi; v += step) values.add(dow && v === 7 ? 0 : v);
  }
  return { values: [...values].sort((x, y) => x - y), any };
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
