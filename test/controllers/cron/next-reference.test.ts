/**
 * nextFireTime() against a minute-by-minute reference: walk the instants a minute apart, read the
 * wall clock with Intl, and fire whenever the clock reaches a matching wall time it has not shown
 * before (the documented rule: a matching wall time fires at the first instant the clock shows it or
 * later). Windows around the 2026 transitions of zones with whole-hour, half-hour and no DST.
 */
import { dayMatches, fireTimesBetween, parseCron, type CronSchedule } from '../../../src/controllers/cron/index.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

function wallReader(timeZone: string): (instant: number) => number {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  });
  return (instant) => {
    const p = Object.fromEntries(f.formatToParts(instant).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!);
  };
}

function wallMatches(s: CronSchedule, wall: number): boolean {
  const d = new Date(wall);
  return (
    s.minutes.includes(d.getUTCMinutes()) &&
    s.hours.includes(d.getUTCHours()) &&
    s.months.includes(d.getUTCMonth() + 1) &&
    dayMatches(s, d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate())
  );
}

/** Walls of every minute of [from - 12 h, to], computed once per window. */
function walls(timeZone: string, from: number, to: number): { instants: number[]; walls: number[] } {
  const read = wallReader(timeZone);
  const instants: number[] = [];
  const out: number[] = [];
  for (let t = from - 12 * HOUR; t <= to; t += MIN) {
    instants.push(t);
    out.push(read(t));
  }
  return { instants, walls: out };
}

function reference(s: CronSchedule, w: { instants: number[]; walls: number[] }, from: number): number[] {
  const fires: number[] = [];
  let highest = w.walls[0]!;
  for (let i = 1; i < w.instants.length; i++) {
    const wall = w.walls[i]!;
    let fire = false;
    for (let v = highest + MIN; v <= wall && !fire; v += MIN) fire = wallMatches(s, v);
    if (fire && w.instants[i]! > from) fires.push(w.instants[i]!);
    highest = Math.max(highest, wall);
  }
  return fires;
}

const WINDOWS: [string, string][] = [
  ['Europe/Berlin', '2026-03-29T01:00:00Z'],
  ['Europe/Berlin', '2026-10-25T01:00:00Z'],
  ['America/New_York', '2026-03-08T07:00:00Z'],
  ['America/New_York', '2026-11-01T06:00:00Z'],
  ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
  ['Australia/Lord_Howe', '2026-10-03T15:30:00Z'],
  ['Asia/Kolkata', '2026-03-29T01:00:00Z'],
  ['UTC', '2026-12-31T23:00:00Z'],
];

const EXPRESSIONS = [
  '* * * * *',
  '*/7 * * * *',
  '0,30 * * * *',
  '15 * * * *',
  '30 2 * * *',
  '0 2 * * *',
  '59 1 * * *',
  '*/20 1-3 * * *',
  '45 0-4/2 * * *',
  '0 3 * * *',
  '0 0 * * *',
  '5 * * * sun',
  '10 */3 * * 0,6',
  '0 12 1 * mon',
  '*/10 2 * * mon-fri',
  '0 0 1 1 *',
  '20 * 4,25 * *',
];

describe('nextFireTime() matches a minute-by-minute reference', () => {
  it.each(WINDOWS)('in %s around %s', (timeZone, center) => {
    const c = Date.parse(center);
    const from = c - 26 * HOUR;
    const to = c + 26 * HOUR;
    const w = walls(timeZone, from, to);
    let compared = 0;
    for (const expr of EXPRESSIONS) {
      const s = parseCron(expr);
      const expected = reference(s, w, from);
      // At most 80 fires each, from the window's start, from just before the transition and from just
      // after it (inside the repeated hour of a fall-back).
      for (const start of [from, c - 50 * MIN, c + 10 * MIN]) {
        const want = expected.filter((t) => t > start).slice(0, 80);
        const got = fireTimesBetween(s, start, to, timeZone, 80);
        expect({
          expr,
          start: new Date(start).toISOString(),
          fires: got.map((t) => new Date(t).toISOString()),
        }).toEqual({
          expr,
          start: new Date(start).toISOString(),
          fires: want.map((t) => new Date(t).toISOString()),
        });
        compared += want.length;
      }
    }
    expect(compared).toBeGreaterThan(100);
  });
});
