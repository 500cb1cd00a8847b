/** The group's Swarm constraints must all hold on the node. */
import { firstUnmet } from '../constraints.js';
import type { Filter } from './filter.js';
import { nodes } from './filter.js';

/**
 * Rejects nodes where a constraint does not hold; the detail is the first unmet constraint's text.
 * @example constraintFilter.explain(3, 'node.labels.zone==eu') // 'constraint node.labels.zone==eu not met on 3 nodes'
 */
export const constraintFilter: Filter = {
  name: 'constraints',
  dynamic: false,
  appliesTo: (group) => group.constraints.length > 0,
  check(node, group) {
    return firstUnmet(group.constraints, node.view)?.text ?? true;
  },
  explain(count, detail) {
    return `constraint ${detail} not met on ${nodes(count)}`;
  },
};
