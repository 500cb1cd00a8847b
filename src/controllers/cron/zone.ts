/**
 * Wall clocks of IANA time zones through `Intl.DateTimeFormat`, with no time zone library.
 *
 * A "wall" value is a local date and time encoded as if it were UTC (`Date.UTC(y, m - 1, d, h, mi)`),
 * so calendar arithmetic on it is plain UTC arithmetic. An instant is ms since the epoch.
 * @module
 */

const MINUTE = 60_000;
const DAY = 86_400_000;
/** How far back a fall-back transition is looked for: longer than any repeated wall period in use. */
const OVERLAP_LOOKBACK = 6 * 3_600_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f !== undefined) return f;
  try {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch (cause) {
    throw new RangeError(
      `Cannot evaluate a cron schedule in time zone ${JSON.stringify(timeZone)}: not an IANA time zone ` +
        'this Node.js knows; use a name such as Europe/Paris or UTC',
      { cause },
    );
  }
  if (formatters.size >= 1000) formatters.clear(); // bound the cache; zones come from specs
  formatters.set(timeZone, f);
  return f;
}

function isUtc(timeZone: string): boolean {
  return timeZone === 'UTC' || timeZone === 'Etc/UTC';
}

/** Checks the time zone now, so a bad one fails before any search. */
export function checkTimeZone(timeZone: string): void {
  if (!isUtc(timeZone)) formatter(timeZone);
}

/** The zone's offset from UTC at `instant`, in ms (Berlin in winter: 3,600,000). */
export function offsetAt(timeZone: string, instant: number): number {
  if (isUtc(timeZone)) return 0;
  const seconds = Math.floor(instant / 1000) * 1000;
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(seconds)) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - seconds;
}

/** The wall clock at `instant`. */
export function wallAt(timeZone: string, instant: number): number {
  return instant + offsetAt(timeZone, instant);
}

/**
 * The first instant in `(lo, hi]` whose offset differs from the offset at `lo` (a transition), by
 * bisection on whole seconds (zones change offset on whole seconds).
 */
function transitionIn(timeZone: string, lo: number, hi: number): number {
  const from = offsetAt(timeZone, lo);
  let a = Math.floor(lo / 1000);
  let b = Math.ceil(hi / 1000);
  for (let i = 0; i < 64 && b - a > 1; i++) {
    const mid = Math.floor((a + b) / 2);
    if (offsetAt(timeZone, mid * 1000) === from) a = mid;
    else b = mid;
  }
  return b * 1000;
}

/**
 * The latest wall clock reading at or before `instant`. It differs from the wall clock at `instant`
 * only during the second pass of an hour repeated by a fall-back transition, when the clock shows
 * times it has shown before.
 */
export function highestWallUpTo(timeZone: string, instant: number): number {
  const now = wallAt(timeZone, instant);
  if (isUtc(timeZone)) return now;
  const earlier = offsetAt(timeZone, instant - OVERLAP_LOOKBACK);
  if (earlier <= offsetAt(timeZone, instant)) return now;
  const transition = transitionIn(timeZone, instant - OVERLAP_LOOKBACK, instant);
  return Math.max(now, transition - 1 + earlier);
}

/**
 * The first instant at which the wall clock reaches `wall` (minute-aligned): the wall time itself, its
 * first occurrence when a fall-back repeats it, and the end of the gap when a spring-forward skips it
 * (02:30 on the day Berlin jumps from 02:00 to 03:00 gives 03:00 CEST).
 */
export function firstInstantAtWall(timeZone: string, wall: number): number {
  if (isUtc(timeZone)) return wall;
  const before = offsetAt(timeZone, wall - DAY);
  const after = offsetAt(timeZone, wall + DAY);
  const candidates = [wall - before, wall - after].filter((i) => offsetAt(timeZone, i) === wall - i);
  if (candidates.length > 0) return Math.min(...candidates);
  // In a gap: the clock jumped from below `wall` (offset `before`) to above it (offset `after`).
  if (after <= before) return wall - before; // no single forward jump around: not seen in tzdata
  return transitionIn(timeZone, wall - after, wall - before);
}

/** Floors a wall value to its minute. */
export function floorMinute(wall: number): number {
  return Math.floor(wall / MINUTE) * MINUTE;
}
