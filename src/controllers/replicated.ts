/**
 * The replicated orchestrator: keep `replicas` tasks of each replicated service, one per slot.
 *
 * Per service, every pass:
 * - slots 1..replicas each get exactly one live task; a slot with none gets a new task (new id,
 *   same slot), after the back-off when its last task ended on its own (see backoff.ts);
 * - tasks of slots above `replicas` are stopped (scale down), highest slots first;
 * - tasks on `down` nodes were made `orphaned` by `node.setStatus` and are replaced at once;
 *   tasks on `drain` nodes (or gone nodes, or nodes that take no workloads) are stopped and
 *   replaced; tasks on `pause` nodes stay (the scheduler places nothing new there);
 * - a changed service version is rolled out by the rollout controller (rollout/plan.ts);
 * - a settled service whose tasks are uneven across nodes is rebalanced (rebalance.ts).
 *
 * Pure: the same state, `now` and id sequence give the same plan.
 * @module
 */
import { tableOf } from '../state/indexed-state.js';
import { sortedById } from '../state/queries.js';
import type { TaskGroup, TaskTable } from '../state/task-table.js';
import type { ServiceRecord, TaskRecord } from '../state/workloads.js';
import { type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
import { currentVersions } from '../state/rollout.js';
import { canarySlots } from './rollout/canary.js';
import { planRollout } from './rollout/plan.js';
import { DEFAULT_REBALANCE_MOVES, planRebalance } from './rebalance.js';
import { rebalanceTargets, type RebalanceTargets } from './rebalance-targets.js';
import { isLive, planSlot, type SlotDecision, type SlotInput, type UpdateSlot } from './slots.js';
import type { IdGenerator, NewTask, OrchestratorPlan, WorkloadNode, WorkloadState } from './workload-types.js';

export interface ReplicatedInput {
  readonly state: WorkloadState;
  readonly now: number;
  readonly newId: IdGenerator;
  readonly backoff?: BackoffOptions;
  /** Plan only these services (a scoped pass); every service when absent. */
  readonly services?: ReadonlySet<string>;
  /**
   * In a scoped pass, services planned only at these slots (see scope.ts: their slots are
   * independent, no rolling update is under way).
   */
  readonly slots?: ReadonlyMap<string, ReadonlySet<number>>;
  /** Rebalancing moves started in this pass at most (default {@link DEFAULT_REBALANCE_MOVES}; 0: none). */
  readonly maxMoves?: number;
  /** Node ids that count as `node.role==manager` (rebalancing asks the scheduler where to move). */
  readonly managers?: ReadonlySet<string>;
}

/** What rebalancing shares across the services of one pass. */
interface PassMoves {
  readonly targets: RebalanceTargets;
  readonly budget: { left: number };
}

/** Whether a replicated task may stay on its node: the node is up, not drained, and takes workloads. */
export function keepsReplicated(node: WorkloadNode | undefined): boolean {
  return node !== undefined && node.status === 'ready' && node.availability !== 'drain' && node.roles.workloads;
}

/**
 * The services of `kind` in id order (the order of the plan must not depend on map insertion),
 * only those in `only` when it is given.
 */
export function sortedServices(
  state: WorkloadState,
  kind: 'replicated' | 'global',
  only?: ReadonlySet<string>,
): ServiceRecord[] {
  const ids =
    only === undefined ? Object.keys(state.services) : [...only].filter((id) => Object.hasOwn(state.services, id));
  return ids
    .sort()
    .map((id) => state.services[id]!)
    .filter((s) => s.spec.kind === kind);
}

/**
 * Plan every replicated service.
 * @example
 * const { shutdown, create } = reconcileReplicated({ state, now, newId: () => randomId() });
 */
export function reconcileReplicated(input: ReplicatedInput): OrchestratorPlan {
  const plan: OrchestratorPlan = { shutdown: [], create: [], rollouts: [], wakes: [] };
  const tasks = tableOf(input.state.tasks);
  const slots = input.services === undefined ? undefined : input.slots;
  const only = slots === undefined ? input.services : new Set([...(input.services ?? []), ...slots.keys()]);
  const moves: PassMoves = {
    targets: rebalanceTargets(input.state, input.managers),
    budget: { left: input.maxMoves ?? DEFAULT_REBALANCE_MOVES },
  };
  for (const service of sortedServices(input.state, 'replicated', only)) {
    const some = input.services?.has(service.id) ? undefined : slots?.get(service.id);
    if (some === undefined) planService(service, tasks.ofService(service.id), input, plan, moves);
    else planSlots(service, some, tasks, input, plan);
  }
  return plan;
}

/** What {@link planService} decides for these slots, when nothing ties them to the others. */
function planSlots(
  service: ServiceRecord,
  slots: ReadonlySet<number>,
  tasks: TaskTable,
  input: ReplicatedInput,
  plan: OrchestratorPlan,
): void {
  const sorted = [...slots].sort((a, b) => a - b);
  for (const slot of sorted.filter((s) => s < 1 || s > service.replicas).reverse())
    for (const t of sortedById(tasks.ofSlot(service.id, slot)).filter(isLive)) plan.shutdown.push(t.id);
  for (const slot of sorted.filter((s) => s >= 1 && s <= service.replicas)) {
    const decision = planSlot(slotInput(service, slot, [...tasks.ofSlot(service.id, slot)], input));
    for (const t of decision.shutdown) plan.shutdown.push(t.id);
    if (decision.create) plan.create.push(newTask(service, slot, input.newId));
  }
}

function slotInput(
  service: ServiceRecord,
  slot: number,
  tasks: readonly TaskRecord[],
  input: ReplicatedInput,
): SlotInput {
  const versions = currentVersions(service);
  return {
    canary: slot <= canarySlots(service),
    current: (t) => versions.has(t.serviceVersion),
    tasks,
    service,
    nodes: input.state.nodes,
    now: input.now,
    backoff: input.backoff ?? DEFAULT_BACKOFF,
    keepOn: keepsReplicated,
    mayCreate: true,
  };
}

function planService(
  service: ServiceRecord,
  tasks: TaskGroup,
  input: ReplicatedInput,
  plan: OrchestratorPlan,
  moves: PassMoves,
): void {
  const bySlot = new Map<number, TaskRecord[]>();
  for (const t of tasks) {
    let list = bySlot.get(t.slot);
    if (list === undefined) bySlot.set(t.slot, (list = []));
    list.push(t);
  }

  // Scale down (and tasks of a slot 0 left from a global past): highest slots first.
  const surplus = [...bySlot.keys()].filter((s) => s < 1 || s > service.replicas).sort((a, b) => b - a);
  for (const slot of surplus) {
    for (const t of bySlot
      .get(slot)!
      .filter(isLive)
      .sort((a, b) => (a.id < b.id ? -1 : 1)))
      plan.shutdown.push(t.id);
  }

  const decisions: UpdateSlot<number>[] = [];
  const canaries = canarySlots(service);
  for (let slot = 1; slot <= service.replicas; slot++) {
    const decision: SlotDecision = planSlot(slotInput(service, slot, bySlot.get(slot) ?? [], input));
    for (const t of decision.shutdown) plan.shutdown.push(t.id);
    if (decision.create) plan.create.push(newTask(service, slot, input.newId));
    decisions.push({ key: slot, decision, ...(slot <= canaries ? { canary: true } : {}) });
  }

  const versions = currentVersions(service);
  const current = (t: TaskRecord): boolean => versions.has(t.serviceVersion);
  const update = planRollout({ service, slots: decisions, tasks, current, now: input.now });
  for (const t of update.shutdown) plan.shutdown.push(t.id);
  for (const slot of update.create) plan.create.push(newTask(service, slot, input.newId));
  if (update.command !== null) plan.rollouts.push(update.command);
  if (update.wakeAt !== null) plan.wakes.push(update.wakeAt);
  if (update.command !== null || update.create.length > 0 || update.shutdown.length > 0) return;

  const rebalance = planRebalance({
    service,
    slots: decisions,
    slotTasks: (slot) => bySlot.get(slot) ?? [],
    ...moves,
  });
  for (const t of rebalance.shutdown) plan.shutdown.push(t.id);
  for (const { slot, nodeId } of rebalance.create) plan.create.push({ ...newTask(service, slot, input.newId), nodeId });
}

function newTask(service: ServiceRecord, slot: number, newId: IdGenerator): NewTask {
  return { id: newId(), serviceId: service.id, slot, serviceVersion: service.version };
}
