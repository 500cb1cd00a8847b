import { runsToForget, type CronRunOutcome } from '../../../src/controllers/cron/index.js';

const ended = (jobId: string, endedAt: number, succeeded: boolean): CronRunOutcome => ({ jobId, endedAt, succeeded });

describe('runsToForget()', () => {
  const runs: CronRunOutcome[] = [
    ended('ok-1', 100, true),
    ended('fail-1', 150, false),
    ended('ok-2', 200, true),
    ended('fail-2', 250, false),
    ended('ok-3', 300, true),
    ended('fail-3', 350, false),
    ended('ok-4', 400, true),
    { jobId: 'active', endedAt: null, succeeded: false },
  ];

  it('keeps the newest successful and failed runs separately and returns the rest oldest first', () => {
    expect(runsToForget(runs, { successfulHistory: 2, failedHistory: 1 })).toEqual([
      'ok-1',
      'fail-1',
      'ok-2',
      'fail-2',
    ]);
  });

  it('never forgets an active run, even with no history kept', () => {
    expect(runsToForget(runs, { successfulHistory: 0, failedHistory: 0 })).toEqual([
      'ok-1',
      'fail-1',
      'ok-2',
      'fail-2',
      'ok-3',
      'fail-3',
      'ok-4',
    ]);
  });

  it('forgets nothing within the limits', () => {
    expect(runsToForget(runs, { successfulHistory: 4, failedHistory: 3 })).toEqual([]);
    expect(runsToForget([], { successfulHistory: 0, failedHistory: 0 })).toEqual([]);
  });

  it('orders runs that ended together by job id, whatever the input order', () => {
    const same = [ended('b', 5, true), ended('c', 5, true), ended('a', 5, true)];
    expect(runsToForget(same, { successfulHistory: 1, failedHistory: 0 })).toEqual(['a', 'b']);
  });

  it('rejects a negative or fractional limit', () => {
    expect(() => runsToForget(runs, { successfulHistory: -1, failedHistory: 0 })).toThrow(
      'Cannot keep -1 runs as successfulHistory: use an integer >= 0',
    );
    expect(() => runsToForget(runs, { successfulHistory: 1, failedHistory: 0.5 })).toThrow(RangeError);
  });
});
