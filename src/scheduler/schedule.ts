/**
 * `schedule()`: placement as a pure function of a cluster snapshot and the pending tasks.
 *
 * Groups of identical tasks go in order of priority, then of arrival. For each group the nodes
 * are filtered once, the survivors go into a {@link CandidateTree}, and each task takes the best
 * node; the accounting records it (so a batch never overbooks) and only that node is re-scored.
 * When no node is left, the rest of the group is unplaced with the pipeline's explanation.
 */
import { Accounting, type Claim, type NodeState } from './accounting.js';
import { groupTasks, type TaskGroup } from './group.js';
import { nodeOrder } from './order.js';
import { GroupPipeline, type PipelineParts } from './pipeline.js';
import { CandidateTree } from './tree.js';
import {
  type ClusterSnapshot,
  DEFAULT_WEIGHTS,
  type Placement,
  type ScheduleOptions,
  type ScheduleResult,
  type ScoreWeights,
  type TaskRequest,
  type Unplaced,
} from './types.js';

/** {@link ScheduleOptions} plus the filters and scores to use (tests swap them). */
export interface ScheduleInternals extends ScheduleOptions, PipelineParts {}

/**
 * Decide a node for each pending task. Pure and deterministic: the same inputs (and seed) give the
 * same result on every peer; the snapshot is not modified.
 *
 * @example
 * ```ts
 * const { placements, unplaced } = schedule(
 *   { nodes, tasks: running },
 *   [{ id: 't1', serviceId: 'web', reservations: { memoryBytes: 256 * 2 ** 20 }, constraints: ['node.role==worker'] }],
 * );
 * // placements: [{ taskId: 't1', nodeId: 'n2' }]
 * // or unplaced: [{ taskId: 't1', reason: 'no suitable node (insufficient memory on 2 nodes; 1 node draining)', ... }]
 * ```
 */
export function schedule(
  snapshot: ClusterSnapshot,
  pending: readonly TaskRequest[],
  options: ScheduleInternals = {},
): ScheduleResult {
  const weights = resolveWeights(options.weights);
  const cluster = new Accounting(snapshot, nodeOrder(snapshot.nodes, options.seed));
  const placements: Placement[] = [];
  const unplaced: Unplaced[] = [];

  for (const group of groupTasks(pending)) {
    if (group.error !== undefined) {
      for (const taskId of group.taskIds) unplaced.push({ taskId, reason: group.error, rejections: [] });
      continue;
    }
    const pipeline = new GroupPipeline(group, cluster, weights, options);
    if (group.taskIds.length === 1) {
      // One task: a single pass over the eligible nodes beats building the tree.
      placeOne(pipeline, group.taskIds[0]!, placements, unplaced);
      continue;
    }
    let tree = new CandidateTree(pipeline, pipeline.eligible);
    // Required affinity of a service to itself is waived until its first task exists (see the
    // affinity filter); after that first task every other node may have stopped fitting.
    const waiverEnds =
      group.affinity.some((r) => r.required && r.type === 'affinity' && r.service === group.serviceId) &&
      cluster.serviceTotal(group.serviceId) === 0;
    const claim = claimOf(group);

    for (let i = 0; i < group.taskIds.length; i++) {
      const taskId = group.taskIds[i]!;
      const node = tree.best();
      if (node === undefined) {
        const { reason, rejections } = pipeline.explain();
        for (const rest of group.taskIds.slice(i)) unplaced.push({ taskId: rest, reason, rejections });
        break;
      }
      const gpus = cluster.place(node, claim);
      pipeline.ctx.onPlaced(node);
      placements.push(gpus === undefined ? { taskId, nodeId: node.view.id } : { taskId, nodeId: node.view.id, gpus });
      if (waiverEnds && i === 0) {
        tree = new CandidateTree(
          pipeline,
          cluster.nodes.filter((n) => pipeline.check(n) === undefined),
        );
      } else {
        tree.placed(node);
      }
    }
  }
  return { placements, unplaced };
}

/** What each task of the group takes from its node. */
function claimOf(group: TaskGroup): Claim {
  return { serviceId: group.serviceId, reservations: group.spec.reservations, ports: group.spec.ports };
}

/** Place a group of one task by a single scan of the eligible nodes. */
function placeOne(pipeline: GroupPipeline, taskId: string, placements: Placement[], unplaced: Unplaced[]): void {
  let best: NodeState | undefined;
  let bestScore = 0;
  for (const node of pipeline.eligible) {
    const score = pipeline.total(node);
    if (best === undefined || pipeline.better(score, node, bestScore, best)) {
      best = node;
      bestScore = score;
    }
  }
  if (best === undefined) {
    unplaced.push({ taskId, ...pipeline.explain() });
    return;
  }
  const gpus = pipeline.cluster.place(best, claimOf(pipeline.group));
  placements.push(gpus === undefined ? { taskId, nodeId: best.view.id } : { taskId, nodeId: best.view.id, gpus });
}

/** Defaults filled in; weights must be finite and >= 0. */
export function resolveWeights(weights: Partial<ScoreWeights> | undefined): ScoreWeights {
  const merged = { ...DEFAULT_WEIGHTS, ...weights };
  for (const [name, w] of Object.entries(merged)) {
    if (!Number.isFinite(w) || w < 0)
      throw new RangeError(`Cannot use score weight ${name}=${String(w)}: weights must be finite numbers >= 0`);
  }
  return merged;
}
