/**
 * The cluster-level back-off of a task slot, derived from the slot's task history only.
 *
 * The node's runtime applies the restart policy in place first; when a task still ends on its
 * own (failed, rejected, or complete under `condition: any`) the orchestrator replaces it with
 * a new task in the same slot. Without a delay a crash-looping service would churn the cluster
 * (a create, an assign, a report per second per slot), so each replacement waits
 * `delay · 2^(streak-1)`, capped, after the previous task ended.
 *
 * Nothing is kept in memory: the streak is read from the terminal tasks still in the state, so a
 * new leader computes the same back-off as the old one. The streak is therefore bounded by the
 * history the garbage collector keeps per slot (see gc.ts).
 * @module
 */
import type { RestartPolicySpec } from '../stack/spec.js';
import { isTerminal, type TaskRecord } from '../state/workloads.js';

export interface BackoffOptions {
  /** Floor of the first delay, for services whose restart delay is 0. Default 1 s. */
  readonly minDelayMs: number;
  /** Cap of the exponential delay. Default 5 min. */
  readonly maxDelayMs: number;
  /** A task that lived at least this long ends the streak: it was not crash-looping. Default 10 min. */
  readonly resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({
  minDelayMs: 1000,
  maxDelayMs: 300_000,
  resetAfterMs: 600_000,
});

/** Newest first: by creation time, then id (ids break ties deterministically). */
export function newestFirst(a: TaskRecord, b: TaskRecord): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** Whether the task ended by itself (not stopped by the orchestrator, not lost with its node). */
export function endedOnItsOwn(task: TaskRecord): boolean {
  return isTerminal(task.state) && task.desiredState === 'running' && task.state !== 'orphaned';
}

/**
 * Whether the restart policy wants a task that ended on its own replaced: `none` never,
 * `on-failure` after failed or rejected, `any` always.
 */
export function wantsReplacement(task: TaskRecord, policy: RestartPolicySpec): boolean {
  if (policy.condition === 'none') return false;
  if (policy.condition === 'any') return true;
  return task.state === 'failed' || task.state === 'rejected';
}

/**
 * The delay before the `streak`-th consecutive replacement of a slot.
 * @example backoffDelay(3, 5000, DEFAULT_BACKOFF) // 20000
 */
export function backoffDelay(streak: number, delayMs: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  if (streak <= 0) return 0;
  const base = Math.max(delayMs, options.minDelayMs);
  // 2^30 already exceeds any sane cap; bounding the exponent keeps the number finite.
  return Math.min(options.maxDelayMs, base * 2 ** Math.min(streak - 1, 30));
}

/**
 * The number of tasks of a slot that ended on their own in a row, newest first: a task stopped
 * by the orchestrator or lost with its node ends the streak, and so does one that ran longer
 * than `resetAfterMs` (it is counted: its end is a failure, but not part of a loop).
 */
export function failureStreak(slotTasks: readonly TaskRecord[], options: BackoffOptions = DEFAULT_BACKOFF): number {
  const ended = slotTasks.filter((t) => isTerminal(t.state)).sort(newestFirst);
  let streak = 0;
  for (const task of ended) {
    if (!endedOnItsOwn(task)) break;
    streak++;
    if (task.updatedAt - task.createdAt >= options.resetAfterMs) break;
  }
  return streak;
}

/**
 * When a slot may get a replacement for its newest task, which ended on its own: that task's end
 * (`updatedAt`, the time of its last report) plus the back-off delay. 0 when nothing ended on its own.
 * @example
 * slotReadyAt(tasksOfSlot3, spec.deploy.restartPolicy) // e.g. 1_700_000_020_000
 */
export function slotReadyAt(
  slotTasks: readonly TaskRecord[],
  policy: RestartPolicySpec,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  const newest = slotTasks.filter((t) => isTerminal(t.state)).sort(newestFirst)[0];
  if (newest === undefined || !endedOnItsOwn(newest)) return 0;
  return newest.updatedAt + backoffDelay(failureStreak(slotTasks, options), policy.delayMs, options);
}
