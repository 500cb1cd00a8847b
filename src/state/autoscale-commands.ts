/**
 * The autoscaler's decisions in the log (issue 16): `service.autoscale` sets a replicated,
 * autoscaled service's replicas and records why, so every node (`service ls`, `inspect`) shows
 * the last decision. Only decisions that change the replicas are proposed: the measurements
 * themselves never enter the log (they go to the leader directly, src/autoscale).
 * @module
 */
import type { ServiceSpec } from '../stack/spec.js';
import { at, fail, list, object, oneOf, show, string } from './check.js';
import type { CommandBase } from './commands.js';
import { checkTime } from './model.js';
import { checkReplicas, checkServiceId } from './workload-checks.js';
import type { PayloadCheck } from './workload-commands.js';

/**
 * One metric of a decision: its value and target (cpu, memory: percent; pending: jobs waiting,
 * and jobs per task; metric: the scraped value, and the target per task; rps: the service's
 * requests per second, and requests per second per task); value null when nothing was measured.
 */
export interface AutoscaleMetric {
  readonly kind: 'cpu' | 'memory' | 'pending' | 'metric' | 'rps';
  readonly value: number | null;
  readonly target: number;
}

/** The last decision of the autoscaler, on the service record. */
export interface AutoscaleStatus {
  readonly at: number;
  readonly from: number;
  readonly to: number;
  /** `cpu 92 % of 70 % over 3 tasks → 4`. */
  readonly reason: string;
  readonly metrics: readonly AutoscaleMetric[];
}

/**
 * Scale an autoscaled service from `from` to `replicas` replicas. Refused (deterministically) when
 * the service no longer has `from` replicas: a manual `service scale` or a redeploy came first,
 * and the autoscaler decides again from there.
 */
export interface ServiceAutoscaleCommand extends CommandBase {
  readonly type: 'service.autoscale';
  readonly serviceId: string;
  readonly from: number;
  readonly replicas: number;
  readonly reason: string;
  readonly metrics: readonly AutoscaleMetric[];
}

const MAX_REASON = 500;
const METRIC_KINDS = ['cpu', 'memory', 'pending', 'metric', 'rps'] as const;

function checkReason(v: unknown, path: string): string {
  return string(v, path, { max: MAX_REASON });
}

function checkMetric(v: unknown, path: string): AutoscaleMetric {
  const m = object(v, path, ['kind', 'value', 'target']);
  const value = m.value;
  if (value !== null && (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1e15))
    fail(at(path, 'value'), `expected null or a number from 0 to 1e15, got ${show(value)}`);
  const target = m.target;
  if (typeof target !== 'number' || !Number.isFinite(target) || target <= 0 || target > 1e12)
    fail(at(path, 'target'), `expected a number above 0 and at most 1e12, got ${show(target)}`);
  return { kind: oneOf(m.kind, at(path, 'kind'), METRIC_KINDS), value, target };
}

function checkMetrics(v: unknown, path: string): AutoscaleMetric[] {
  return list(v, path, METRIC_KINDS.length, checkMetric);
}

/** The status on a service record (snapshots). */
export function checkAutoscaleStatus(v: unknown, path: string): AutoscaleStatus {
  const s = object(v, path, ['at', 'from', 'to', 'reason', 'metrics']);
  return {
    at: checkTime(s.at, at(path, 'at')),
    from: checkReplicas(s.from, at(path, 'from')),
    to: checkReplicas(s.to, at(path, 'to')),
    reason: checkReason(s.reason, at(path, 'reason')),
    metrics: checkMetrics(s.metrics, at(path, 'metrics')),
  };
}

export const AUTOSCALE_PAYLOADS: { readonly 'service.autoscale': PayloadCheck } = {
  'service.autoscale': {
    fields: ['serviceId', 'from', 'replicas', 'reason', 'metrics'],
    check: (c) => ({
      serviceId: checkServiceId(c.serviceId, 'serviceId'),
      from: checkReplicas(c.from, 'from'),
      replicas: checkReplicas(c.replicas, 'replicas'),
      reason: checkReason(c.reason, 'reason'),
      metrics: checkMetrics(c.metrics, 'metrics'),
    }),
  },
};

/**
 * The replicas an updated spec starts with. An autoscaled service (before and after) keeps the
 * count the autoscaler reached, brought within the new min..max, as Kubernetes does when a
 * Deployment under an HPA leaves `replicas` out: a redeploy (an image change, a rollout) must not
 * throw the autoscaler's work away. Other services take `deploy.replicas`.
 */
export function redeployReplicas(previous: { spec: ServiceSpec; replicas: number }, spec: ServiceSpec): number {
  const before = previous.spec.kind === 'replicated' ? previous.spec.autoscale : null;
  const after = spec.kind === 'replicated' ? spec.autoscale : null;
  if (!before || !after) return spec.deploy.replicas;
  return Math.min(after.max, Math.max(after.min, previous.replicas));
}
