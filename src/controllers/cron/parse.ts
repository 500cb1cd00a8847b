/**
 * `parseCron()`: a cron expression as value sets, sharing its grammar with the Compose validator
 * (`cronError()` in src/stack/batch-syntax.ts), so what the stack parser accepts is exactly what
 * the scheduler evaluates.
 * @module
 */
import { type CronFields, readCron } from '../../stack/batch-syntax.js';
import { CronSyntaxError } from './errors.js';

/** A parsed cron expression. */
export interface CronSchedule extends CronFields {
  /** The expression as written, trimmed. */
  readonly expression: string;
  /** False when no day ever matches (`0 0 30 2 *`); such a schedule never fires. */
  readonly satisfiable: boolean;
}

/** Longest month length per month (February: 29, in leap years). */
const MAX_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/**
 * Parses a five-field cron expression or a macro (`@daily`). Throws {@link CronSyntaxError} with the
 * reason `cronError()` gives.
 * @example
 * parseCron('30 2 * * mon-fri').hours; // [2]
 * parseCron('0 0 30 2 *').satisfiable; // false
 */
export function parseCron(expr: string): CronSchedule {
  const read = readCron(expr);
  if (typeof read === 'string') throw new CronSyntaxError(expr.trim(), read);
  return { ...read, expression: expr.trim(), satisfiable: satisfiable(read) };
}

/**
 * True when some day matches. A restricted day of week always matches some day of every month
 * (alone, or OR-ed with the day of month); otherwise a named day must exist in a named month.
 */
function satisfiable(f: CronFields): boolean {
  if (!f.anyDayOfWeek || f.anyDayOfMonth) return true;
  return f.months.some((m) => f.daysOfMonth[0]! <= MAX_DAYS[m]!);
}

/**
 * True when the day `y-m-d` matches: both day fields when one is `*`, either one when both are
 * restricted (Vixie cron).
 */
export function dayMatches(s: CronFields, y: number, m: number, d: number): boolean {
  const dom = s.anyDayOfMonth || s.daysOfMonth.includes(d);
  const dow = s.anyDayOfWeek || s.daysOfWeek.includes(new Date(Date.UTC(y, m - 1, d)).getUTCDay());
  return s.anyDayOfMonth || s.anyDayOfWeek ? dom && dow : dom || dow;
}
