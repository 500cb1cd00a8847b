import {
  CronNeverFiresError,
  fireTimesBetween,
  latestFireTime,
  nextFireTime,
  parseCron,
} from '../../../src/controllers/cron/index.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000Z', 'Z');
const next = (expr: string, after: string, tz = 'UTC') => iso(nextFireTime(parseCron(expr), at(after), tz));
const series = (expr: string, after: string, n: number, tz: string) => {
  const out: string[] = [];
  for (let t = at(after), i = 0; i < n; i++) out.push(iso((t = nextFireTime(parseCron(expr), t, tz))));
  return out;
};

describe('nextFireTime() in UTC', () => {
  // 2026-11-25 is a Wednesday.
  const after = '2026-11-25T01:30:00Z';
  it.each([
    ['* * * * *', '2026-11-25T01:31Z'],
    ['*/15 * * * *', '2026-11-25T01:45Z'],
    ['5/20 * * * *', '2026-11-25T01:45Z'],
    ['@hourly', '2026-11-25T02:00Z'],
    ['23 0-20/2 * * *', '2026-11-25T02:23Z'],
    ['30 1 * * *', '2026-11-26T01:30Z'], // strictly after: not 01:30 itself
    ['@daily', '2026-11-26T00:00Z'],
    ['@weekly', '2026-11-29T00:00Z'],
    ['@monthly', '2026-12-01T00:00Z'],
    ['@yearly', '2027-01-01T00:00Z'],
    ['0 9 * * mon-fri', '2026-11-25T09:00Z'],
    ['0 22 * * 1-5', '2026-11-25T22:00Z'],
    ['0 9 * * sat,sun', '2026-11-28T09:00Z'],
    ['0 0 * * 7', '2026-11-29T00:00Z'],
    ['15 14 1 * *', '2026-12-01T14:15Z'],
    ['0 0 31 * *', '2026-12-31T00:00Z'],
    ['59 23 31 12 *', '2026-12-31T23:59Z'],
    ['0 0 1 jan-mar *', '2027-01-01T00:00Z'],
    ['0 0 29 2 *', '2028-02-29T00:00Z'],
    // Day of month OR day of week when both are restricted (Vixie cron).
    ['0 12 1 * mon', '2026-11-30T12:00Z'], // Monday the 30th comes before the 1st
    ['0 12 1 * *', '2026-12-01T12:00Z'],
    ['0 12 * * mon', '2026-11-30T12:00Z'],
    ['0 12 13 * fri', '2026-11-27T12:00Z'], // any Friday, or the 13th
    ['0 12 */2 * mon', '2026-11-25T12:00Z'], // */2 restricts: odd days, or Mondays
    ['0 12 ? * mon', '2026-11-30T12:00Z'], // ? does not
  ])('%p after Wed 01:30 fires at %s', (expr, expected) => {
    expect(next(expr, after)).toBe(expected);
  });

  it('is strictly after a fire time and finds the one after it', () => {
    expect(next('0 0 * * *', '2026-11-26T00:00:00Z')).toBe('2026-11-27T00:00Z');
    expect(next('0 0 * * *', '2026-11-25T23:59:59.999Z')).toBe('2026-11-26T00:00Z');
  });

  it('finds 29 February in leap years only, across the non-leap 2100', () => {
    const times = fireTimesBetween(
      parseCron('0 0 29 2 *'),
      at('2090-01-01T00:00:00Z'),
      at('2110-01-01T00:00:00Z'),
      'UTC',
    );
    expect(times.map(iso)).toEqual([
      '2092-02-29T00:00Z',
      '2096-02-29T00:00Z',
      '2104-02-29T00:00Z',
      '2108-02-29T00:00Z',
    ]);
  });

  it.each(['0 0 30 2 *', '0 0 31 4,6,9,11 *', '0 0 31 2 *'])('throws CronNeverFiresError for %p', (expr) => {
    expect(() => nextFireTime(parseCron(expr), 0, 'UTC')).toThrow(CronNeverFiresError);
    expect(() => nextFireTime(parseCron(expr), 0, 'UTC')).toThrow(/never fires/);
    expect(fireTimesBetween(parseCron(expr), 0, Date.UTC(2100, 0), 'UTC')).toEqual([]);
  });

  it('rejects an unknown time zone and a time that is not a number', () => {
    expect(() => nextFireTime(parseCron('@daily'), 0, 'Mars/Olympus')).toThrow(/not an IANA time zone/);
    expect(() => nextFireTime(parseCron('@daily'), Number.NaN, 'UTC')).toThrow(RangeError);
  });
});

describe('nextFireTime() in other time zones', () => {
  it.each([
    ['0 9 * * *', 'Europe/Berlin', '2026-11-25T08:00Z'], // CET, UTC+1
    ['0 9 * * *', 'Europe/Berlin', '2026-06-01T07:00Z', '2026-06-01T00:00:00Z'], // CEST, UTC+2
    ['0 9 * * *', 'America/New_York', '2026-11-25T14:00Z'], // EST, UTC-5
    ['0 9 * * *', 'Asia/Kolkata', '2026-11-25T03:30Z'], // UTC+5:30
    ['0 0 * * *', 'Pacific/Kiritimati', '2026-11-25T10:00Z'], // UTC+14: already Wednesday 15:30 there
    ['0 0 1 * *', 'America/New_York', '2026-12-01T05:00Z'],
  ])('%p in %s fires at %s', (expr, tz, expected, after = '2026-11-25T01:30:00Z') => {
    expect(next(expr, after, tz)).toBe(expected);
  });

  it('Europe/Berlin spring forward: 02:30 does not exist and fires once at 03:00 CEST', () => {
    // 2026-03-29 01:00Z: 02:00 CET becomes 03:00 CEST.
    expect(series('30 2 * * *', '2026-03-28T12:00:00Z', 3, 'Europe/Berlin')).toEqual([
      '2026-03-29T01:00Z', // 03:00 CEST, the first instant after the gap
      '2026-03-30T00:30Z', // 02:30 CEST
      '2026-03-31T00:30Z',
    ]);
    // Every skipped time of the gap fires together, once, and with 03:00 itself.
    expect(series('*/15 2,3 * * *', '2026-03-29T00:50:00Z', 3, 'Europe/Berlin')).toEqual([
      '2026-03-29T01:00Z',
      '2026-03-29T01:15Z',
      '2026-03-29T01:30Z',
    ]);
    expect(series('0 * * * *', '2026-03-28T23:30:00Z', 3, 'Europe/Berlin')).toEqual([
      '2026-03-29T00:00Z', // 01:00 CET
      '2026-03-29T01:00Z', // 03:00 CEST (02:00 skipped, same instant)
      '2026-03-29T02:00Z', // 04:00 CEST
    ]);
  });

  it('Europe/Berlin fall back: the repeated 02:30 fires once, at its first occurrence', () => {
    // 2026-10-25 01:00Z: 03:00 CEST becomes 02:00 CET, so 02:00-02:59 happens twice.
    expect(series('30 2 * * *', '2026-10-24T12:00:00Z', 2, 'Europe/Berlin')).toEqual([
      '2026-10-25T00:30Z', // 02:30 CEST
      '2026-10-26T01:30Z', // 02:30 CET, the next day
    ]);
    // From inside the second pass (02:10 CET), 02:30 has already fired.
    expect(next('30 2 * * *', '2026-10-25T01:10:00Z', 'Europe/Berlin')).toBe('2026-10-26T01:30Z');
    expect(series('0 * * * *', '2026-10-24T22:30:00Z', 3, 'Europe/Berlin')).toEqual([
      '2026-10-24T23:00Z', // 01:00 CEST
      '2026-10-25T00:00Z', // 02:00 CEST
      '2026-10-25T02:00Z', // 03:00 CET: the second 02:00 does not fire
    ]);
    // A minute schedule picks up after the repeated hour, not at its start.
    expect(next('* * * * *', '2026-10-25T00:59:30Z', 'Europe/Berlin')).toBe('2026-10-25T02:00Z');
  });

  it('America/New_York spring forward and fall back', () => {
    // 2026-03-08 07:00Z: 02:00 EST becomes 03:00 EDT.
    expect(series('30 2 * * *', '2026-03-07T12:00:00Z', 2, 'America/New_York')).toEqual([
      '2026-03-08T07:00Z', // 03:00 EDT
      '2026-03-09T06:30Z', // 02:30 EDT
    ]);
    // 2026-11-01 06:00Z: 02:00 EDT becomes 01:00 EST.
    expect(series('30 1 * * *', '2026-10-31T12:00:00Z', 2, 'America/New_York')).toEqual([
      '2026-11-01T05:30Z', // 01:30 EDT
      '2026-11-02T06:30Z', // 01:30 EST, the next day
    ]);
    expect(next('0 9 * * *', '2026-11-01T12:00:00Z', 'America/New_York')).toBe('2026-11-01T14:00Z');
  });

  it('Australia/Lord_Howe: a half-hour shift', () => {
    // 2026-10-04 02:00 LHST (+10:30) becomes 02:30 LHDT (+11): 15:30Z on 3 October.
    expect(series('*/20 2 * * *', '2026-10-03T15:00:00Z', 3, 'Australia/Lord_Howe')).toEqual([
      '2026-10-03T15:30Z', // 02:00 and 02:20 fall in the gap: 02:30 LHDT, once
      '2026-10-03T15:40Z', // 02:40 LHDT
      '2026-10-04T15:00Z', // 02:00 LHDT the next day
    ]);
  });
});

describe('fireTimesBetween() and latestFireTime()', () => {
  const every5 = parseCron('*/5 * * * *');
  const t0 = at('2026-11-25T00:00:00Z');

  it('fireTimesBetween() lists (from, to], at most limit', () => {
    expect(fireTimesBetween(every5, t0, t0 + 15 * 60_000, 'UTC')).toEqual([5, 10, 15].map((m) => t0 + m * 60_000));
    expect(fireTimesBetween(every5, t0, t0 + 15 * 60_000, 'UTC', 2)).toHaveLength(2);
    expect(fireTimesBetween(every5, t0, t0 + 4 * 60_000, 'UTC')).toEqual([]);
    expect(() => fireTimesBetween(every5, t0, t0, 'UTC', -1)).toThrow(RangeError);
  });

  it('latestFireTime() finds the last fire of a long interval', () => {
    const end = t0 + 30 * 86_400_000 + 7 * 60_000;
    expect(latestFireTime(every5, t0, end, 'UTC')).toBe(end - 2 * 60_000);
    expect(latestFireTime(every5, t0, t0 + 5 * 60_000, 'UTC')).toBe(t0 + 5 * 60_000);
    expect(latestFireTime(every5, t0, t0 + 4 * 60_000, 'UTC')).toBeNull();
    expect(
      latestFireTime(parseCron('30 2 * * *'), at('2026-03-20T00:00:00Z'), at('2026-03-29T01:30:00Z'), 'Europe/Berlin'),
    ).toBe(at('2026-03-29T01:00:00Z'));
  });
});
