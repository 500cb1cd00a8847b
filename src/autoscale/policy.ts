/**
 * An autoscaled service's settings with every default filled in: Kubernetes' HPA's (v2 behaviour
 * defaults) unless the Compose file says otherwise. Where shoal's defaults or meaning differ from
 * HPA's, the field says so.
 *
 * @module
 */
import type { AutoscaleSpec, ServiceSpec } from '../stack/spec.js';

/** What a service scales on: the average per task, against a target. */
export type MetricTarget =
  /** CPU in use, percent of `requestCores` (the reservation, else the limit, else one core). */
  | { readonly kind: 'cpu'; readonly percent: number; readonly requestCores: number }
  /** Memory in use, percent of `requestBytes` (the reservation, else the limit). */
  | { readonly kind: 'memory'; readonly percent: number; readonly requestBytes: number }
  /** Jobs waiting in a namespace's queue: one task per `perTask` of them (read from the state). */
  | { readonly kind: 'pending'; readonly namespace: string; readonly perTask: number }
  /** A metric the tasks expose (Prometheus text, scraped by their nodes): `value` per task on average. */
  | { readonly kind: 'metric'; readonly name: string; readonly value: number }
  /** Requests per second through the service address (counted by the nodes' mesh proxies): `perTask` each. */
  | { readonly kind: 'rps'; readonly perTask: number };

export interface AutoscalePolicy {
  readonly min: number;
  readonly max: number;
  /** One recommendation per target; the highest wins (as HPA does with several metrics). */
  readonly targets: readonly MetricTarget[];
  /** No change while value/target is within 1 ± tolerance. HPA: 0.1. */
  readonly tolerance: number;
  /**
   * How often the leader decides; also the span each task's samples are averaged over (HPA takes
   * metrics-server's latest value per pod, itself a rate over about 15 s). HPA: 15 s.
   */
  readonly syncPeriodMs: number;
  /** The lowest recommendation of this window is the most a scale-up may reach. HPA: 0. */
  readonly upWindowMs: number;
  /** The highest recommendation of this window is the least a scale-down may reach. HPA: 300 s. */
  readonly downWindowMs: number;
  /** A scale-up adds at most max(upPods, upPercent % of the replicas) per `syncPeriodMs`. HPA: 4 and 100 per 15 s. */
  readonly upPods: number;
  readonly upPercent: number;
  /** A scale-down removes at most this percent of the replicas per `syncPeriodMs`. HPA: 100 per 15 s. */
  readonly downPercent: number; /**
   * Scale to zero (min 0; HPA cannot): no connection through any node's mesh proxy for this long
   * takes the service to zero, and a woken service stays up at least this long. Default 5 min.
   */
  readonly idleMs: number;
  /** With min 0: how long a node holds a connection while the service wakes. Default 60 s. */
  readonly coldStartTimeoutMs: number;
  /** With min 0: connections a node holds at once per service while it wakes; more are refused. Default 256. */
  readonly coldStartQueue: number;
}

/** Scale-to-zero defaults (shoal's own: HPA has no zero). */
export const SCALE_TO_ZERO_DEFAULTS = { idleMs: 300_000, coldStartTimeoutMs: 60_000, coldStartQueue: 256 } as const;

export const HPA_DEFAULTS = {
  tolerance: 0.1,
  syncPeriodMs: 15_000,
  upWindowMs: 0,
  downWindowMs: 300_000,
  upPods: 4,
  upPercent: 100,
  downPercent: 100,
} as const;

/**
 * The policy of a service, or `null` when it is not autoscaled. Reads defensively: a spec from an
 * older snapshot may lack fields this version added.
 *
 * @example
 * ```ts
 * const policy = policyOf(service.spec); // { min: 1, max: 10, targets: [{ kind: 'cpu', percent: 70, ... }], ... }
 * ```
 */
export function policyOf(spec: ServiceSpec): AutoscalePolicy | null {
  const a: Partial<AutoscaleSpec> | null = spec.kind === 'replicated' ? spec.autoscale : null;
  if (!a || typeof a.max !== 'number') return null;
  const resources = spec.deploy.resources;
  const cpuMillis = resources.reservations.cpuMillis || resources.limits.cpuMillis || 1000;
  const memoryBytes = resources.reservations.memoryBytes || resources.limits.memoryBytes;
  const targets: MetricTarget[] = [];
  if ((a.targetCpuPercent ?? 0) > 0)
    targets.push({ kind: 'cpu', percent: a.targetCpuPercent!, requestCores: cpuMillis / 1000 });
  if ((a.targetMemoryPercent ?? 0) > 0 && memoryBytes > 0)
    targets.push({ kind: 'memory', percent: a.targetMemoryPercent!, requestBytes: memoryBytes });
  if (a.metric) targets.push({ kind: 'metric', name: a.metric.name, value: a.metric.value });
  if (a.pendingJobs)
    targets.push({ kind: 'pending', namespace: a.pendingJobs.namespace, perTask: a.pendingJobs.perTask });
  if ((a.targetRps ?? 0) > 0) targets.push({ kind: 'rps', perTask: a.targetRps! });
  const min = a.min === 0 ? 0 : Math.max(1, a.min ?? 1);
  return {
    min,
    max: Math.max(1, min, a.max),
    targets,
    tolerance: a.tolerance ?? HPA_DEFAULTS.tolerance,
    syncPeriodMs: a.syncPeriodMs ?? HPA_DEFAULTS.syncPeriodMs,
    upWindowMs: a.scaleUpCooldownMs ?? HPA_DEFAULTS.upWindowMs,
    downWindowMs: a.scaleDownCooldownMs ?? HPA_DEFAULTS.downWindowMs,
    upPods: a.scaleUpPods ?? HPA_DEFAULTS.upPods,
    upPercent: a.scaleUpPercent ?? HPA_DEFAULTS.upPercent,
    downPercent: a.scaleDownPercent ?? HPA_DEFAULTS.downPercent,
    idleMs: a.idleMs ?? SCALE_TO_ZERO_DEFAULTS.idleMs,
    coldStartTimeoutMs: a.coldStartTimeoutMs ?? SCALE_TO_ZERO_DEFAULTS.coldStartTimeoutMs,
    coldStartQueue: a.coldStartQueue ?? SCALE_TO_ZERO_DEFAULTS.coldStartQueue,
  };
}
