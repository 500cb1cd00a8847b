/**
 * `runsToForget()`: the ended runs of a cron service beyond its history limits, for garbage collection.
 * @module
 */
import type { CronSpec } from '../../stack/spec.js';

/** A run of a cron service, with how it ended. */
export interface CronRunOutcome {
  readonly jobId: string;
  /** When the run ended, ms; `null` while it is active (active runs are never forgotten). */
  readonly endedAt: number | null;
  /** True when it completed successfully; ignored while active. */
  readonly succeeded: boolean;
}

/**
 * Ids of the ended runs to forget: beyond the newest `successfulHistory` successful runs and the
 * newest `failedHistory` failed ones, oldest first (ties by job id). Pass the runs of one service.
 * @example
 * runsToForget(runs, { successfulHistory: 3, failedHistory: 1 }); // ['job-0007', 'job-0009']
 */
export function runsToForget(
  runs: readonly CronRunOutcome[],
  limits: Pick<CronSpec, 'successfulHistory' | 'failedHistory'>,
): string[] {
  for (const key of ['successfulHistory', 'failedHistory'] as const) {
    const n = limits[key];
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`Cannot keep ${n} runs as ${key}: use an integer >= 0`);
  }
  const oldestFirst = (a: CronRunOutcome, b: CronRunOutcome) =>
    a.endedAt! - b.endedAt! || (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0);
  const ended = runs.filter((r) => r.endedAt !== null).sort(oldestFirst);
  const beyond = (list: CronRunOutcome[], keep: number) => list.slice(0, Math.max(0, list.length - keep));
  const forget = [
    ...beyond(
      ended.filter((r) => r.succeeded),
      limits.successfulHistory,
    ),
    ...beyond(
      ended.filter((r) => !r.succeeded),
      limits.failedHistory,
    ),
  ];
  return forget.sort(oldestFirst).map((r) => r.jobId);
}
