/** What `service ls` and `service inspect` show of an autoscaled service (issue 16). */

/**
 * One metric: its target and, when measured, its value: cpu and memory in percent (the average
 * over the service's tasks), pending as jobs waiting against jobs per task, rps as the service's
 * requests per second against requests per second per task.
 */
export interface AutoscaleMetricView {
  readonly kind: 'cpu' | 'memory' | 'pending' | 'metric' | 'rps';
  /** metric: the scraped metric's name. */
  readonly name?: string;
  readonly target: number;
  /** The value at the leader's last sync; null when unmeasured or the leader could not be asked. */
  readonly value: number | null;
}

export interface AutoscaleView {
  readonly min: number;
  readonly max: number;
  readonly metrics: readonly AutoscaleMetricView[];
  /** When the leader last decided (ms since the epoch); null when not known. */
  readonly syncedAt: number | null;
  /** What the last sync concluded, changed or not (`cpu 72 % of 70 % over 3 tasks → 3`); '' when not known. */
  readonly lastReason: string;
  /** The last decision that changed the replicas (replicated state: the same on every node). */
  readonly lastDecision: {
    readonly at: number;
    readonly from: number;
    readonly to: number;
    readonly reason: string;
  } | null;
}
