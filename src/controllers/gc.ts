/**
 * Task garbage collection: ended tasks are history (`shoal service ps` shows them, the back-off
 * reads them), but unbounded history would grow the state forever. Keep the newest few ended
 * tasks per slot (per node for global services) and remove the rest; remove every ended task of
 * a service that no longer exists.
 * @module
 */
import { tableOf } from '../state/indexed-state.js';
import { isTerminal, type TaskRecord } from '../state/workloads.js';
import { newestFirst } from './backoff.js';
import type { WorkloadState } from './workload-types.js';

/** Ended tasks kept per slot: enough for `service ps` and for the back-off streak. */
export const DEFAULT_TASK_HISTORY = 5;

export interface GcInput {
  readonly state: WorkloadState;
  /** Ended tasks kept per slot; default {@link DEFAULT_TASK_HISTORY}. */
  readonly history?: number;
  /**
   * Collect only the tasks of these services (a scoped pass: the services whose tasks ended or
   * whose record changed since the last pass); every task when absent.
   */
  readonly services?: ReadonlySet<string>;
}

/**
 * Ids of the tasks to remove (`task.remove`), sorted.
 * @example collectTasks({ state }) // ['t-old-1', 't-old-2']
 */
export function collectTasks(input: GcInput): string[] {
  const history = input.history ?? DEFAULT_TASK_HISTORY;
  if (!Number.isInteger(history) || history < 0)
    throw new RangeError(`Cannot keep ${history} ended tasks per slot: history must be an integer >= 0`);
  const remove: string[] = [];
  const slots = new Map<string, TaskRecord[]>();
  const table = tableOf(input.state.tasks);
  const tasks =
    input.services === undefined ? table.values() : [...input.services].flatMap((id) => [...table.ofService(id)]);
  for (const task of tasks) {
    // Job tasks are the job's history: they go with their job (job-gc.ts).
    if (!isTerminal(task.state) || task.job !== undefined) continue;
    const service = input.state.services[task.serviceId];
    if (service === undefined) {
      remove.push(task.id);
      continue;
    }
    // Global tasks: the node is the slot. The kind is part of the key, so a service that changed
    // kind does not mix its old replica history with its node history.
    const key = `${task.serviceId}\u0000${task.slot}\u0000${service.spec.kind === 'global' ? (task.nodeId ?? '') : ''}`;
    let list = slots.get(key);
    if (list === undefined) slots.set(key, (list = []));
    list.push(task);
  }
  for (const list of slots.values()) {
    if (list.length <= history) continue;
    for (const task of list.sort(newestFirst).slice(history)) remove.push(task.id);
  }
  return remove.sort();
}
