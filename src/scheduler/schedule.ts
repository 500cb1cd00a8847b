/**
 * `schedule()`: placement as a pure function of a cluster snapshot and the pending tasks.
 *
 * Groups of identical tasks go in order of priority, then of arrival, each through the placement
 * loop the cluster runs ({@link placeGroup}: filter once, candidate tree, best node, account,
 * re-score that node). When no node is left, the rest of the group is unplaced with the
 * pipeline's explanation. The leader does not call this: it runs the batch queue (`planQueue()`,
 * src/scheduler/queue), which orders, admits and preempts around the same loop.
 */
import { Accounting } from './accounting.js';
import { groupTasks } from './group.js';
import { nodeOrder } from './order.js';
import { GroupPipeline, type PipelineParts } from './pipeline.js';
import { placeGroup } from './place-group.js';
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
    const claim = { serviceId: group.serviceId, reservations: group.spec.reservations, ports: group.spec.ports };
    const placed = placeGroup(pipeline, claim);
    placed.forEach(({ node, gpus }, i) => {
      const taskId = group.taskIds[i]!;
      placements.push(gpus === undefined ? { taskId, nodeId: node.view.id } : { taskId, nodeId: node.view.id, gpus });
    });
    if (placed.length < group.taskIds.length) {
      const { reason, rejections } = pipeline.explain();
      for (const taskId of group.taskIds.slice(placed.length)) unplaced.push({ taskId, reason, rejections });
    }
  }
  return { placements, unplaced };
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
