/**
 * Stack network garbage collection, pure: which of this node's stack networks no assigned task
 * can need any more. A network is created for a task just before its container; removing it with
 * the last container that used it misses the tasks that never got a container (a bind-mount
 * source that does not exist, a refused create) and a removal that raced another. So the runtime
 * also asks, level-triggered, from what it finds labelled as its own: nothing is remembered, and
 * a restarted agent cleans up what an earlier one left.
 *
 * The driver still checks that no container (running or not) is on a network before removing it:
 * an ended task's container keeps its network until the container goes.
 *
 * @module
 */
import { stackNetworks } from './create-options.js';
import { isRunnable } from './plan.js';
import { isTerminal } from '../state/workloads.js';
import type { ObservedNetwork, RuntimeAssignment } from './types.js';

/** Networks removed by one collection at most (the rest go in the next one). */
export const NETWORK_GC_BATCH = 16;

/** Input of {@link unusedNetworks}. */
export interface NetworkGcInput {
  readonly nodeId: string;
  /** The tasks assigned to this node, with their services (others are ignored). */
  readonly desired: readonly RuntimeAssignment[];
  /** This node's stack networks as the driver lists them. */
  readonly networks: readonly ObservedNetwork[];
  /** At most this many; default {@link NETWORK_GC_BATCH}. */
  readonly limit?: number;
  /**
   * The name of the last network the previous collection returned: this one starts after it and
   * wraps around, so networks the driver keeps (an ended task's container is on them) cannot
   * starve the others of a bounded batch.
   */
  readonly after?: string;
}

/**
 * The networks of `networks` that no assigned task may still create or start a container on: a
 * task needs its service's networks while its service is known, it is wanted running and it has
 * not ended. A service that scales to zero (`autoscale.min: 0`) keeps them while any of its tasks
 * is assigned here, ended or not: its next connection starts a task again, and making the bridge
 * network again would cost that cold start 130–250 ms (bench:autoscale). In name order
 * from {@link NetworkGcInput.after}, at most `limit`.
 *
 * @example
 * ```ts
 * for (const n of unusedNetworks({ nodeId, desired, networks: await driver.networks(nodeId) }))
 *   await driver.removeNetwork(n);
 * ```
 */
export function unusedNetworks(input: NetworkGcInput): ObservedNetwork[] {
  const limit = input.limit ?? NETWORK_GC_BATCH;
  if (!Number.isInteger(limit) || limit < 0)
    throw new RangeError(`Cannot remove ${limit} networks per collection: the limit must be an integer >= 0`);
  if (input.networks.length === 0) return [];
  const wanted = new Set<string>();
  for (const a of input.desired) {
    if (a.task.nodeId !== input.nodeId || !isRunnable(a)) continue;
    const scalesToZero = a.service.spec.autoscale?.min === 0;
    if (!scalesToZero && (a.task.desiredState === 'shutdown' || isTerminal(a.task.state))) continue;
    for (const n of stackNetworks(input.nodeId, a)) wanted.add(n.name);
  }
  const unused = input.networks
    .filter((n) => !wanted.has(n.name))
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const after = input.after;
  const start = after === undefined ? 0 : unused.findIndex((n) => n.name > after);
  const rotated = start <= 0 ? unused : [...unused.slice(start), ...unused.slice(0, start)];
  return rotated.slice(0, limit);
}
