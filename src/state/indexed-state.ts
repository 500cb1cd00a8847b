/**
 * The state as apply keeps it: {@link ClusterState} with its tasks in a {@link TaskTable}, so a
 * commit that changes one task costs the same at a hundred tasks and at a hundred thousand, and
 * the indexes controllers read are kept by apply instead of rebuilt by every reader.
 *
 * The plain {@link ClusterState} (tasks as a record) stays the format of snapshots and of
 * `ClusterStateMachine.state()`: {@link plainState} builds it on demand, once per version.
 * @module
 */
import { deepFreeze, emptyState, type ClusterState } from './model.js';
import { TaskTable } from './task-table.js';
import type { TaskRecord } from './workloads.js';

/** The replicated state with its tasks indexed. Deeply frozen, never changed in place. */
export interface IndexedState extends Omit<ClusterState, 'tasks'> {
  readonly tasks: TaskTable;
}

/** A task map either way: a plain record (snapshots, tests) or a table. */
export type TaskMap = Readonly<Record<string, TaskRecord>> | TaskTable;

const plain = new WeakMap<IndexedState, ClusterState>();
/** Plain task records built from a table, so their index is the table's (see queries.ts). */
const sources = new WeakMap<object, TaskTable>();

/** The empty state, indexed. */
export function emptyIndexedState(): IndexedState {
  return indexState(emptyState());
}

/**
 * `state` with its tasks in a table (O(n): for a restore, or a state built by hand).
 * @example const state = indexState(decodeState(bytes).state);
 */
export function indexState(state: ClusterState | IndexedState): IndexedState {
  if (isIndexed(state)) return state;
  return deepFreeze({ ...state, tasks: TaskTable.from(Object.values(state.tasks)) });
}

export function isIndexed(state: ClusterState | IndexedState): state is IndexedState {
  return state.tasks instanceof TaskTable;
}

/**
 * `state` with its tasks as a plain record: built once per version (O(n)) and cached.
 * @example encodeState(plainState(machine.view()), index)
 */
export function plainState(state: IndexedState): ClusterState {
  let out = plain.get(state);
  if (out === undefined) {
    const tasks = Object.freeze(recordOf(state.tasks));
    sources.set(tasks, state.tasks);
    out = Object.freeze({ ...state, tasks });
    plain.set(state, out);
  }
  return out;
}

/** The table a plain task record was built from by {@link plainState}, if it was. */
export function sourceTable(tasks: object): TaskTable | undefined {
  return sources.get(tasks);
}

/** The tasks of `tasks` as a table (O(n) for a record that did not come from one). */
export function tableOf(tasks: TaskMap): TaskTable {
  if (tasks instanceof TaskTable) return tasks;
  return sourceTable(tasks) ?? TaskTable.from(Object.values(tasks));
}

function recordOf(table: TaskTable): Record<string, TaskRecord> {
  // Sorted keys: the record reads the same on every peer, whatever the table's hash order.
  const ids = table.ids().sort();
  const out: Record<string, TaskRecord> = {};
  for (const id of ids) out[id] = table.get(id)!;
  return out;
}
