/**
 * Job garbage collection: ended jobs are `shoal job history`, but the state must not grow for
 * ever. The newest {@link DEFAULT_JOB_HISTORY} ended jobs are kept (with their tasks); a cron
 * service keeps only its `successful_history` / `failed_history` newest runs of each kind.
 * @module
 */
import { isJobEnded, type JobRecord } from '../state/jobs.js';
import type { WorkloadState } from './workload-types.js';

/** Ended jobs kept, newest first by end time. */
export const DEFAULT_JOB_HISTORY = 5000;

/** Ids of ended jobs to forget (`job.remove`), at most `limit`. */
export function collectJobs(state: WorkloadState, history = DEFAULT_JOB_HISTORY, limit = 1000): string[] {
  const ended = Object.values(state.jobs ?? {})
    .filter((j) => isJobEnded(j.state))
    .sort(newestEndFirst);
  const remove = new Set(ended.slice(history).map((j) => j.id));
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
