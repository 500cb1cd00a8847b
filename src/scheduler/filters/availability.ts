/** Only ready, active nodes take new tasks: down, paused and draining nodes are filtered out. */
import type { Filter } from './filter.js';
import { nodes } from './filter.js';

const WORDS: Record<string, string> = { down: 'down', drain: 'draining', pause: 'paused' };

/**
 * Rejects nodes that are `down` (detail `down`) or not `active` (detail `drain` or `pause`).
 * @example availabilityFilter.explain(2, 'drain') // '2 nodes draining'
 */
export const availabilityFilter: Filter = {
  name: 'availability',
  dynamic: false,
  appliesTo: () => true,
  check(node) {
    if (node.view.status !== 'ready') return 'down';
    return node.view.availability === 'active' ? true : node.view.availability;
  },
  explain(count, detail) {
    return `${nodes(count)} ${WORDS[detail] ?? detail}`;
  },
};
