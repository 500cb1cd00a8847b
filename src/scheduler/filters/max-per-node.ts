/** Swarm's `max_replicas_per_node`: at most N tasks of the service on one node. */
import type { Filter } from './filter.js';
import { nodes } from './filter.js';

/**
 * Rejects nodes that already run the limit; the detail is the limit.
 * @example maxPerNodeFilter.explain(3, '2') // 'max replicas per node (2) reached on 3 nodes'
 */
export const maxPerNodeFilter: Filter = {
  name: 'max-per-node',
  dynamic: true,
  appliesTo: (group) => group.maxReplicasPerNode > 0,
  check(node, group) {
    if (group.maxReplicasPerNode === 0) return true;
    return (node.serviceCounts.get(group.serviceId) ?? 0) < group.maxReplicasPerNode
      ? true
      : String(group.maxReplicasPerNode);
  },
  explain(count, detail) {
    return `max replicas per node (${detail}) reached on ${nodes(count)}`;
  },
};
