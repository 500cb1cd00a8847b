import {
  reconcileCron,
  type CronDecision,
  type CronRun,
  type CronService,
} from '../../../src/controllers/cron/index.js';
import type { CronSpec } from '../../../src/stack/spec.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (iso: string) => Date.parse(iso);
const T0 = at('2026-11-24T00:00:00Z');

function cron(overrides: Partial<CronSpec> = {}): CronSpec {
  return {
    schedule: '0 * * * *',
    timeZone: 'UTC',
    concurrencyPolicy: 'allow',
    missedRuns: 'skip',
    startingDeadlineMs: 0,
    successfulHistory: 3,
    failedHistory: 1,
    suspended: false,
    ...overrides,
  };
}

function service(overrides: Partial<CronSpec> = {}, more: Partial<CronService> = {}): CronService {
  return { serviceId: 'report', cron: cron(overrides), createdAt: T0, lastScheduledAt: null, ...more };
}

const run = (jobId: string, scheduledAt: number, active: boolean, serviceId = 'report'): CronRun => ({
  jobId,
  serviceId,
  scheduledAt,
  active,
});

const pass = (now: number, services: CronService[], runs: CronRun[] = []) => reconcileCron({ now, services, runs });

describe('reconcileCron() on time', () => {
  it('starts the run that just became due and wakes at the next one', () => {
    const d = pass(T0 + HOUR + 400, [service()]);
    expect(d).toEqual({
      start: [{ serviceId: 'report', scheduledAt: T0 + HOUR }],
      skip: [],
      cancel: [],
      nextWakeAt: T0 + 2 * HOUR,
    });
  });

  it('does nothing before the first fire time, and wakes at it', () => {
    expect(pass(T0 + 59 * MIN, [service()])).toEqual({ start: [], skip: [], cancel: [], nextWakeAt: T0 + HOUR });
  });

  it('does not run a fire time at or before the service was created', () => {
    expect(pass(T0 + 500, [service()]).start).toEqual([]);
    expect(pass(T0 + 500, [service({}, { createdAt: T0 - 1 })]).start).toEqual([
      { serviceId: 'report', scheduledAt: T0 },
    ]);
  });

  it('counts a run up to the tolerance late as on time, and the tolerance can be set', () => {
    const s = [service({ missedRuns: 'skip' })];
    expect(pass(T0 + HOUR + MIN, s).start).toHaveLength(1);
    expect(pass(T0 + HOUR + MIN + 1, s).skip).toHaveLength(1);
    expect(
      reconcileCron({ now: T0 + HOUR + 5 * MIN, services: s, runs: [], onTimeToleranceMs: 10 * MIN }).start,
    ).toHaveLength(1);
    expect(() => reconcileCron({ now: T0, services: s, runs: [], onTimeToleranceMs: -1 })).toThrow(RangeError);
  });

  it('evaluates the schedule in the service time zone, across a DST gap', () => {
    // Berlin, 2026-03-29: 02:30 does not exist; the run is due at 03:00 CEST (01:00Z).
    const s = service({ schedule: '30 2 * * *', timeZone: 'Europe/Berlin' }, { createdAt: at('2026-03-28T12:00:00Z') });
    expect(pass(at('2026-03-29T00:59:00Z'), [s]).nextWakeAt).toBe(at('2026-03-29T01:00:00Z'));
    expect(pass(at('2026-03-29T01:00:10Z'), [s]).start).toEqual([
      { serviceId: 'report', scheduledAt: at('2026-03-29T01:00:00Z') },
    ]);
  });
});

describe('reconcileCron() missed runs', () => {
  // Handled up to 10:00; the cluster was down until 13:30; hourly: 11:00, 12:00 and 13:00 were missed.
  const down = (overrides: Partial<CronSpec>) => service(overrides, { lastScheduledAt: T0 + 10 * HOUR });
  const now = T0 + 13 * HOUR + 30 * MIN;

  it('missed_runs: skip marks the latest as handled, with a reason', () => {
    const d = pass(now, [down({ missedRuns: 'skip' })]);
    expect(d.start).toEqual([]);
    expect(d.skip).toEqual([
      {
        serviceId: 'report',
        scheduledAt: T0 + 13 * HOUR,
        reason:
          'missed 3 runs (latest 2026-11-24T13:00Z, 30m ago) while no leader was scheduling: skipped by missed_runs: skip',
      },
    ]);
    expect(d.nextWakeAt).toBe(T0 + 14 * HOUR);
  });

  it('missed_runs: run-once starts the latest missed run only', () => {
    const d = pass(now, [down({ missedRuns: 'run-once' })]);
    expect(d.start).toEqual([{ serviceId: 'report', scheduledAt: T0 + 13 * HOUR }]);
    expect(d.skip).toEqual([]);
  });

  it('run-once skips a missed run older than the starting deadline', () => {
    const late = pass(now, [down({ missedRuns: 'run-once', startingDeadlineMs: 10 * MIN })]);
    expect(late.start).toEqual([]);
    expect(late.skip).toEqual([
      {
        serviceId: 'report',
        scheduledAt: T0 + 13 * HOUR,
        reason: 'missed 3 runs (latest 2026-11-24T13:00Z, 30m ago): older than starting_deadline 10m, skipped',
      },
    ]);
    expect(pass(now, [down({ missedRuns: 'run-once', startingDeadlineMs: HOUR })]).start).toHaveLength(1);
  });

  it('a starting deadline shorter than the tolerance applies to on-time runs too', () => {
    const s = service({ startingDeadlineMs: 10_000 });
    expect(pass(T0 + HOUR + 9_000, [s]).start).toHaveLength(1);
    expect(pass(T0 + HOUR + 20_000, [s]).skip[0]?.reason).toMatch(/older than starting_deadline 10s/);
  });

  it('starts the latest due run when it is on time, even if earlier ones were missed', () => {
    const d = pass(T0 + 13 * HOUR + 20_000, [down({ missedRuns: 'skip' })]);
    expect(d.start).toEqual([{ serviceId: 'report', scheduledAt: T0 + 13 * HOUR }]);
    expect(d.skip).toEqual([]);
  });

  it('finds the latest of a very long backlog and says it counted at least 100', () => {
    // Every 5 minutes, down for 3 days: 864 missed runs.
    const now3d = T0 + 3 * 24 * HOUR + 2 * MIN;
    const d = pass(now3d, [service({ schedule: '*/5 * * * *' }, { lastScheduledAt: T0 })]);
    expect(d.skip).toEqual([
      {
        serviceId: 'report',
        scheduledAt: T0 + 3 * 24 * HOUR,
        reason: expect.stringMatching(/^missed at least 100 runs \(latest 2026-11-27T00:00Z, 2m ago\)/),
      },
    ]);
    const once = pass(now3d, [service({ schedule: '*/5 * * * *', missedRuns: 'run-once' }, { lastScheduledAt: T0 })]);
    expect(once.start).toEqual([{ serviceId: 'report', scheduledAt: T0 + 3 * 24 * HOUR }]);
  });

  it('one missed run is a run, singular', () => {
    const d = pass(T0 + HOUR + 5 * MIN, [service()]);
    expect(d.skip[0]?.reason).toMatch(/^missed 1 run \(latest 2026-11-24T01:00Z, 5m ago\)/);
  });
});

describe('reconcileCron() suspended', () => {
  it('marks due runs handled without running them, so resuming replays nothing', () => {
    const suspended = service({ suspended: true, missedRuns: 'run-once' }, { lastScheduledAt: T0 });
    const d = pass(T0 + 5 * HOUR + 10, [suspended]);
    expect(d.start).toEqual([]);
    expect(d.skip).toEqual([{ serviceId: 'report', scheduledAt: T0 + 5 * HOUR, reason: 'suspended' }]);
    expect(d.nextWakeAt).toBe(T0 + 6 * HOUR);
    const resumed = service({ missedRuns: 'run-once' }, { lastScheduledAt: T0 + 5 * HOUR });
    expect(pass(T0 + 5 * HOUR + 30 * MIN, [resumed])).toMatchObject({ start: [], skip: [] });
  });
});

describe('reconcileCron() concurrency policies with an active run', () => {
  const now = T0 + 2 * HOUR + 100;
  const runs = [run('job-a', T0 + HOUR, true), run('job-old', T0, false), run('job-other', T0 + HOUR, true, 'other')];
  const withPolicy = (concurrencyPolicy: CronSpec['concurrencyPolicy']) =>
    pass(now, [service({ concurrencyPolicy }, { lastScheduledAt: T0 + HOUR })], runs);

  it('allow starts anyway', () => {
    expect(withPolicy('allow')).toMatchObject({
      start: [{ serviceId: 'report', scheduledAt: T0 + 2 * HOUR }],
      skip: [],
      cancel: [],
    });
  });

  it('forbid skips, naming the run still active', () => {
    expect(withPolicy('forbid')).toMatchObject({
      start: [],
      cancel: [],
      skip: [
        {
          serviceId: 'report',
          scheduledAt: T0 + 2 * HOUR,
          reason:
            'previous run still active (job job-a, scheduled 2026-11-24T01:00Z): skipped by concurrency_policy: forbid',
        },
      ],
    });
  });

  it('replace cancels every active run of the service, and only those, and starts', () => {
    const more = [...runs, run('job-b', T0 + HOUR + 1, true)];
    const d = pass(now, [service({ concurrencyPolicy: 'replace' }, { lastScheduledAt: T0 + HOUR + 1 })], more);
    expect(d.start).toEqual([{ serviceId: 'report', scheduledAt: T0 + 2 * HOUR }]);
    expect(d.cancel).toEqual([
      { jobId: 'job-a', reason: 'replaced by the run scheduled 2026-11-24T02:00Z (concurrency_policy: replace)' },
      { jobId: 'job-b', reason: 'replaced by the run scheduled 2026-11-24T02:00Z (concurrency_policy: replace)' },
    ]);
  });

  it.each(['allow', 'forbid', 'replace'] as const)('%s starts when no run of the service is active', (policy) => {
    const ended = [run('job-a', T0 + HOUR, false), run('job-other', T0 + HOUR, true, 'other')];
    const d = pass(now, [service({ concurrencyPolicy: policy }, { lastScheduledAt: T0 + HOUR })], ended);
    expect(d).toMatchObject({ start: [{ serviceId: 'report', scheduledAt: T0 + 2 * HOUR }], skip: [], cancel: [] });
  });

  it('forbid with a missed run and run-once still skips while the previous run is active', () => {
    const d = pass(
      now + HOUR,
      [service({ concurrencyPolicy: 'forbid', missedRuns: 'run-once' }, { lastScheduledAt: T0 + HOUR })],
      runs,
    );
    expect(d.start).toEqual([]);
    expect(d.skip[0]?.reason).toMatch(/concurrency_policy: forbid/);
  });
});

describe('reconcileCron() never starts a scheduled time twice', () => {
  it('does not restart a run the state already holds when lastScheduledAt lags behind', () => {
    const d = pass(T0 + HOUR + 500, [service({}, { lastScheduledAt: null })], [run('job-1', T0 + HOUR, false)]);
    expect(d).toEqual({ start: [], skip: [], cancel: [], nextWakeAt: T0 + 2 * HOUR });
  });

  /** Passes every `step` ms over [from, to), except while `down`; decisions applied as the leader would, without deduplication. */
  function simulate(
    spec: Partial<CronSpec>,
    opts: { to: number; step: number; down?: [number, number]; runFor?: number },
  ) {
    let svc = service(spec);
    let runs: (CronRun & { endsAt: number })[] = [];
    const log: { now: number; d: CronDecision }[] = [];
    for (let now = T0; now < opts.to; now += opts.step) {
      if (opts.down && now >= opts.down[0] && now < opts.down[1]) continue;
      runs = runs.map((r) => (r.active && now >= r.endsAt ? { ...r, active: false } : r));
      const d = pass(now, [svc], runs);
      log.push({ now, d });
      for (const c of d.cancel) runs = runs.map((r) => (r.jobId === c.jobId ? { ...r, active: false } : r));
      for (const s of d.start)
        runs.push({ ...run(`job-${runs.length}`, s.scheduledAt, true), endsAt: now + (opts.runFor ?? MIN) });
      const handled = [...d.start, ...d.skip].map((x) => x.scheduledAt);
      if (handled.length > 0) svc = { ...svc, lastScheduledAt: Math.max(svc.lastScheduledAt ?? 0, ...handled) };
    }
    const starts = log.flatMap((l) => l.d.start.map((s) => s.scheduledAt));
    return { log, starts, skips: log.flatMap((l) => l.d.skip) };
  }

  it('starts each fire time exactly once over an hour of passes', () => {
    const { starts, log } = simulate({ schedule: '*/5 * * * *' }, { to: T0 + HOUR + 7_000, step: 7_000 });
    expect(starts).toEqual(Array.from({ length: 12 }, (_, i) => T0 + (i + 1) * 5 * MIN));
    // Each start happened in the first pass after its time, and every pass knew when to wake.
    for (const l of log) expect(l.d.nextWakeAt).toBe(T0 + (Math.floor((l.now - T0) / (5 * MIN)) + 1) * 5 * MIN);
  });

  it('is level-triggered: a pass repeated before its decision applies decides the same (the state dedupes on scheduledAt)', () => {
    const s = service({}, { lastScheduledAt: null });
    expect(pass(T0 + HOUR + 1, [s]).start).toEqual(pass(T0 + HOUR + 2, [s]).start);
  });

  it('after downtime, missed_runs: skip skips once and carries on', () => {
    const { starts, skips } = simulate(
      { schedule: '*/5 * * * *' },
      { to: T0 + HOUR + 7_000, step: 7_000, down: [T0 + 21 * MIN, T0 + 47 * MIN] },
    );
    expect(starts).toEqual([5, 10, 15, 20, 50, 55, 60].map((m) => T0 + m * MIN));
    expect(skips).toEqual([
      {
        serviceId: 'report',
        scheduledAt: T0 + 45 * MIN,
        reason: expect.stringMatching(/^missed 5 runs \(latest 2026-11-24T00:45Z, 2m 1s ago\)/),
      },
    ]);
  });

  it('after downtime, missed_runs: run-once runs the latest missed run once', () => {
    const { starts, skips } = simulate(
      { schedule: '*/5 * * * *', missedRuns: 'run-once' },
      { to: T0 + HOUR + 7_000, step: 7_000, down: [T0 + 21 * MIN, T0 + 47 * MIN] },
    );
    expect(starts).toEqual([5, 10, 15, 20, 45, 50, 55, 60].map((m) => T0 + m * MIN));
    expect(skips).toEqual([]);
  });

  it('forbid skips the times a long run overlaps, replace restarts on each', () => {
    const long = { to: T0 + HOUR + 7_000, step: 7_000, runFor: 12 * MIN };
    const forbid = simulate({ schedule: '*/5 * * * *', concurrencyPolicy: 'forbid' }, long);
    // A run started at :05 ends at ~:17; :10 and :15 are skipped, :20 starts, and so on.
    expect(forbid.starts).toEqual([5, 20, 35, 50].map((m) => T0 + m * MIN));
    expect(forbid.skips.map((s) => s.scheduledAt)).toEqual([10, 15, 25, 30, 40, 45, 55, 60].map((m) => T0 + m * MIN));
    const replace = simulate({ schedule: '*/5 * * * *', concurrencyPolicy: 'replace' }, long);
    expect(replace.starts).toHaveLength(12);
    expect(replace.log.flatMap((l) => l.d.cancel)).toHaveLength(11);
  });
});

describe('reconcileCron() across services', () => {
  it('wakes at the earliest next fire time of all services; null with none', () => {
    const d = pass(T0 + 10 * MIN, [
      service({ schedule: '0 * * * *' }, { serviceId: 'a' }),
      service({ schedule: '*/15 * * * *' }, { serviceId: 'b' }),
    ]);
    expect(d.nextWakeAt).toBe(T0 + 15 * MIN);
    expect(pass(T0, []).nextWakeAt).toBeNull();
  });

  it('ignores a schedule that never fires or cannot be read, without stopping the others', () => {
    const d = pass(T0 + HOUR + 1, [
      service({ schedule: '0 0 30 2 *' }, { serviceId: 'a' }),
      service({ schedule: 'every day' }, { serviceId: 'b' }),
      service({ timeZone: 'Mars/Olympus' }, { serviceId: 'c' }),
      service({}, { serviceId: 'd' }),
    ]);
    expect(d).toEqual({
      start: [{ serviceId: 'd', scheduledAt: T0 + HOUR }],
      skip: [],
      cancel: [],
      nextWakeAt: T0 + 2 * HOUR,
    });
  });

  it('is deterministic: sorted by service id whatever the input order, one decision per service id', () => {
    const services = ['c', 'a', 'b'].map((id) => service({}, { serviceId: id }));
    const d1 = pass(T0 + HOUR + 1, services);
    const d2 = pass(T0 + HOUR + 1, [...services].reverse().concat(services));
    expect(d1.start.map((s) => s.serviceId)).toEqual(['a', 'b', 'c']);
    expect(d2).toEqual(d1);
  });
});
