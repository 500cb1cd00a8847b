/**
 * Where a rebalancing move may go: the scheduler's own choice for one more task of a service,
 * on the cluster as placement sees it (the same filters: constraints, resources, ports,
 * max_replicas_per_node, availability), plus the moves already planned in this pass. Built lazily,
 * once per pass, and only when some service is uneven enough to ask.
 * @module
 */
import { type Constraint, firstUnmet, parseConstraints } from '../scheduler/constraints.js';
import { schedule } from '../scheduler/schedule.js';
import type { NodeView, PlacedTask } from '../scheduler/types.js';
import type { ServiceRecord } from '../state/workloads.js';
import {
  constraintsOf,
  hostPortsOf,
  nodeViews,
  placedTasks,
  requestBase,
  reservationsOf,
  toNodeView,
} from './placement.js';
import type { WorkloadNode, WorkloadState } from './workload-types.js';

export interface RebalanceTargets {
  /** Nodes a new task of `service` could go to: ready, active, taking workloads, meeting its constraints. */
  open(service: ServiceRecord): string[];
  /** The node the scheduler would choose for one more task of `service` now, if any fits. */
  pick(service: ServiceRecord): string | undefined;
  /** Count a task of `service` on `nodeId` from now on (a move planned, or under way but unplaced). */
  reserve(service: ServiceRecord, nodeId: string): void;
}

/**
 * The targets of one pass.
 * @example
 * const targets = rebalanceTargets(state, managers);
 * const nodeId = targets.pick(service); // where the scheduler would put one more task
 */
export function rebalanceTargets(state: WorkloadState, managers?: ReadonlySet<string>): RebalanceTargets {
  let ready: WorkloadNode[] | undefined;
  let snapshot: { nodes: NodeView[]; tasks: PlacedTask[] } | undefined;
  const view = (): { nodes: NodeView[]; tasks: PlacedTask[] } =>
    (snapshot ??= { nodes: nodeViews(state, managers), tasks: placedTasks(state) });
  let reserved = 0;
  return {
    open(service) {
      ready ??= Object.values(state.nodes).filter(
        (n) => n.status === 'ready' && n.availability === 'active' && n.roles.workloads,
      );
      let constraints: Constraint[];
      try {
        constraints = parseConstraints(constraintsOf(service.spec));
      } catch {
        return []; // its tasks wait with the parse error; nothing to move
      }
      return ready.filter((n) => firstUnmet(constraints, toNodeView(n, managers)) === undefined).map((n) => n.id);
    },
    pick(service) {
      const probe = { ...requestBase(service), id: `rebalance-probe-${service.id}` };
      return schedule(view(), [probe]).placements[0]?.nodeId;
    },
    reserve(service, nodeId) {
      view().tasks.push({
        id: `rebalance-${++reserved}`,
        serviceId: service.id,
        nodeId,
        reservations: reservationsOf(service.spec),
        ports: hostPortsOf(service.spec),
      });
    },
  };
}
