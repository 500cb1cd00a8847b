/**
 * The cron controller: `reconcileCron(input) → decision`, a pure function of the cron services, their
 * runs and the leader's clock. Nothing is remembered between passes: what has been handled is each
 * service's `lastScheduledAt`, which the leader records (with the start or skip) in the replicated state.
 *
 * One pass, per service:
 * 1. The reference is `lastScheduledAt ?? createdAt`, raised to the newest `scheduledAt` among the
 *    service's runs, so a run the state already holds is never started again even if
 *    `lastScheduledAt` lags behind.
 * 2. The due times are the fire times in `(reference, now]`. None: nothing to do. Otherwise the
 *    latest is the candidate and the earlier ones are dropped (they are missed, and run-once runs
 *    one run, not a backlog).
 * 3. The candidate is on time when `now - scheduledAt <= onTimeToleranceMs` (default 60 s: a
 *    leader election or a slow pass), else it was missed while no leader was scheduling.
 * 4. In order, the first rule that applies:
 *    - suspended: skip (reason `suspended`), so resuming does not replay the pause as missed runs;
 *    - `startingDeadlineMs > 0` and the candidate is older than that: skip, on time or not
 *      (the deadline is the service's own word on how late a run may start);
 *    - missed and `missedRuns: skip`: skip;
 *    - otherwise (on time, or missed with `missedRuns: run-once`) start, by the concurrency policy
 *      when a run of the service is active: `allow` starts anyway, `forbid` skips, `replace`
 *      cancels the active runs and starts.
 *
 * At most one start or skip per service per pass. The output is sorted by service id, then job id.
 * @module
 */
import type { CronSpec } from '../../stack/spec.js';
import { fireTimesBetween, latestFireTime, nextFireTime } from './next.js';
import { type CronSchedule, parseCron } from './parse.js';

/** A cron service as the controller sees it. */
export interface CronService {
  readonly serviceId: string;
  readonly cron: CronSpec;
  /** When the service was created, ms: the reference before its first scheduled time. */
  readonly createdAt: number;
  /** The last scheduled time handled (started or skipped); `null` = never. */
  readonly lastScheduledAt: number | null;
}

/** A run (job) created by a cron service. */
export interface CronRun {
  readonly jobId: string;
  readonly serviceId: string;
  readonly scheduledAt: number;
  /** Still running (or waiting to run); false once ended. */
  readonly active: boolean;
}

export interface CronInput {
  /** The leader's clock, ms. */
  readonly now: number;
  readonly services: readonly CronService[];
  readonly runs: readonly CronRun[];
  /** How late a scheduled time may be handled and still count as on time; default {@link DEFAULT_ON_TIME_TOLERANCE_MS}. */
  readonly onTimeToleranceMs?: number;
}

export interface CronDecision {
  /** Start a run for this scheduled time (the job controller creates the job). */
  readonly start: readonly { serviceId: string; scheduledAt: number }[];
  /** Mark these scheduled times as handled without running (skipped: missed, forbidden or suspended). */
  readonly skip: readonly { serviceId: string; scheduledAt: number; reason: string }[];
  /** Cancel these active runs (concurrencyPolicy replace). */
  readonly cancel: readonly { jobId: string; reason: string }[];
  /** When the next pass is due at the earliest (ms), so the leader can set a timer; `null` = none. */
  readonly nextWakeAt: number | null;
}

/** Default lateness that still counts as on time: a leader election plus a controller pass or two. */
export const DEFAULT_ON_TIME_TOLERANCE_MS = 60_000;

/** Due times counted one by one for the "missed N runs" message; from this many on, "at least N". */
const COUNT_LIMIT = 100;

/**
 * One pass of the cron controller.
 * @example
 * const d = reconcileCron({ now, services: [{ serviceId: 'report', cron, createdAt, lastScheduledAt }], runs });
 * for (const s of d.start) createJob(s.serviceId, s.scheduledAt);
 * if (d.nextWakeAt !== null) setTimer(d.nextWakeAt - now);
 */
export function reconcileCron(input: CronInput): CronDecision {
  const tolerance = input.onTimeToleranceMs ?? DEFAULT_ON_TIME_TOLERANCE_MS;
  if (!(tolerance >= 0))
    throw new RangeError(`Cannot reconcile cron with onTimeToleranceMs ${tolerance}: use a number >= 0`);
  const runsOf = new Map<string, CronRun[]>();
  for (const run of input.runs) {
    let list = runsOf.get(run.serviceId);
    if (list === undefined) runsOf.set(run.serviceId, (list = []));
    list.push(run);
  }
  const start: { serviceId: string; scheduledAt: number }[] = [];
  const skip: { serviceId: string; scheduledAt: number; reason: string }[] = [];
  const cancel: { jobId: string; reason: string }[] = [];
  let nextWakeAt: number | null = null;
  const services = [...input.services].sort((a, b) =>
    a.serviceId < b.serviceId ? -1 : a.serviceId > b.serviceId ? 1 : 0,
  );
  const seen = new Set<string>();
  for (const service of services) {
    if (seen.has(service.serviceId)) continue; // one decision per service, whatever the input holds
    seen.add(service.serviceId);
    const plan = planService(service, runsOf.get(service.serviceId) ?? [], input.now, tolerance);
    if (plan === null) continue;
    if (plan.start !== undefined) start.push({ serviceId: service.serviceId, scheduledAt: plan.start });
    if (plan.skip !== undefined) skip.push({ serviceId: service.serviceId, ...plan.skip });
    cancel.push(...plan.cancel);
    if (nextWakeAt === null || plan.wake < nextWakeAt) nextWakeAt = plan.wake;
  }
  return { start, skip, cancel, nextWakeAt };
}

interface ServicePlan {
  start?: number;
  skip?: { scheduledAt: number; reason: string };
  cancel: { jobId: string; reason: string }[];
  wake: number;
}

/** The decision for one service; `null` when its schedule cannot be evaluated. */
function planService(
  service: CronService,
  runs: readonly CronRun[],
  now: number,
  tolerance: number,
): ServicePlan | null {
  const { cron } = service;
  let reference = service.lastScheduledAt ?? service.createdAt;
  for (const run of runs) reference = Math.max(reference, run.scheduledAt);
  let schedule: CronSchedule;
  let wake: number;
  try {
    schedule = parseCron(cron.schedule);
    if (!schedule.satisfiable) return null;
    wake = nextFireTime(schedule, Math.max(now, reference), cron.timeZone);
  } catch {
    // The stack parser rejects bad schedules and zones before they reach the state; one that gets
    // here anyway (an older validator, a zone this Node.js lacks) must not stop the other services.
    return null;
  }
  const plan: ServicePlan = { cancel: [], wake };

  const due = fireTimesBetween(schedule, reference, now, cron.timeZone, COUNT_LIMIT);
  if (due.length === 0) return plan;
  const latest =
    due.length < COUNT_LIMIT ? due.at(-1)! : (latestFireTime(schedule, due.at(-1)!, now, cron.timeZone) ?? due.at(-1)!);
  const count = due.length < COUNT_LIMIT ? String(due.length) : `at least ${COUNT_LIMIT}`;
  const age = now - latest;
  const missed = age > tolerance;
  const skipWith = (reason: string): ServicePlan => ({ ...plan, skip: { scheduledAt: latest, reason } });

  if (cron.suspended) return skipWith('suspended');
  if (cron.startingDeadlineMs > 0 && age > cron.startingDeadlineMs)
    return skipWith(
      `${missedWords(count, latest, age)}: older than starting_deadline ${duration(cron.startingDeadlineMs)}, skipped`,
    );
  if (missed && cron.missedRuns === 'skip')
    return skipWith(`${missedWords(count, latest, age)} while no leader was scheduling: skipped by missed_runs: skip`);

  const active = runs.filter((r) => r.active).sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0));
  if (active.length > 0 && cron.concurrencyPolicy === 'forbid')
    return skipWith(
      `previous run still active (job ${active[0]!.jobId}, scheduled ${iso(active[0]!.scheduledAt)}): skipped by concurrency_policy: forbid`,
    );
  if (cron.concurrencyPolicy === 'replace')
    for (const run of active)
      plan.cancel.push({
        jobId: run.jobId,
        reason: `replaced by the run scheduled ${iso(latest)} (concurrency_policy: replace)`,
      });
  plan.start = latest;
  return plan;
}

function missedWords(count: string, latest: number, age: number): string {
  const runs = count === '1' ? 'run' : 'runs';
  return `missed ${count} ${runs} (latest ${iso(latest)}, ${duration(age)} ago)`;
}

/** `2026-11-24T10:00Z`: minutes are the resolution of cron. */
function iso(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16) + 'Z';
}

/** `2h 5m`, `45s`, `3d 4h`: the two largest units. */
function duration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(ms));
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n}${name}`);
    if (parts.length === 2) break;
  }
  const shown = parts.filter((p, i) => i === 0 || !p.startsWith('0'));
  return shown.length > 0 ? shown.join(' ') : `${ms}ms`;
}
