/**
 * `x-shoal.update`: what Compose's `update_config` lacks for safe rollouts (issue 15).
 *
 * ```yaml
 * x-shoal:
 *   update:
 *     canary: 1              # run 1 new task beside the old ones, then wait for `shoal service promote`
 *     auto_promote: true     # ... or promote once the canaries are healthy for `monitor`
 *     progress_deadline: 10m # fail the rollout when no task is updated for this long (default 600s)
 * ```
 *
 * Canaries are for replicated services only (Nomad has none for system jobs): a global service
 * has no spare slot to run one beside, so `canary` on one is refused here.
 * @module
 */
import { join, type Reader } from './reader.js';
import type { RolloutSpec } from './spec.js';
import type { PNode } from './tree.js';

const KEYS = ['canary', 'auto_promote', 'progress_deadline'];

/** A rollout with no task updated for this long fails (Kubernetes' progressDeadlineSeconds). */
export const DEFAULT_PROGRESS_DEADLINE_MS = 600_000;

/** Reads `x-shoal.update` (absent: undefined, so specs without it hash as before). */
export function readRolloutSpec(
  r: Reader,
  at: { node: PNode; path: string } | undefined,
  kind?: string,
): RolloutSpec | undefined {
  if (at === undefined) return undefined;
  const m = r.map(at.node, at.path, true);
  if (!m) return undefined;
  r.checkKeys(m, at.path, KEYS);
  const get = (k: string) => m.entries.get(k)?.value;
  const canary = get('canary') ? r.int(get('canary')!, join(at.path, 'canary'), 0, 1_000_000) : undefined;
  if (canary !== undefined && canary > 0 && kind !== undefined && kind !== 'replicated')
    r.error(
      get('canary'),
      join(at.path, 'canary'),
      `canaries run beside the old tasks of a replicated service, this is a ${kind} service: remove canary (update_config.parallelism sets how many tasks are replaced at once)`,
    );
  const autoPromote = get('auto_promote') ? r.bool(get('auto_promote')!, join(at.path, 'auto_promote')) : undefined;
  const deadlineNode = get('progress_deadline');
  const deadline = deadlineNode ? r.duration(deadlineNode, join(at.path, 'progress_deadline')) : undefined;
  if (deadline !== undefined && deadline < 1000)
    r.error(deadlineNode, join(at.path, 'progress_deadline'), `expected at least 1s, got ${deadline}ms`);
  return {
    canary: canary ?? 0,
    autoPromote: autoPromote ?? false,
    progressDeadlineMs: deadline !== undefined && deadline >= 1000 ? deadline : DEFAULT_PROGRESS_DEADLINE_MS,
  };
}
