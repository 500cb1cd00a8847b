/**
 * The autoscaler's decision for one service at one sync: HPA's algorithm (replica-calc.ts for each
 * metric, the highest recommendation of all metrics; then its behaviour: stabilisation windows,
 * rate limits, min/max bounds). Pure: time comes in as `now`, and what it must remember between
 * syncs (past recommendations and changes) goes in and out as {@link AutoscalerMemory}.
 *
 * Where shoal differs from HPA:
 * - A new leader (HPA: a restarted controller manager) starts with no history; HPA would then
 *   scale down at once. Shoal seeds the history with the current replicas at the first sync, so
 *   a scale-down still waits a whole down window after a leader change.
 * - A task's value is the mean of its samples in the last sync period (nodes sample every few
 *   seconds), not one reading per pod: it smooths noise before the tolerance is applied.
 * - Samples taken before the last change are not counted: they measured the load over the old
 *   replicas, and counted would make a second step overshoot.
 * - The rate-limit period is the sync period (HPA's default policies use 15 s, its default sync).
 *
 * @module
 */
import type { AutoscalePolicy } from './policy.js';
import {
  recommend,
  recommendPending,
  recommendRps,
  type MetricRecommendation,
  type TaskObservation,
} from './replica-calc.js';

/** What the autoscaler remembers of one service between syncs (leader memory, not replicated). */
export interface AutoscalerMemory {
  /** Recommendations of the past syncs within the longest window, oldest first. */
  readonly recommendations: readonly { readonly at: number; readonly replicas: number }[];
  /** Changes it made, within the rate-limit period, oldest first. */
  readonly changes: readonly { readonly at: number; readonly from: number; readonly to: number }[];
}

export interface AutoscaleInput {
  readonly now: number;
  readonly policy: AutoscalePolicy;
  /** The service's desired replicas now (the replicated count: set by deploy, `service scale` or the last decision). */
  readonly current: number;
  /** Its live tasks and their samples. */
  readonly tasks: readonly TaskObservation[];
  /** From the last sync; `null` on the first sync of this leader. */
  readonly memory: AutoscalerMemory | null;
  /** Jobs pending in the namespace of the policy's `pending` target (from the state). */
  readonly pendingJobs?: number | null;
  /** Requests per second through the service address (the nodes' mesh proxies); null: unmeasured. */
  readonly requestsPerSecond?: number | null;
}

export interface AutoscaleDecision {
  readonly from: number;
  readonly replicas: number;
  /** For people: `cpu 92 % of 70 % over 3 tasks → 4`. */
  readonly reason: string;
  readonly metrics: readonly MetricRecommendation[];
}

export interface AutoscaleResult {
  readonly decision: AutoscaleDecision;
  readonly memory: AutoscalerMemory;
}

/**
 * Decide the replicas of one service.
 *
 * @example
 * ```ts
 * const { decision, memory } = decide({ now, policy, current: 3, tasks, memory: last });
 * decision.reason; // 'cpu 92 % of 70 % over 3 tasks → 4'
 * ```
 */
export function decide(input: AutoscaleInput): AutoscaleResult {
  const { now, policy, current } = input;
  const memory = input.memory ?? { recommendations: [{ at: now, replicas: current }], changes: [] };
  const since = now - policy.syncPeriodMs;
  // Samples taken before the last change measured the load spread over the old replicas: only
  // those since count (a task with none is unmeasured, which counts against a further change).
  const lastChange = memory.changes.at(-1)?.at ?? -Infinity;
  const sampledSince = Math.max(since, lastChange + 1);
  const metrics = policy.targets.map((t) =>
    t.kind === 'pending'
      ? recommendPending(t, current, input.pendingJobs ?? null, policy.tolerance)
      : t.kind === 'rps'
        ? recommendRps(t, current, input.requestsPerSecond ?? null, policy.tolerance)
        : recommend(t, current, input.tasks, sampledSince, policy.tolerance),
  );
  const explained = metrics.map(describe).join('; ');
  const decided = (replicas: number, reason: string, recommendations = memory.recommendations): AutoscaleResult => {
    const changes = memory.changes.filter((c) => c.at > since);
    if (replicas !== current) changes.push({ at: now, from: current, to: replicas });
    return { decision: { from: current, replicas, reason, metrics }, memory: { recommendations, changes } };
  };
  if (current > policy.max)
    return decided(policy.max, `${current} replicas is above max ${policy.max} → ${policy.max}`);
  if (current < policy.min)
    return decided(policy.min, `${current} replicas is below min ${policy.min} → ${policy.min}`);

  const wanted = metrics.map((m) => m.replicas).filter((r): r is number => r !== null);
  if (wanted.length === 0) {
    const tasks = input.tasks.length;
    return decided(current, `no measurements from any of ${tasks} task${tasks === 1 ? '' : 's'}: keeping ${current}`);
  }
  const recommended = Math.max(...wanted);
  const horizon = now - Math.max(policy.upWindowMs, policy.downWindowMs);
  const recommendations = [...memory.recommendations.filter((r) => r.at > horizon), { at: now, replicas: recommended }];

  // Stabilisation (HPA's stabilizeRecommendationWithBehaviors): up to the lowest recommendation of
  // the up window, down to the highest of the down window.
  let up = recommended;
  let down = recommended;
  for (const r of recommendations) {
    if (r.at > now - policy.upWindowMs) up = Math.min(up, r.replicas);
    if (r.at > now - policy.downWindowMs) down = Math.max(down, r.replicas);
  }
  let stabilised = current;
  if (stabilised < up) stabilised = up;
  if (stabilised > down) stabilised = down;
  const notes: string[] = [];
  if (stabilised !== recommended) {
    notes.push(
      stabilised > recommended
        ? `held at ${stabilised}: the highest recommendation of the last ${seconds(policy.downWindowMs)}`
        : `held at ${stabilised}: the lowest recommendation of the last ${seconds(policy.upWindowMs)}`,
    );
  }

  // Rate limits (HPA's convertDesiredReplicasWithBehaviorRate), then the bounds.
  let replicas = stabilised;
  const recent = memory.changes.filter((c) => c.at > since);
  if (replicas > current) {
    const start = current - recent.reduce((sum, c) => sum + Math.max(0, c.to - c.from), 0);
    const limit = Math.max(start + policy.upPods, Math.ceil((start * (100 + policy.upPercent)) / 100));
    if (replicas > limit) {
      replicas = limit;
      notes.push(
        `limited to ${limit}: at most max(${policy.upPods}, ${policy.upPercent} %) more per ${seconds(policy.syncPeriodMs)}`,
      );
    }
  } else if (replicas < current) {
    const start = current + recent.reduce((sum, c) => sum + Math.max(0, c.from - c.to), 0);
    const limit = Math.ceil((start * (100 - policy.downPercent)) / 100);
    if (replicas < limit) {
      replicas = limit;
      notes.push(`limited to ${limit}: at most ${policy.downPercent} % fewer per ${seconds(policy.syncPeriodMs)}`);
    }
  }
  if (replicas > policy.max) {
    replicas = policy.max;
    notes.push(`at most max ${policy.max}`);
  } else if (replicas < policy.min) {
    replicas = policy.min;
    notes.push(`at least min ${policy.min}`);
  }
  const reason = `${explained} → ${recommended}${notes.length > 0 ? `, ${notes.join(', ')}` : ''}`;
  return decided(replicas, reason, recommendations);
}

/**
 * `cpu 92 % of 70 % over 3 tasks` (+ the tasks it could not count); `40 jobs pending in batch, 5
 * per task`; `rps 230 over 2 tasks, 50 per task`.
 */
function describe(m: MetricRecommendation): string {
  if (m.kind === 'pending')
    return `${m.value === null ? 'unknown' : m.value} jobs pending in ${m.namespace ?? '?'}, ${m.target} per task`;
  const tasks = `${m.measured} task${m.measured === 1 ? '' : 's'}`;
  if (m.kind === 'rps')
    return `rps ${m.value === null ? 'unmeasured' : round(m.value)} over ${tasks}, ${m.target} per task`;
  const extra = [
    ...(m.missing > 0 ? [`${m.missing} unmeasured`] : []),
    ...(m.unready > 0 ? [`${m.unready} starting`] : []),
  ];
  if (m.kind === 'metric') {
    const value = m.value === null ? 'unmeasured' : `${round(m.value)}`;
    return `${m.name ?? 'metric'} ${value} of ${m.target} over ${tasks}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`;
  }
  const value = m.value === null ? 'unmeasured' : `${Math.round(m.value)} %`;
  return `${m.kind} ${value} of ${m.target} % over ${tasks}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`;
}

/** At most 3 significant decimals: 12.35, 0.123, 1200. */
function round(v: number): number {
  return Math.abs(v) >= 100 ? Math.round(v) : Number(v.toPrecision(3));
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
