/** Builders for scheduler tests: nodes, tasks, and a filter or score evaluated on one node. */
import {
  Accounting,
  DEFAULT_WEIGHTS,
  type Filter,
  GroupContext,
  groupTasks,
  type NodeView,
  type PlacedTask,
  type Score,
  type TaskGroup,
  type TaskRequest,
  type Verdict,
} from '../../src/scheduler/index.js';

export const GiB = 2 ** 30;

/** A ready, active worker with 4 cores and 8 GiB, no labels. */
export function node(id: string, over: Partial<NodeView> = {}): NodeView {
  return {
    id,
    hostname: `host-${id}`,
    role: 'worker',
    labels: {},
    availability: 'active',
    status: 'ready',
    resources: { cpus: 4000, memoryBytes: 8 * GiB },
    ...over,
  };
}

/** A task of service `web` asking nothing. */
export function task(id: string, over: Partial<TaskRequest> = {}): TaskRequest {
  return { id, serviceId: 'web', ...over };
}

/** `count` identical tasks `prefix-0`... */
export function tasks(count: number, prefix: string, over: Partial<TaskRequest> = {}): TaskRequest[] {
  return Array.from({ length: count }, (_, i) => task(`${prefix}-${i}`, over));
}

/** A task already running on a node. */
export function placed(id: string, nodeId: string, over: Partial<PlacedTask> = {}): PlacedTask {
  return { id, serviceId: 'web', nodeId, ...over };
}

export function groupOf(request: TaskRequest): TaskGroup {
  const group = groupTasks([request])[0]!;
  if (group.error !== undefined) throw new Error(group.error);
  return group;
}

/** Run one filter for `request` on the first node, with `running` tasks in the cluster. */
export function verdict(
  filter: Filter,
  view: NodeView,
  request: TaskRequest,
  running: PlacedTask[] = [],
  others: NodeView[] = [],
): Verdict {
  const cluster = new Accounting({ nodes: [view, ...others], tasks: running });
  return filter.check(cluster.get(view.id)!, groupOf(request), cluster);
}

/** Score `nodeId` for a group of `request` (plus `extra` identical tasks) in a cluster of `views`. */
export function scoreOf(
  score: Score,
  views: NodeView[],
  nodeId: string,
  request: TaskRequest,
  running: PlacedTask[] = [],
  extra = 0,
): number {
  const cluster = new Accounting({ nodes: views, tasks: running });
  const group = groupOf(request);
  for (let i = 0; i < extra; i++) group.taskIds.push(`${request.id}-extra-${i}`);
  const ctx = new GroupContext(group, cluster, cluster.nodes, DEFAULT_WEIGHTS);
  return score.score(cluster.get(nodeId)!, ctx);
}
