/**
 * The autoscale part of a service's view (`service ls`, `service inspect`): its bounds and
 * targets from the spec, the last decision from the replicated record, and the current value from
 * the leader's last sync (asked over RPC, `autoscale.status`, when this node does not lead).
 *
 * @module
 */
import type { AutoscaleView } from '../api/autoscale-types.js';
import type { AutoscaleLive } from './autoscale-loop.js';
import type { AutoscaleMetric } from '../state/autoscale-commands.js';
import type { ServiceRecord } from '../state/workloads.js';

/** What the leader said of each autoscaled service; null when it could not be asked. */
export type AutoscaleLiveMap = Readonly<Record<string, AutoscaleLive>> | null;

/** The view, or nothing for a service that is not autoscaled. */
export function autoscaleView(service: ServiceRecord, live: AutoscaleLiveMap): { autoscale?: AutoscaleView } {
  const spec = service.spec.kind === 'replicated' ? service.spec.autoscale : null;
  if (!spec) return {};
  const now = live?.[service.id];
  const targets = [
    ...(spec.targetCpuPercent > 0 ? [{ kind: 'cpu' as const, target: spec.targetCpuPercent }] : []),
    ...(spec.targetMemoryPercent > 0 ? [{ kind: 'memory' as const, target: spec.targetMemoryPercent }] : []),
    ...(spec.pendingJobs ? [{ kind: 'pending' as const, target: spec.pendingJobs.perTask }] : []),
    ...(spec.metric ? [{ kind: 'metric' as const, target: spec.metric.value, name: spec.metric.name }] : []),
    ...(spec.targetRps !== undefined ? [{ kind: 'rps' as const, target: spec.targetRps }] : []),
  ];
  const last = service.autoscale;
  return {
    autoscale: {
      min: spec.min,
      max: spec.max,
      metrics: targets.map((t) => ({ ...t, value: now?.metrics.find((m) => m.kind === t.kind)?.value ?? null })),
      syncedAt: now?.at ?? null,
      lastReason: now?.reason ?? '',
      lastDecision: last ? { at: last.at, from: last.from, to: last.to, reason: last.reason } : null,
    },
  };
}

/** Whether any of these services is autoscaled (only then is the leader asked). */
export function anyAutoscaled(services: readonly ServiceRecord[]): boolean {
  return services.some((s) => s.spec.kind === 'replicated' && s.spec.autoscale !== null);
}

const MAX_SERVICES = 10_000;

/**
 * The leader's `autoscale.status` answer, checked: entries that are not well formed are left
 * out (a view shows less rather than failing), and at most 10,000 services are read.
 */
export function parseLiveStatus(value: unknown): Record<string, AutoscaleLive> {
  const out: Record<string, AutoscaleLive> = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
  for (const [id, entry] of Object.entries(value).slice(0, MAX_SERVICES)) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { at, reason, metrics } = entry as Record<string, unknown>;
    if (typeof at !== 'number' || typeof reason !== 'string' || !Array.isArray(metrics)) continue;
    const clean = metrics.slice(0, 5).flatMap((m: unknown): AutoscaleMetric[] => {
      const { kind, value: v, target } = (m ?? {}) as Record<string, unknown>;
      const known = kind === 'cpu' || kind === 'memory' || kind === 'pending' || kind === 'metric' || kind === 'rps';
      if (!known || typeof target !== 'number') return [];
      return [{ kind, target, value: typeof v === 'number' && Number.isFinite(v) ? v : null }];
    });
    out[id] = { at, reason: reason.slice(0, 500), metrics: clean };
  }
  return out;
}
