/**
 * Fair-share usage bookkeeping for the caller of `planQueue()`: each namespace's recent CPU use,
 * decayed with a half-life (Slurm's `PriorityDecayHalfLife`), so that old usage counts less and
 * less. The queue only reads the result (`QueueInput.usage`); the job controller keeps it in the
 * replicated state and advances it with the leader-stamped time.
 */
import type { RunningTask } from './types.js';

/**
 * `usage` after `elapsedMs` with the given half-life: halves every `halfLifeMs`.
 * @example decay(100, 60_000, 60_000) // 50
 */
export function decay(usage: number, elapsedMs: number, halfLifeMs: number): number {
  if (!(halfLifeMs > 0))
    throw new RangeError(`Cannot decay usage with halfLifeMs=${halfLifeMs}: expected a number > 0`);
  if (elapsedMs <= 0) return usage;
  return usage * 2 ** (-elapsedMs / halfLifeMs);
}

/**
 * Advance a usage table from `since` to `now`: decay every namespace's usage, then add the CPU-ms
 * that running tasks spent in that interval (reserved millicores × time / 1000). Tasks without a
 * namespace are not counted. Entries that decay below 1 CPU-ms are dropped. Pure: returns a new table.
 *
 * @example
 * ```ts
 * const usage = accrueUsage({ ml: 1000 }, running, lastPass, now, 7 * 24 * 3600_000);
 * planQueue({ ..., usage });
 * ```
 */
export function accrueUsage(
  previous: Readonly<Record<string, number>>,
  running: readonly RunningTask[],
  since: number,
  now: number,
  halfLifeMs: number,
): Record<string, number> {
  const elapsed = Math.max(0, now - since);
  const next: Record<string, number> = {};
  for (const [ns, used] of Object.entries(previous)) next[ns] = decay(used, elapsed, halfLifeMs);
  for (const task of running) {
    if (task.namespace === null) continue;
    const ms = Math.max(0, now - Math.max(since, task.startedAt));
    const cpuMs = ((task.reservations?.cpus ?? 0) * ms) / 1000;
    if (cpuMs > 0) next[task.namespace] = (next[task.namespace] ?? 0) + cpuMs;
  }
  for (const ns of Object.keys(next)) if (next[ns]! < 1) delete next[ns];
  return next;
}
