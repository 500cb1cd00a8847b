/** The words of `QueueWait.message`: short, naming what blocks the task and what would unblock it. */

/** A duration for people: `45s`, `12m`, `3h`, `2d` (rounded up, so "in ~1m" never means "now"). */
export function duration(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.ceil(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.ceil(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.ceil(h / 24)}d`;
}

/** `expected start in ~4m`, or `expected start once terminating tasks stop` when it is now. */
export function eta(start: number, now: number): string {
  return start <= now ? 'expected start once terminating tasks stop' : `expected start in ~${duration(start - now)}`;
}

/**
 * A task that would fit but whose resources are held for a higher job; `limitUnderMs` > 0 says how
 * short a time limit would have let it backfill.
 */
export function priorityMessage(holder: string, start: number, now: number, limitUnderMs: number): string {
  const base = `Priority: resources held for ${holder} (${eta(start, now)})`;
  return limitUnderMs > 0 ? `${base}; a time limit under ${duration(limitUnderMs)} would let it start now` : base;
}

/** A task behind a blocked job when backfill is off. */
export function behindMessage(holder: string): string {
  return `Priority: waits behind ${holder} (backfill is off)`;
}

/** A task that does not fit: the scheduler's explanation, and when it should start if known. */
export function resourcesMessage(reason: string, start: number | undefined, now: number): string {
  return start === undefined ? `Resources: ${reason}` : `Resources: ${reason}; ${eta(start, now)}`;
}

/** A gang of which only some tasks fit. */
export function gangMessage(
  gang: string,
  fitted: number,
  total: number,
  start: number | undefined,
  now: number,
): string {
  const base = `Gang: only ${fitted} of ${total} tasks of gang ${JSON.stringify(gang)} fit now; it starts when all fit`;
  return start === undefined ? base : `${base} (${eta(start, now)})`;
}

/** A task waiting for preempted (or otherwise terminating) tasks to stop on its node. */
export function preemptingMessage(victims: number, nodeId: string): string {
  return victims === 0
    ? `Preempting: waiting for terminating tasks to stop on node ${nodeId}`
    : `Preempting: stopping ${victims} lower-priority task${victims === 1 ? '' : 's'} on node ${nodeId}`;
}
