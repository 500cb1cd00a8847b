/**
 * Snapshot validation of the batch part of the state: jobs, quotas, usage and cron marks.
 * @module
 * @private
 */
import type { NamespaceQuota } from '../scheduler/queue/types.js';
import { at, fail, map, show } from './check.js';
import { checkJob, checkJobId, checkNamespace, checkQuota, checkUsageRecord } from './job-checks.js';
import type { BatchState } from './jobs.js';
import { checkTime } from './model.js';
import { checkServiceId } from './workload-checks.js';

const MAX_JOBS = 1_000_000;

/** The batch maps of a snapshot's state object `s`, checked. */
export function checkBatch(s: Record<string, unknown>, path: string): BatchState {
  const jobs = map(s.jobs, at(path, 'jobs'), MAX_JOBS, checkJobId, checkJob);
  for (const [id, job] of Object.entries(jobs)) {
    if (job.id !== id)
      fail(at(at(at(path, 'jobs'), id), 'id'), `does not match the key it is filed under, got ${show(job.id)}`);
  }
  const quotas: Record<string, NamespaceQuota> = map(s.quotas, at(path, 'quotas'), 100_000, checkNamespace, checkQuota);
  const usage = map(s.usage, at(path, 'usage'), 100_000, checkNamespace, checkUsageRecord);
  const cronMarks = map(s.cronMarks, at(path, 'cronMarks'), 100_000, checkServiceId, checkTime);
  return { jobs, quotas, usage, cronMarks };
}
