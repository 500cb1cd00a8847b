/** Spread (the default strategy): the fewer tasks of the service on a node, the better. */
import type { Score } from './score.js';

/**
 * `100 * (1 - tasksOfServiceOnNode / ctx.scale)`. Ties (equal counts) go to the node with fewer
 * tasks in total, then to the lower rank; see `compareCandidates` in the pipeline.
 * @example spreadScore.score(nodeWithOneTaskOfService, ctxWithScale4) // 75
 */
export const spreadScore: Score = {
  name: 'spread',
  family: 'strategy',
  appliesTo: (group) => group.strategy === 'spread',
  score(node, ctx) {
    return 100 * (1 - (node.serviceCounts.get(ctx.group.serviceId) ?? 0) / ctx.scale);
  },
};
