/**
 * A brute-force scheduler for property tests: for every task it re-checks every node with the
 * pipeline and scans for the best total. No candidate tree, no incremental updates — what the
 * fast path must agree with.
 */
import {
  Accounting,
  DEFAULT_WEIGHTS,
  GroupPipeline,
  groupTasks,
  nodeOrder,
  type ClusterSnapshot,
  type NodeState,
  type Placement,
  type ScheduleOptions,
  type ScheduleResult,
  type TaskRequest,
  type Unplaced,
} from '../../src/scheduler/index.js';

export function referenceSchedule(
  snapshot: ClusterSnapshot,
  pending: readonly TaskRequest[],
  options: ScheduleOptions = {},
): ScheduleResult {
  const weights = { ...DEFAULT_WEIGHTS, ...options.weights };
  const cluster = new Accounting(snapshot, nodeOrder(snapshot.nodes, options.seed));
  const placements: Placement[] = [];
  const unplaced: Unplaced[] = [];
  for (const group of groupTasks(pending)) {
    if (group.error !== undefined) {
      for (const taskId of group.taskIds) unplaced.push({ taskId, reason: group.error, rejections: [] });
      continue;
    }
    const pipeline = new GroupPipeline(group, cluster, weights);
    for (let i = 0; i < group.taskIds.length; i++) {
      let best: NodeState | undefined;
      let bestScore = 0;
      for (const node of cluster.nodes) {
        if (pipeline.check(node) !== undefined) continue;
        const score = pipeline.total(node);
        if (best === undefined || pipeline.better(score, node, bestScore, best)) {
          best = node;
          bestScore = score;
        }
      }
      if (best === undefined) {
        const { reason, rejections } = pipeline.explain();
        for (const taskId of group.taskIds.slice(i)) unplaced.push({ taskId, reason, rejections });
        break;
      }
      const gpus = cluster.place(best, {
        serviceId: group.serviceId,
        reservations: group.spec.reservations,
        ports: group.spec.ports,
      });
      pipeline.ctx.onPlaced(best);
      const taskId = group.taskIds[i]!;
      placements.push(gpus === undefined ? { taskId, nodeId: best.view.id } : { taskId, nodeId: best.view.id, gpus });
    }
  }
  return { placements, unplaced };
}
