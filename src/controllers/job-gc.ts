/**
 * Job garbage collection: ended jobs are `shoal job history`, but the state must not grow for
 * ever. The newest {@link DEFAULT_JOB_HISTORY} ended jobs are kept (with their tasks), as long as
 * they hold no more than {@link DEFAULT_TASK_BUDGET} tasks in all (a few big arrays would
 * otherwise fill the replicated state with hundreds of thousands of ended tasks, which every
 * commit, snapshot and controller pass pays for). Whatever those two limits, a job is kept while it
 * ended less than {@link DEFAULT_MIN_JOB_AGE_MS} ago (so its logs, exit code and `afterok` can
 * still be read: Slurm's `MinJobAge`), while a job that has not ended depends on it, and the newest
 * ended job whatever its tasks. A cron service keeps only its `successful_history` /
 * `failed_history` newest runs of each kind.
 * @module
 */
import { tableOf } from '../state/indexed-state.js';
import { isJobEnded, type JobRecord } from '../state/jobs.js';
import type { WorkloadState } from './workload-types.js';

/** Ended jobs kept, newest first by end time. */
export const DEFAULT_JOB_HISTORY = 5000;

/** Tasks (units, retries and requeues) of ended jobs kept in all, beyond the minimum age. */
export const DEFAULT_TASK_BUDGET = 20_000;

/** An ended job is kept at least this long whatever the limits (Slurm's `MinJobAge` default). */
export const DEFAULT_MIN_JOB_AGE_MS = 300_000;

/** How much history {@link collectJobs} keeps. */
export interface JobHistoryLimits {
  /** Ended jobs; default {@link DEFAULT_JOB_HISTORY}. */
  readonly jobs?: number;
  /** Tasks of those jobs, in all; default {@link DEFAULT_TASK_BUDGET}. */
  readonly tasks?: number;
  /** Milliseconds an ended job is kept whatever the limits; default {@link DEFAULT_MIN_JOB_AGE_MS}. */
  readonly minAgeMs?: number;
}

/**
 * Ids of ended jobs to forget (`job.remove`) at time `now`, at most `limit`.
 * @throws {RangeError} a limit that is not an integer >= 0
 */
export function collectJobs(state: WorkloadState, now: number, history: JobHistoryLimits = {}, limit = 1000): string[] {
  const maxJobs = checkLimit('ended jobs', history.jobs ?? DEFAULT_JOB_HISTORY);
  const maxTasks = checkLimit('tasks of ended jobs', history.tasks ?? DEFAULT_TASK_BUDGET);
  const minAgeMs = checkLimit('milliseconds of minimum job age', history.minAgeMs ?? DEFAULT_MIN_JOB_AGE_MS);
  const jobs = Object.values(state.jobs ?? {});
  const ended = jobs.filter((j) => isJobEnded(j.state)).sort(newestEndFirst);
  if (ended.length === 0) return [];
  // An unfinished job's dependencies must stay readable: their outcome decides whether it runs.
  const needed = new Set(jobs.filter((j) => !isJobEnded(j.state)).flatMap((j) => j.dependencies.map((d) => d.jobId)));
  const keep = (job: JobRecord) => needed.has(job.id) || (job.endedAt ?? 0) > now - minAgeMs;
  const table = tableOf(state.tasks);
  const remove = new Set<string>();
  let tasks = 0;
  ended.forEach((job, i) => {
    tasks += table.ofJob(job.id).size;
    if ((i >= maxJobs || (i > 0 && tasks > maxTasks)) && !keep(job)) remove.add(job.id);
  });
  const runsByCron = new Map<string, JobRecord[]>();
  for (const job of ended) {
    const service = state.services[job.serviceId];
    if (service?.spec.kind !== 'cron' || service.spec.cron === null) continue;
    const list = runsByCron.get(service.id) ?? [];
    list.push(job);
    runsByCron.set(service.id, list);
  }
  for (const [serviceId, runs] of runsByCron) {
    const cron = state.services[serviceId]!.spec.cron!;
    const ok = runs.filter((j) => j.state === 'COMPLETED');
    const bad = runs.filter((j) => j.state !== 'COMPLETED');
    for (const j of [...ok.slice(cron.successfulHistory), ...bad.slice(cron.failedHistory)])
      if (!needed.has(j.id)) remove.add(j.id);
  }
  return [...remove].sort((a, b) => Number(a) - Number(b)).slice(0, limit);
}

function newestEndFirst(a: JobRecord, b: JobRecord): number {
  return (b.endedAt ?? 0) - (a.endedAt ?? 0) || Number(b.id) - Number(a.id);
}

function checkLimit(what: string, value: number): number {
  if (!Number.isInteger(value) || value < 0)
    throw new RangeError(`Cannot keep ${value} ${what}: the limit must be an integer >= 0`);
  return value;
}
