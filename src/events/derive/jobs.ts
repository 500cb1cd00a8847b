/**
 * Job events: submitted (or a cron run queued), started (with its time in the queue), ended
 * (with its state, reason and exit code).
 * @module
 */
import type { AppliedCommand } from '../../state/cluster-state.js';
import { isJobEnded, type JobRecord } from '../../state/jobs.js';
import type { EventDraft } from '../types.js';
import { changedKeys } from './names.js';

export function jobEvents({ before, after }: AppliedCommand): EventDraft[] {
  const out: EventDraft[] = [];
  for (const id of changedKeys(before.jobs, after.jobs)) {
    const was = before.jobs[id];
    const is = after.jobs[id];
    if (is === undefined) continue; // collected
    if (was === undefined) {
      out.push(
        jobEvent(
          is,
          'submitted',
          `${label(is)} queued by ${is.owner} (namespace ${is.namespace}, priority ${is.priority})`,
        ),
      );
    }
    if ((was?.state ?? 'PENDING') === 'PENDING' && is.state === 'RUNNING') {
      const queuedMs = queueWaitMs(is);
      out.push({
        ...jobEvent(is, 'started', `${label(is)} started after ${seconds(queuedMs)} in the queue`),
        queuedMs,
      });
    }
    if (isJobEnded(is.state) && (was === undefined || !isJobEnded(was.state))) {
      const reason = is.reason === '' ? '' : `: ${is.reason}`;
      const exit = is.exitCode === null ? '' : ` (exit code ${is.exitCode})`;
      out.push({
        ...jobEvent(is, 'ended', `${label(is)} ended ${is.state}${reason}${exit}`),
        from: was?.state ?? 'PENDING',
        to: is.state,
        exitCode: is.exitCode,
      });
    }
  }
  return out;
}

/** From when it could start (its begin time) to when it started. */
export function queueWaitMs(job: JobRecord): number {
  return Math.max(0, (job.startedAt ?? job.beginAt) - Math.max(job.beginAt, job.submittedAt));
}

function jobEvent(job: JobRecord, action: string, message: string): EventDraft {
  return { type: 'job', action, name: job.name, job: job.id, service: job.serviceId, message };
}

const label = (job: JobRecord): string => `job ${job.id} (${job.name})`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
