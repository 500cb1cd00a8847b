/**
 * Read queries over the workload part of a state: sorted lists and lookups by service, node and
 * stack. The by-service and by-node indexes are derived, not replicated: built on first use for
 * a given task map and cached against that map's identity (a WeakMap), so every state version
 * is indexed at most once however often it is read, and dropped with it.
 * @module
 */
import type { ClusterState } from './model.js';
import type { ServiceRecord, StackRecord, TaskRecord } from './workloads.js';

/** Tasks sorted by id, and grouped by service and by node (each group sorted by id). */
export interface TaskIndex {
  readonly all: readonly TaskRecord[];
  readonly byService: ReadonlyMap<string, readonly TaskRecord[]>;
  /** Tasks with a node: assigned ones, and pending ones pinned to a node (global services). */
  readonly byNode: ReadonlyMap<string, readonly TaskRecord[]>;
}

const EMPTY: readonly TaskRecord[] = Object.freeze([]);
const taskIndexes = new WeakMap<object, TaskIndex>();

/**
 * The index of `tasks`, built once per task map.
 * @example taskIndex(state.tasks).byNode.get(nodeId) ?? []
 */
export function taskIndex(tasks: Readonly<Record<string, TaskRecord>>): TaskIndex {
  let index = taskIndexes.get(tasks);
  if (index === undefined) {
    index = buildTaskIndex(tasks);
    taskIndexes.set(tasks, index);
  }
  return index;
}

function buildTaskIndex(tasks: Readonly<Record<string, TaskRecord>>): TaskIndex {
  // Sorted once: the groups then come out sorted without sorting each.
  const all = Object.keys(tasks)
    .sort()
    .map((id) => tasks[id]!);
  const byService = new Map<string, TaskRecord[]>();
  const byNode = new Map<string, TaskRecord[]>();
  for (const task of all) {
    push(byService, task.serviceId, task);
    if (task.nodeId !== null) push(byNode, task.nodeId, task);
  }
  for (const group of byService.values()) Object.freeze(group);
  for (const group of byNode.values()) Object.freeze(group);
  return { all: Object.freeze(all), byService, byNode };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const group = map.get(key);
  if (group === undefined) map.set(key, [value]);
  else group.push(value);
}

function lookup<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Stacks sorted by name. */
export function listStacks(state: ClusterState): StackRecord[] {
  return Object.keys(state.stacks)
    .sort()
    .map((name) => state.stacks[name]!);
}

export function findStack(state: ClusterState, name: string): StackRecord | undefined {
  return lookup(state.stacks, name);
}

/** Services sorted by id. */
export function listServices(state: ClusterState): ServiceRecord[] {
  return Object.keys(state.services)
    .sort()
    .map((id) => state.services[id]!);
}

export function findService(state: ClusterState, id: string): ServiceRecord | undefined {
  return lookup(state.services, id);
}

/** The services of stack `name` sorted by id; empty for an unknown stack. */
export function listServicesOfStack(state: ClusterState, name: string): ServiceRecord[] {
  const stack = lookup(state.stacks, name);
  return stack === undefined ? [] : stack.services.map((id) => state.services[id]!);
}

/** All tasks sorted by id (a frozen, cached list). */
export function listTasks(state: ClusterState): readonly TaskRecord[] {
  return taskIndex(state.tasks).all;
}

export function findTask(state: ClusterState, id: string): TaskRecord | undefined {
  return lookup(state.tasks, id);
}

/** The tasks of service `id` (including those of a removed service, until collected), sorted by id. */
export function listTasksOfService(state: ClusterState, id: string): readonly TaskRecord[] {
  return taskIndex(state.tasks).byService.get(id) ?? EMPTY;
}

/** The tasks whose node is `nodeId`, whatever their state, sorted by id. */
export function listTasksOnNode(state: ClusterState, nodeId: string): readonly TaskRecord[] {
  return taskIndex(state.tasks).byNode.get(nodeId) ?? EMPTY;
}
