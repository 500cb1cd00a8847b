import { CronSyntaxError, dayMatches, parseCron } from '../../../src/controllers/cron/index.js';
import { cronError } from '../../../src/stack/batch-syntax.js';

describe('parseCron()', () => {
  it.each([
    ['*/20 * * * *', { minutes: [0, 20, 40] }],
    ['0-30/10 * * * *', { minutes: [0, 10, 20, 30] }],
    ['5/20 * * * *', { minutes: [5, 25, 45] }],
    ['1,59,1 * * * *', { minutes: [1, 59] }],
    ['0 9-11,14 * * *', { hours: [9, 10, 11, 14] }],
    ['0 0 * JAN-MAR,dec *', { months: [1, 2, 3, 12] }],
    ['0 0 * */4 *', { months: [1, 5, 9] }],
    ['0 0 * * mon-fri', { daysOfWeek: [1, 2, 3, 4, 5], anyDayOfWeek: false }],
    ['0 0 * * 7', { daysOfWeek: [0] }],
    ['0 0 * * 5-7', { daysOfWeek: [0, 5, 6] }],
    ['0 0 * * *', { daysOfWeek: [0, 1, 2, 3, 4, 5, 6], anyDayOfWeek: true, anyDayOfMonth: true }],
    ['0 0 ? * 1', { anyDayOfMonth: true, daysOfWeek: [1] }],
    ['0 0 */1 * *', { anyDayOfMonth: true }],
    ['0 0 */2 * *', { anyDayOfMonth: false, daysOfMonth: [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31] }],
    ['0 0 1-31 * *', { anyDayOfMonth: false }],
  ])('%p reads as %j', (expr, fields) => {
    expect(parseCron(expr)).toMatchObject(fields);
  });

  it.each([
    ['@yearly', '0 0 1 1 *'],
    ['@annually', '0 0 1 1 *'],
    ['@monthly', '0 0 1 * *'],
    ['@weekly', '0 0 * * 0'],
    ['@daily', '0 0 * * *'],
    ['@midnight', '0 0 * * *'],
    ['@hourly', '0 * * * *'],
  ])('macro %s reads as %s', (macro, fields) => {
    const { expression: _a, ...fromMacro } = parseCron(macro);
    const { expression: _b, ...fromFields } = parseCron(fields);
    expect(fromMacro).toEqual(fromFields);
    expect(parseCron(` ${macro} `).expression).toBe(macro);
  });

  it('flags a schedule whose days never occur, and only those', () => {
    expect(parseCron('0 0 30 2 *').satisfiable).toBe(false);
    expect(parseCron('0 0 31 4,6,9,11 *').satisfiable).toBe(false);
    expect(parseCron('0 0 29 2 *').satisfiable).toBe(true);
    expect(parseCron('0 0 31 2,3 *').satisfiable).toBe(true);
    expect(parseCron('0 0 30 2 mon').satisfiable).toBe(true); // OR: every Monday of February
  });

  it.each([
    ['* * * *', 'expected 5 fields (minute hour day-of-month month day-of-week), got 4'],
    ['* 24 * * *', 'hour: 24 is out of range 0-23'],
    ['* * 0 * *', 'day of month: 0 is out of range 1-31'],
    ['* * * foo *', 'month: "foo" is not a number or name'],
    ['*/0 * * * *', 'minute: step must be >= 1 in "*/0"'],
    ['5-1 * * * *', 'minute: range "5-1" runs backwards'],
    ['1-2-3 * * * *', 'minute: cannot read "1-2-3"'],
    ['? * * * *', 'minute: "?" is not a number'],
    ['* * * * 8', 'day of week: 8 is out of range 0-7'],
    ['@every 5m', 'unknown macro "@every 5m": use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly'],
  ])('rejects %p with CronSyntaxError: %s', (expr, reason) => {
    let error: unknown;
    try {
      parseCron(expr);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CronSyntaxError);
    expect(error).toMatchObject({ name: 'CronSyntaxError', reason, expression: expr });
    expect((error as Error).message).toBe(`invalid cron schedule ${JSON.stringify(expr)}: ${reason}`);
    expect(cronError(expr)).toBe(reason);
  });

  it('accepts exactly what cronError() accepts (seeded fuzz)', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const atoms = [
      '*',
      '*',
      '*',
      '?',
      '0',
      '1',
      '1',
      '2',
      '5',
      '7',
      '12',
      '23',
      '31',
      '59',
      '60',
      'mon',
      'JAN',
      'x',
      '',
    ];
    const seps = ['-', '/', ','];
    const field = () => {
      if (rand(2) === 0) return '*';
      let text = atoms[rand(atoms.length)]!;
      for (let k = 0, n = rand(3) === 0 ? 1 + rand(2) : 0; k < n; k++)
        text += seps[rand(seps.length)]! + atoms[rand(atoms.length)]!;
      return text;
    };
    let accepted = 0;
    for (let i = 0; i < 1500; i++) {
      const expr = Array.from({ length: rand(10) === 0 ? 4 + 2 * rand(2) : 5 }, field).join(' ');
      const reason = cronError(expr);
      let thrown: unknown;
      try {
        parseCron(expr);
      } catch (e) {
        thrown = e;
      }
      if (reason === undefined) accepted++;
      expect(thrown === undefined ? undefined : (thrown as CronSyntaxError).reason).toBe(reason);
    }
    expect(accepted).toBeGreaterThan(10);
  });
});

describe('dayMatches()', () => {
  // 2026-11-30 is a Monday; 2026-12-01 a Tuesday.
  it.each([
    ['0 0 1 * mon', 30, true], // both restricted: Monday matches
    ['0 0 1 * mon', 29, false],
    ['0 0 1 * *', 30, false], // day of week is *: only the 1st
    ['0 0 * * mon', 30, true],
    ['0 0 * * mon', 29, false],
    ['0 0 */2 * mon', 30, true], // */2 is a restriction: either field
    ['0 0 ? * mon', 29, false],
  ])('%p on November %i: %p', (expr, day, expected) => {
    expect(dayMatches(parseCron(expr), 2026, 11, day)).toBe(expected);
  });

  it('applies the OR rule across the month boundary', () => {
    expect(dayMatches(parseCron('0 0 1 * mon'), 2026, 12, 1)).toBe(true);
  });
});
