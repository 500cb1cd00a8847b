/**
 * When a cron schedule fires: `nextFireTime()`, `fireTimesBetween()`, `latestFireTime()`.
 *
 * The search runs on the wall clock of the schedule's time zone, field by field (a month that cannot
 * match is skipped whole, then a day, then an hour), and maps the matching wall time to an instant.
 *
 * Daylight saving time, as decided here:
 * - a wall time skipped by a spring-forward gap fires once, at the end of the gap (in Berlin,
 *   `30 2 * * *` fires at 03:00 CEST on the last Sunday of March; several skipped times, as with
 *   `*\/15 2 * * *`, fire together once);
 * - a wall time repeated by a fall-back fires once, at its first occurrence. This holds for every
 *   schedule, so an hourly `0 * * * *` skips the repeated hour's second 02:00 (two real hours
 *   between 02:00 CEST and 03:00 CET).
 *
 * Put precisely: a matching wall time W fires at the first instant at which the wall clock shows W
 * or later. That mapping is monotone, which is what makes a plain wall-clock search correct.
 * @module
 */
import { CronNeverFiresError } from './errors.js';
import { type CronSchedule, dayMatches } from './parse.js';
import { checkTimeZone, firstInstantAtWall, floorMinute, highestWallUpTo } from './zone.js';

const MINUTE = 60_000;
/**
 * Years searched before giving up. A satisfiable schedule fires within 8 years (29 February across
 * a century that is not a leap year: 2096, then 2104); unsatisfiable ones are caught before any search.
 */
const SEARCH_YEARS = 10;

/**
 * The first fire time strictly after `afterMs`, in ms since the epoch, with the schedule read on the
 * wall clock of `timeZone` (IANA). Throws {@link CronNeverFiresError} for a schedule whose days never
 * occur, and a `RangeError` for an unknown time zone.
 * @example
 * const s = parseCron('30 2 * * *');
 * nextFireTime(s, Date.UTC(2026, 2, 28, 12), 'Europe/Berlin'); // Date.UTC(2026, 2, 29, 1): 03:00 CEST, after the gap
 */
export function nextFireTime(schedule: CronSchedule, afterMs: number, timeZone: string): number {
  if (!Number.isFinite(afterMs)) throw new RangeError(`Cannot search cron fire times after ${afterMs}: not a time`);
  checkTimeZone(timeZone);
  if (!schedule.satisfiable) throw new CronNeverFiresError(schedule.expression);
  const start = floorMinute(highestWallUpTo(timeZone, afterMs)) + MINUTE;
  const wall = nextWall(schedule, start);
  if (wall === null) throw new CronNeverFiresError(schedule.expression);
  return firstInstantAtWall(timeZone, wall);
}

/**
 * The fire times in `(fromMs, toMs]`, oldest first, at most `limit` of them (default 1,000).
 * @example
 * fireTimesBetween(parseCron('@hourly'), 0, 3 * 3_600_000, 'UTC'); // [3600000, 7200000, 10800000]
 */
export function fireTimesBetween(
  schedule: CronSchedule,
  fromMs: number,
  toMs: number,
  timeZone: string,
  limit = 1000,
): number[] {
  if (!Number.isInteger(limit) || limit < 0)
    throw new RangeError(`Cannot list ${limit} cron fire times: limit must be an integer >= 0`);
  const out: number[] = [];
  if (!schedule.satisfiable) return out;
  for (let t = fromMs; out.length < limit;) {
    t = nextFireTime(schedule, t, timeZone);
    if (t > toMs) break;
    out.push(t);
  }
  return out;
}

/**
 * The latest fire time in `(afterMs, atOrBeforeMs]`, or `null` when there is none. Bisects with
 * {@link nextFireTime}, so it costs about 45 searches however many fire times the interval holds.
 * @example
 * latestFireTime(parseCron('* * * * *'), 0, 86_400_000 + 30_000, 'UTC'); // 86400000
 */
export function latestFireTime(
  schedule: CronSchedule,
  afterMs: number,
  atOrBeforeMs: number,
  timeZone: string,
): number | null {
  if (!schedule.satisfiable || atOrBeforeMs <= afterMs) return null;
  const first = nextFireTime(schedule, afterMs, timeZone);
  if (first > atOrBeforeMs) return null;
  // Largest x with next(x) <= atOrBeforeMs; next() is monotone in x.
  let lo = first - 1;
  let hi = atOrBeforeMs;
  for (let i = 0; i < 64 && hi - lo > 1; i++) {
    const mid = Math.floor((lo + hi) / 2);
    if (nextFireTime(schedule, mid, timeZone) <= atOrBeforeMs) lo = mid;
    else hi = mid;
  }
  return nextFireTime(schedule, lo, timeZone);
}

/** The smallest value of a sorted list that is >= `x`. */
function atLeast(list: readonly number[], x: number): number | undefined {
  for (const v of list) if (v >= x) return v;
  return undefined;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The first matching wall time at or after `from` (minute-aligned), or `null` within the search bound. */
function nextWall(s: CronSchedule, from: number): number | null {
  const start = new Date(from);
  let y = start.getUTCFullYear();
  let mo = start.getUTCMonth() + 1;
  let d = start.getUTCDate();
  let h = start.getUTCHours();
  let mi = start.getUTCMinutes();
  const lastYear = y + SEARCH_YEARS;
  const domOnly = s.anyDayOfWeek && !s.anyDayOfMonth;
  // Each step either returns or moves to a later month, day, hour or minute; bounded by the years.
  for (let guard = 0; guard < 1_000_000 && y <= lastYear; guard++) {
    const month = atLeast(s.months, mo);
    if (month === undefined) {
      [y, mo, d, h, mi] = [y + 1, s.months[0]!, 1, 0, 0];
      continue;
    }
    if (month !== mo) [mo, d, h, mi] = [month, 1, 0, 0];
    if (domOnly) {
      const day = atLeast(s.daysOfMonth, d);
      if (day === undefined) d = 32;
      else if (day !== d) [d, h, mi] = [day, 0, 0];
    }
    if (d > daysIn(y, mo)) {
      [y, mo, d, h, mi] = mo === 12 ? [y + 1, 1, 1, 0, 0] : [y, mo + 1, 1, 0, 0];
      continue;
    }
    if (!dayMatches(s, y, mo, d)) {
      [d, h, mi] = [d + 1, 0, 0];
      continue;
    }
    const hour = atLeast(s.hours, h);
    if (hour === undefined) {
      [d, h, mi] = [d + 1, 0, 0];
      continue;
    }
    if (hour !== h) [h, mi] = [hour, 0];
    const minute = atLeast(s.minutes, mi);
    if (minute === undefined) {
      if (h === 23) [d, h, mi] = [d + 1, 0, 0];
      else [h, mi] = [h + 1, 0];
      continue;
    }
    return Date.UTC(y, mo - 1, d, h, minute);
  }
  return null;
}
