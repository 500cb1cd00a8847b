/** A published host port can be bound by one task per node. */
import type { Filter } from './filter.js';
import { nodes } from './filter.js';

/**
 * Rejects nodes where one of the group's host ports is taken; the detail is the port (`8080/tcp`).
 * @example portsFilter.explain(1, '8080/tcp') // 'host port 8080/tcp in use on 1 node'
 */
export const portsFilter: Filter = {
  name: 'ports',
  dynamic: true,
  appliesTo: (group) => group.portKeys.length > 0,
  check(node, group) {
    for (const key of group.portKeys) if (node.ports.has(key)) return key;
    return true;
  },
  explain(count, detail) {
    return `host port ${detail} in use on ${nodes(count)}`;
  },
};
