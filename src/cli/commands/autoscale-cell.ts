/**
 * The AUTOSCALE cell of `shoal service ls` (issue 16): current value against target per metric,
 * the bounds, and the last decision's count, e.g. `cpu 92/70 % · 1..10 · 3→4 (2m ago)`.
 * @module
 */
import type { ServiceView } from '../../api/types.js';

/** '' for a service that is not autoscaled. */
export function autoscaleCell(service: ServiceView, now = Date.now()): string {
  const a = service.autoscale;
  if (!a) return '';
  const metrics = a.metrics.map((m) => {
    const value = m.value === null ? '?' : Math.round(m.value);
    if (m.kind === 'pending') return `pending ${value}/${m.target} a task`;
    if (m.kind === 'rps') return `rps ${value}/${m.target} a task`;
    if (m.kind === 'metric') return `${m.name ?? 'metric'} ${m.value === null ? '?' : m.value}/${m.target} a task`;
    return `${m.kind} ${value}/${m.target} %`;
  });
  const last = a.lastDecision;
  const decided = last ? ` · ${last.from}→${last.to} (${ago(now - last.at)})` : '';
  return `${metrics.join(', ')} · ${a.min}..${a.max}${decided}`;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}
