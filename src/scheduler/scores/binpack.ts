/**
 * Binpack: the fuller the node would be with the task, the better (Kubernetes' MostAllocated),
 * so a node is filled before the next one is touched and large holes stay free elsewhere.
 */
import type { Score } from './score.js';

/**
 * Mean over the node's resources with a capacity (CPU, memory, GPUs) of `(used + asked) / total`,
 * times 100. A node's unused GPUs lower its score, which keeps GPU nodes for GPU tasks.
 * Ties go to the node with more tasks, then to the lower rank.
 * @example binpackScore.score(halfFullNode, ctxOfATaskAskingNothing) // 50
 */
export const binpackScore: Score = {
  name: 'binpack',
  family: 'strategy',
  appliesTo: (group) => group.strategy === 'binpack',
  score(node, ctx) {
    const r = ctx.group.reservations;
    const total = node.view.resources;
    let sum = 0;
    let dims = 0;
    if (total.cpus > 0) {
      sum += Math.min(1, (node.cpusUsed + r.cpus) / total.cpus);
      dims += 1;
    }
    if (total.memoryBytes > 0) {
      sum += Math.min(1, (node.memoryUsed + r.memoryBytes) / total.memoryBytes);
      dims += 1;
    }
    const gpus = total.gpus?.length ?? 0;
    if (gpus > 0) {
      sum += Math.min(1, (gpus - node.freeGpus.length + r.gpus) / gpus);
      dims += 1;
    }
    return dims === 0 ? 0 : (100 * sum) / dims;
  },
};
