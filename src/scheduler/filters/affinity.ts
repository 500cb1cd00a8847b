/**
 * Required affinity and anti-affinity to another service's tasks. As in Kubernetes, required
 * affinity of a service to itself is waived while the service has no task anywhere, so its
 * first task can land and the rest follow it.
 */
import type { Filter } from './filter.js';
import { nodes } from './filter.js';

/**
 * Rejects nodes without a task of a required-affinity service (detail `affinity:<service>`) or
 * with a task of a required-anti-affinity service (detail `anti-affinity:<service>`).
 * @example affinityFilter.explain(2, 'affinity:db') // 'no task of service db on 2 nodes (required affinity)'
 */
export const affinityFilter: Filter = {
  name: 'affinity',
  dynamic: true,
  appliesTo: (group) => group.affinity.some((r) => r.required),
  check(node, group, cluster) {
    for (const rule of group.affinity) {
      if (!rule.required) continue;
      const here = (node.serviceCounts.get(rule.service) ?? 0) > 0;
      if (rule.type === 'anti-affinity') {
        if (here) return `anti-affinity:${rule.service}`;
      } else if (!here && !(rule.service === group.serviceId && cluster.serviceTotal(rule.service) === 0)) {
        return `affinity:${rule.service}`;
      }
    }
    return true;
  },
  explain(count, detail) {
    const [type, ...rest] = detail.split(':');
    const service = rest.join(':');
    return type === 'anti-affinity'
      ? `task of service ${service} already on ${nodes(count)} (required anti-affinity)`
      : `no task of service ${service} on ${nodes(count)} (required affinity)`;
  },
};
