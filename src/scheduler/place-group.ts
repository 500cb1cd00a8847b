/**
 * `placeGroup()`: the one placement loop. Every path that puts tasks on nodes runs it: `schedule()`,
 * and the batch queue that the leader's placement controller runs (`planQueue()`: its runs, gangs,
 * backfill probes and the preemptor's "fits once what is stopping has stopped" check).
 *
 * For a group of identical tasks the pipeline has filtered the nodes once; the survivors go into a
 * {@link CandidateTree}, each task takes the best node, the accounting records it (so a batch
 * never overbooks) and only that node is re-scored. One task skips the tree: a single scan of the
 * eligible nodes is cheaper than building it.
 *
 * Why a shared loop rather than `schedule()` as a wrapper over the queue: the two callers differ
 * in everything around the loop, not in it. `schedule()` groups requests by spec and explains
 * what is left; the queue orders by priority, fair share and age, keeps several views of the
 * cluster, rolls tentative placements back and decides why a task waits. Running `schedule()`
 * through the queue would add that machinery (and its costs, see bench/scheduler.ts) to the pure
 * scheduler and its property tests; the queue cannot run through `schedule()` either, as it needs
 * its own accounting. So the loop lives here, on the scheduler's own types (no queue types), and
 * both sides call it: the property tests of `schedule()` against the brute-force reference now
 * check the loop the cluster runs.
 */
import type { Claim, NodeState } from './accounting.js';
import type { GroupPipeline } from './pipeline.js';
import { CandidateTree } from './tree.js';

/** A task of the group put on a node, with the devices it got. */
export interface Placed {
  readonly node: NodeState;
  readonly gpus: string[] | undefined;
}

/**
 * Place the tasks of the pipeline's group (`pipeline.group.taskIds`, in order), best node first,
 * each taking `claim`, until every one has a node or no node fits. Records each placement on
 * `pipeline.cluster`. Returns one {@link Placed} per task placed, in task order: fewer than the
 * group's tasks when nodes ran out (`pipeline.explain()` then says why).
 *
 * @example
 * ```ts
 * const pipeline = new GroupPipeline(group, cluster, weights);
 * const placed = placeGroup(pipeline, { serviceId: group.serviceId, reservations: group.spec.reservations });
 * // placed[i].node is where group.taskIds[i] goes; placed.length < group.taskIds.length: no room for the rest
 * ```
 */
export function placeGroup(pipeline: GroupPipeline, claim: Claim): Placed[] {
  const { group, cluster } = pipeline;
  const count = group.taskIds.length;
  if (group.error !== undefined || count === 0) return [];
  if (count === 1) {
    const best = bestNode(pipeline);
    return best === undefined ? [] : [{ node: best, gpus: cluster.place(best, claim) }];
  }
  const placed: Placed[] = [];
  let tree = new CandidateTree(pipeline, pipeline.eligible);
  // Required affinity of a service to itself is waived until its first task exists (see the
  // affinity filter); after that first task every other node may have stopped fitting.
  const waiverEnds =
    group.affinity.some((r) => r.required && r.type === 'affinity' && r.service === group.serviceId) &&
    cluster.serviceTotal(group.serviceId) === 0;
  for (let i = 0; i < count; i++) {
    const node = tree.best();
    if (node === undefined) break;
    placed.push({ node, gpus: cluster.place(node, claim) });
    pipeline.ctx.onPlaced(node);
    if (waiverEnds && i === 0) {
      tree = new CandidateTree(
        pipeline,
        cluster.nodes.filter((n) => pipeline.check(n) === undefined),
      );
    } else {
      tree.placed(node);
    }
  }
  return placed;
}

/** The best eligible node by a single scan, or undefined when none is eligible. */
function bestNode(pipeline: GroupPipeline): NodeState | undefined {
  let best: NodeState | undefined;
  let bestScore = 0;
  for (const node of pipeline.eligible) {
    const score = pipeline.total(node);
    if (best === undefined || pipeline.better(score, node, bestScore, best)) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}
