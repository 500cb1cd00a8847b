/**
 * How events name what they are about, as the CLI's tables do.
 * @module
 * @private
 */
import type { IndexedState } from '../../state/indexed-state.js';
import type { TaskRecord } from '../../state/workloads.js';

/** `web_api.2` (replicated) or `web_agent.<node short id>` (global), like `docker service ps`. */
export function taskName(state: IndexedState, task: TaskRecord): string {
  const global = state.services[task.serviceId]?.spec.kind === 'global';
  return `${task.serviceId}.${global ? (task.nodeId ?? '').slice(0, 12) : task.slot}`;
}

/** A node's hostname, or its short id when the state no longer has it. */
export function hostOf(state: IndexedState, nodeId: string | null): string {
  if (nodeId === null) return '-';
  return state.nodes[nodeId]?.hostname ?? nodeId.slice(0, 12);
}

/** Keys whose record differs between `a` and `b`, in sorted order (every peer numbers events alike). */
export function changedKeys<T>(a: Readonly<Record<string, T>>, b: Readonly<Record<string, T>>): string[] {
  if (a === b) return [];
  const out = new Set<string>();
  for (const key of Object.keys(a)) if (a[key] !== b[key] || !Object.hasOwn(b, key)) out.add(key);
  for (const key of Object.keys(b)) if (!Object.hasOwn(a, key)) out.add(key);
  return [...out].sort();
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
