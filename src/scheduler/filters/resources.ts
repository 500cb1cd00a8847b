/** The group's reservations must fit in what is left on the node after the tasks already on it. */
import type { Filter } from './filter.js';
import { nodes } from './filter.js';

/**
 * Rejects nodes without room for one more task's reservations. Details: `cpu`, `memory`, `gpu`,
 * or `generic:<name>`, checked in that order.
 * @example resourcesFilter.explain(2, 'memory') // 'insufficient memory on 2 nodes'
 */
export const resourcesFilter: Filter = {
  name: 'resources',
  dynamic: true,
  appliesTo(group) {
    const r = group.reservations;
    return r.cpus > 0 || r.memoryBytes > 0 || r.gpus > 0 || r.generic.length > 0;
  },
  check(node, group) {
    const r = group.reservations;
    const total = node.view.resources;
    if (node.cpusUsed + r.cpus > total.cpus) return 'cpu';
    if (node.memoryUsed + r.memoryBytes > total.memoryBytes) return 'memory';
    if (r.gpus > node.freeGpus.length) return 'gpu';
    for (const [name, n] of r.generic) {
      if ((node.genericUsed.get(name) ?? 0) + n > (total.generic?.[name] ?? 0)) return `generic:${name}`;
    }
    return true;
  },
  explain(count, detail) {
    const what = detail === 'gpu' ? 'GPUs' : detail.startsWith('generic:') ? detail.slice('generic:'.length) : detail;
    return `insufficient ${what} on ${nodes(count)}`;
  },
};
