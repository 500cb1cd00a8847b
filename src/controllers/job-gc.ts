/**
 * Job garbage collection: ended jobs are `shoal job history`, but the state must not grow for
 * ever. The newest {@link DEFAULT_JOB_HISTORY} ended jobs are kept (with their tasks), as long as
 * they hold no more than {@link DEFAULT_UNIT_HISTORY} units in all (a few big arrays would
 * otherwise fill the replicated state with hundreds of thousands of ended tasks, which every
 * commit, snapshot and controller pass pays for); the newest ended job is kept whatever its
 * size. A cron service keeps only its `successful_history` / `failed_history` newest runs of
 * each kind.
 * @module
 */
import { isJobEnded, type JobRecord } from '../state/jobs.js';
import type { WorkloadState } from './workload-types.js';

/** Ended jobs kept, newest first by end time. */
export const DEFAULT_JOB_HISTORY = 5000;

/** Units of ended jobs kept in all (Slurm keeps ended jobs in memory only for minutes). */
export const DEFAULT_UNIT_HISTORY = 20_000;

/** How much history {@link collectJobs} keeps. */
export interface JobHistoryLimits {
  /** Ended jobs; default {@link DEFAULT_JOB_HISTORY}. */
  readonly jobs?: number;
  /** Units of those jobs, in all; default {@link DEFAULT_UNIT_HISTORY}. */
  readonly units?: number;
}

/** Ids of ended jobs to forget (`job.remove`), at most `limit`. */
export function collectJobs(state: WorkloadState, history: JobHistoryLimits = {}, limit = 1000): string[] {
  const ended = Object.values(state.jobs ?? {})
    .filter((j) => isJobEnded(j.state))
    .sort(newestEndFirst);
  const maxJobs = history.jobs ?? DEFAULT_JOB_HISTORY;
  const maxUnits = history.units ?? DEFAULT_UNIT_HISTORY;
  const remove = new Set<string>();
  let units = 0;
  ended.forEach((job, i) => {
    units += job.units;
    if (i >= maxJobs || (i > 0 && units > maxUnits)) remove.add(job.id);
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
    for (const j of ok.slice(cron.successfulHistory)) remove.add(j.id);
    for (const j of bad.slice(cron.failedHistory)) remove.add(j.id);
  }
  return [...remove].sort((a, b) => Number(a) - Number(b)).slice(0, limit);
}

function newestEndFirst(a: JobRecord, b: JobRecord): number {
  return (b.endedAt ?? 0) - (a.endedAt ?? 0) || Number(b.id) - Number(a.id);
}
