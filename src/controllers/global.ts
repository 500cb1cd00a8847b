/**
 * The global orchestrator: one task per eligible node, for every global service.
 *
 * A node is eligible when it is up (`ready`), takes workloads, is not drained and satisfies the
 * service's placement constraints; it gets a *new* task only when it is also `active` (a paused
 * node keeps what it runs). Nodes that join later are eligible like any other. Tasks on nodes
 * that stop being eligible are shut down; a node that goes down has its tasks orphaned by
 * `node.setStatus` and gets a fresh one (new id) when it is ready again.
 *
 * Tasks are created pinned (`task.create` with `nodeId`) and then assigned by the placement step
 * like every other pending task, with a `node.id==<node>` constraint, rather than assigned
 * directly here: the scheduler is what accounts for resources, host ports and GPU devices (and
 * picks the GPU ids), so a global task that does not fit on its node stays pending with the
 * scheduler's reason instead of overbooking the node, and every assignment of a pass is one batch.
 *
 * The slot of a global task is 0; the node is its slot for the back-off and the rolling update.
 * @module
 */
import { type Constraint, firstUnmet, parseConstraints } from '../scheduler/constraints.js';
import { tableOf } from '../state/indexed-state.js';
import type { TaskGroup } from '../state/task-table.js';
import type { ServiceRecord, TaskRecord } from '../state/workloads.js';
import { type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
import { constraintsOf, toNodeView } from './placement.js';
import { keepsReplicated, sortedServices } from './replicated.js';
import { currentVersions } from '../state/rollout.js';
import { planRollout } from './rollout/plan.js';
import { isLive, planSlot, type UpdateSlot } from './slots.js';
import type { IdGenerator, OrchestratorPlan, WorkloadNode, WorkloadState } from './workload-types.js';

export interface GlobalInput {
  readonly state: WorkloadState;
  readonly now: number;
  readonly newId: IdGenerator;
  readonly backoff?: BackoffOptions;
  /** Node ids that count as `node.role==manager` in constraints. */
  readonly managers?: ReadonlySet<string>;
  /** Plan only these services (a scoped pass); every service when absent. */
  readonly services?: ReadonlySet<string>;
}

/**
 * A predicate for "this node satisfies the service's constraints". Constraints that do not parse
 * match every node: the tasks are then created and stay pending with the scheduler's parse error
 * as their message, which is where a person looks.
 */
export function constraintMatcher(
  service: ServiceRecord,
  managers?: ReadonlySet<string>,
): (node: WorkloadNode) => boolean {
  let constraints: Constraint[];
  try {
    constraints = parseConstraints(constraintsOf(service.spec));
  } catch {
    return () => true;
  }
  return (node) => firstUnmet(constraints, toNodeView(node, managers)) === undefined;
}

/**
 * Plan every global service.
 * @example
 * const { shutdown, create } = reconcileGlobal({ state, now, newId });
 */
export function reconcileGlobal(input: GlobalInput): OrchestratorPlan {
  const plan: OrchestratorPlan = { shutdown: [], create: [], rollouts: [], wakes: [] };
  const tasks = tableOf(input.state.tasks);
  const nodeIds = Object.keys(input.state.nodes).sort();
  for (const service of sortedServices(input.state, 'global', input.services)) {
    planService(service, tasks.ofService(service.id), nodeIds, input, plan);
  }
  return plan;
}

function planService(
  service: ServiceRecord,
  tasks: TaskGroup,
  nodeIds: readonly string[],
  input: GlobalInput,
  plan: OrchestratorPlan,
): void {
  const matches = constraintMatcher(service, input.managers);
  const versions = currentVersions(service);
  const current = (t: TaskRecord): boolean => versions.has(t.serviceVersion);
  const eligible = (node: WorkloadNode | undefined): boolean =>
    node !== undefined && keepsReplicated(node) && matches(node);

  const byNode = new Map<string, TaskRecord[]>();
  for (const t of tasks) {
    // A global task always has its node; one without (a kind change of the service) or with a
    // replica slot is not this orchestrator's shape: stop it.
    if (t.nodeId === null || t.slot !== 0) {
      if (isLive(t)) plan.shutdown.push(t.id);
      continue;
    }
    let list = byNode.get(t.nodeId);
    if (list === undefined) byNode.set(t.nodeId, (list = []));
    list.push(t);
  }

  // Nodes that are gone from the state: their live tasks are stopped (keepOn fails for them).
  const keys = [...new Set([...nodeIds, ...byNode.keys()])].sort();
  const decisions: UpdateSlot<string>[] = [];
  for (const nodeId of keys) {
    const node = input.state.nodes[nodeId];
    const decision = planSlot({
      tasks: byNode.get(nodeId) ?? [],
      service,
      nodes: input.state.nodes,
      now: input.now,
      backoff: input.backoff ?? DEFAULT_BACKOFF,
      keepOn: eligible,
      mayCreate: eligible(node) && node!.availability === 'active',
      current,
    });
    for (const t of decision.shutdown) plan.shutdown.push(t.id);
    if (decision.create) plan.create.push(newTask(service, nodeId, input.newId));
    // A paused node keeps its old version: an update there could not place the new task.
    if (node?.availability !== 'pause') decisions.push({ key: nodeId, decision });
  }

  const update = planRollout({ service, slots: decisions, tasks, current, now: input.now });
  for (const t of update.shutdown) plan.shutdown.push(t.id);
  for (const nodeId of update.create) plan.create.push(newTask(service, nodeId, input.newId));
  if (update.command !== null) plan.rollouts.push(update.command);
  if (update.wakeAt !== null) plan.wakes.push(update.wakeAt);
}

function newTask(service: ServiceRecord, nodeId: string, newId: IdGenerator) {
  return { id: newId(), serviceId: service.id, slot: 0, serviceVersion: service.version, nodeId };
}
