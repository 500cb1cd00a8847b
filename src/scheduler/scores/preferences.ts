/**
 * Placement preferences (Swarm's `spread=node.labels.zone`): balance the service's tasks over the
 * values of an attribute. Levels are hierarchical: the first preference counts twice the second.
 */
import type { Score } from './score.js';

/**
 * `sum over levels of share * 100 * (1 - tasksUnderThisValue / ctx.scale)`. Nodes missing the
 * label share the empty value, as in swarmkit. The pipeline evaluates this per value rather than
 * per node (`GroupContext.levelTerm`), because one placement changes it for a whole zone.
 * @example preferencesScore.score(nodeInAnEmptyZone, ctx) // 100
 */
export const preferencesScore: Score = {
  name: 'preferences',
  family: 'preferences',
  appliesTo: (group) => group.preferences.length > 0,
  score(node, ctx) {
    let total = 0;
    ctx.path(node).forEach((key, level) => {
      total += ctx.levelShares[level]! * ctx.levelScore(level, key);
    });
    return total;
  },
};
