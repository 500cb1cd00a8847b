/**
 * `x-shoal.image_update`: automatic image updates (issue 15). The leader asks the registry for the
 * tag's digest every `interval` (one HEAD per tag) and rolls a new digest out as a
 * `service update --image` would (src/agent/image-watch-loop.ts).
 *
 * ```yaml
 * x-shoal:
 *   image_update: {interval: 1m}   # off when absent
 *   image_update: {interval: 10s, policy: local}   # images loaded on the nodes: compare their ids
 *   image_update: false   # never, even with the cluster default (shoal agent --image-update-ms)
 * ```
 * @module
 */
import { join, type Reader } from './reader.js';
import type { ImageUpdateSpec } from './spec.js';
import type { PNode } from './tree.js';

const KEYS = ['interval', 'policy'];

/** Fewer checks than this would only load the registry (Watchtower's default is 24 h). */
export const MIN_IMAGE_UPDATE_INTERVAL_MS = 5_000;
export const DEFAULT_IMAGE_UPDATE_INTERVAL_MS = 60_000;

/**
 * Reads `x-shoal.image_update` (absent: undefined, so specs without it hash as before). Only
 * replicated and global container services have rollouts to update through.
 */
export function readImageUpdateSpec(
  r: Reader,
  at: { node: PNode; path: string } | undefined,
  service: { readonly kind: string; readonly runtime: string },
): ImageUpdateSpec | false | undefined {
  if (at === undefined) return undefined;
  if (at.node.kind === 'scalar' && at.node.value === false) return false;
  const m = r.map(at.node, at.path, true);
  if (!m) return undefined;
  r.checkKeys(m, at.path, KEYS);
  if (service.runtime === 'process') {
    r.error(at.node, at.path, 'a process service has no image to update: remove image_update or use runtime: docker');
    return undefined;
  }
  if (service.kind !== 'replicated' && service.kind !== 'global') {
    r.error(
      at.node,
      at.path,
      `only replicated and global services are updated automatically, this is a ${service.kind}`,
    );
    return undefined;
  }
  const node = m.entries.get('interval')?.value;
  const path = join(at.path, 'interval');
  const interval = node ? r.duration(node, path) : DEFAULT_IMAGE_UPDATE_INTERVAL_MS;
  if (interval === undefined) return undefined;
  if (interval < MIN_IMAGE_UPDATE_INTERVAL_MS) {
    r.error(node, path, `expected at least 5s, got ${interval}ms`);
    return undefined;
  }
  const policyNode = m.entries.get('policy')?.value;
  // `registry`, the default, is left out of the spec: specs without a policy hash as before.
  const policy = policyNode ? r.oneOf(policyNode, join(at.path, 'policy'), ['registry', 'local']) : 'registry';
  if (policy === undefined) return undefined;
  return policy === 'local' ? { intervalMs: interval, policy } : { intervalMs: interval };
}
