/** Soft (preferred) affinity and anti-affinity to other services' tasks. */
import type { Score } from './score.js';

/**
 * `100 * (weight of satisfied preferred rules) / (weight of all preferred rules)`; an affinity
 * rule is satisfied on a node running a task of its service, an anti-affinity rule on one that
 * runs none. Required rules are the affinity filter's job.
 * @example affinityScore.score(nodeRunningDb, ctxPreferringDb) // 100
 */
export const affinityScore: Score = {
  name: 'affinity',
  family: 'affinity',
  appliesTo: (group) => group.affinity.some((r) => !r.required),
  score(node, ctx) {
    let met = 0;
    let all = 0;
    for (const rule of ctx.group.affinity) {
      if (rule.required) continue;
      const w = rule.weight ?? 1;
      const here = (node.serviceCounts.get(rule.service) ?? 0) > 0;
      all += w;
      if (here === (rule.type === 'affinity')) met += w;
    }
    return all === 0 ? 0 : (100 * met) / all;
  },
};
