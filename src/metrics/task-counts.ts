/**
 * Task counts kept up to date by comparing each task table with the one counted before: the
 * tables share every unchanged subtree, so a scrape costs what changed since the last one, not
 * the number of tasks (the first scrape counts them all once).
 * @module
 */
import type { TaskTable } from '../state/task-table.js';
import { isTerminal, type TaskRecord, type TaskState } from '../state/workloads.js';

/** Replica counts of one service. */
export interface ServiceCounts {
  /** Wanted running and not ended (what a global service's desired count is). */
  live: number;
  /** Up: starting or running. */
  running: number;
  /** Running and past its healthcheck (the `running` state). */
  healthy: number;
}

/**
 * Counts of tasks by state and per service.
 * @example
 * const counts = new TaskCounts();
 * counts.update(machine.view().tasks); // O(changes since the last update)
 * counts.byState.get('running');
 */
export class TaskCounts {
  readonly byState = new Map<TaskState, number>();
  readonly byService = new Map<string, ServiceCounts>();
  #table: TaskTable | null = null;

  update(table: TaskTable): void {
    const last = this.#table;
    if (last === table) return;
    if (last === null) for (const task of table.values()) this.#count(task, 1);
    else
      last.diff(table, (_id, was, is) => {
        if (was !== undefined) this.#count(was, -1);
        if (is !== undefined) this.#count(is, 1);
      });
    this.#table = table;
  }

  #count(task: TaskRecord, delta: number): void {
    const n = (this.byState.get(task.state) ?? 0) + delta;
    if (n === 0) this.byState.delete(task.state);
    else this.byState.set(task.state, n);
    const live = task.desiredState === 'running' && !isTerminal(task.state);
    const up = task.state === 'running' || task.state === 'starting';
    if (!live && !up) return;
    let service = this.byService.get(task.serviceId);
    if (service === undefined) this.byService.set(task.serviceId, (service = { live: 0, running: 0, healthy: 0 }));
    if (live) service.live += delta;
    if (up) service.running += delta;
    if (task.state === 'running') service.healthy += delta;
    if (service.live === 0 && service.running === 0) this.byService.delete(task.serviceId);
  }
}
