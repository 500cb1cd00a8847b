/**
 * From the replicated state to a runtime's desired state: the tasks assigned to one node, joined
 * with their services. The agent calls this on every state change and hands the result to
 * `NodeRuntime.setAssignments`.
 *
 * @module
 */
import type { TaskMap } from '../state/indexed-state.js';
import { taskIndex } from '../state/queries.js';
import type { ServiceRecord, TaskRecord } from '../state/workloads.js';
import type { RuntimeAssignment } from './types.js';

/**
 * The parts of the cluster state this needs (structural, so any state with these fields fits):
 * `ClusterStateMachine.view()` (tasks in a table, O(1)) or `state()` (a plain record).
 */
export interface WorkloadView {
  readonly tasks: TaskMap;
  readonly services: Readonly<Record<string, ServiceRecord>>;
}

/**
 * Every task whose `nodeId` is this node, terminal ones included (their containers stay until the
 * task is garbage-collected, so their logs can be read), sorted by task id. A task whose service
 * record is gone gets `service: null` and is shut down.
 *
 * With the tasks in a table this reads the table's node index: O(this node's tasks), whatever
 * the number of tasks in the cluster (and the sorted list is reused while the node's tasks are
 * unchanged). A plain record is indexed once per version: O(all tasks).
 *
 * A task of an older `serviceVersion` (a rollout paused, or waiting on its canaries) gets the
 * spec of its own version from the service's history, so a container recreated for it runs what
 * it ran before; the current spec when that version has left the history (the last 10 are kept).
 *
 * @example
 * ```ts
 * runtime.setAssignments(assignmentsFor(nodeId, state));
 * ```
 */
export function assignmentsFor(nodeId: string, state: WorkloadView): RuntimeAssignment[] {
  const out: RuntimeAssignment[] = [];
  // A table's node group, sorted once per group version; a record's index, once per record.
  for (const task of taskIndex(state.tasks).byNode.get(nodeId) ?? []) {
    if (task.nodeId !== nodeId) continue;
    const s = state.services[task.serviceId];
    const cached = built.get(task);
    if (cached && cached.service === s) {
      out.push(cached.assignment);
      continue;
    }
    const own = s === undefined || task.serviceVersion === s.version ? undefined : versionOf(s, task.serviceVersion);
    const assignment: RuntimeAssignment = {
      task,
      service: s
        ? { id: s.id, stack: s.stack, name: s.name, version: own?.version ?? s.version, spec: own?.spec ?? s.spec }
        : null,
    };
    built.set(task, { service: s, assignment });
    out.push(assignment);
  }
  return out;
}

/**
 * Assignments already built, by task record: records are replaced, never changed, so an
 * unchanged task with an unchanged service keeps its assignment object (and the runtime can tell
 * at a glance that nothing of it changed).
 */
const built = new WeakMap<TaskRecord, { service: ServiceRecord | undefined; assignment: RuntimeAssignment }>();

/** The history entry of `version` of `service`, if it is still kept. */
function versionOf(
  service: ServiceRecord,
  version: number,
): { version: number; spec: ServiceRecord['spec'] } | undefined {
  return service.history?.find((e) => e.version === version);
}
