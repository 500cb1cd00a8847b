/**
 * Read queries over the workload part of a state: sorted lists and lookups by service, node and
 * stack. A task table (see task-table.ts) keeps its indexes as it changes, and its sorted lists
 * are built per group on first read; a plain task record (a state built by hand) is indexed on
 * first use and cached against that record's identity (a WeakMap), so every version is indexed
 * at most once however often it is read, and dropped with it.
 * @module
 */
import { sourceTable, type IndexedState, type TaskMap } from './indexed-state.js';
import type { ClusterState } from './model.js';
import { TaskTable, type TaskGroup } from './task-table.js';
import type { ServiceRecord, StackRecord, TaskRecord } from './workloads.js';

/** Either form of the state: the queries read what both have. */
type AnyState = ClusterState | IndexedState;

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
export function taskIndex(tasks: TaskMap): TaskIndex {
  let index = taskIndexes.get(tasks);
  if (index === undefined) {
    index = tasks instanceof TaskTable ? new TableIndex(tasks) : indexOfRecord(tasks);
    taskIndexes.set(tasks, index);
  }
  return index;
}

function indexOfRecord(tasks: Readonly<Record<string, TaskRecord>>): TaskIndex {
  const table = sourceTable(tasks);
  return table === undefined ? buildTaskIndex(tasks) : taskIndex(table);
}

const byId = (a: TaskRecord, b: TaskRecord): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Tasks as a frozen list sorted by id. */
export function sortedById(tasks: Iterable<TaskRecord>): readonly TaskRecord[] {
  return Object.freeze([...tasks].sort(byId));
}

const sortedGroups = new WeakMap<TaskGroup, readonly TaskRecord[]>();

/**
 * A group's tasks sorted by id, once per group: a group no command touched is the same object
 * in the next table version, so a reader of one node's or one service's tasks pays again only
 * when those changed.
 */
function sortedGroup(group: TaskGroup): readonly TaskRecord[] {
  let list = sortedGroups.get(group);
  if (list === undefined) {
    list = sortedById(group.values());
    sortedGroups.set(group, list);
  }
  return list;
}

/** The index of a table: its groups sorted on first read, each once. */
class TableIndex implements TaskIndex {
  readonly #table: TaskTable;
  #all: readonly TaskRecord[] | null = null;
  readonly byService: ReadonlyMap<string, readonly TaskRecord[]>;
  readonly byNode: ReadonlyMap<string, readonly TaskRecord[]>;

  constructor(table: TaskTable) {
    this.#table = table;
    this.byService = new SortedGroups(
      (id) => table.ofService(id),
      () => table.serviceIds(),
    );
    this.byNode = new SortedGroups(
      (id) => table.onNode(id),
      () => table.nodeIds(),
    );
  }

  get all(): readonly TaskRecord[] {
    this.#all ??= sortedById(this.#table.values());
    return this.#all;
  }
}

/** The groups of one index of a table, as a map of lists sorted by id (each sorted once). */
class SortedGroups implements ReadonlyMap<string, readonly TaskRecord[]> {
  readonly #group: (key: string) => TaskGroup;
  readonly #keys: () => Iterable<string>;
  readonly #sorted = new Map<string, readonly TaskRecord[]>();

  constructor(group: (key: string) => TaskGroup, keys: () => Iterable<string>) {
    this.#group = group;
    this.#keys = keys;
  }

  get size(): number {
    return [...this.#keys()].length;
  }

  get(key: string): readonly TaskRecord[] | undefined {
    let list = this.#sorted.get(key);
    if (list === undefined) {
      const group = this.#group(key);
      if (group.size === 0) return undefined;
      list = sortedGroup(group);
      this.#sorted.set(key, list);
    }
    return list;
  }

  has(key: string): boolean {
    return this.#group(key).size > 0;
  }

  *keys(): MapIterator<string> {
    yield* [...this.#keys()].sort();
  }

  *values(): MapIterator<readonly TaskRecord[]> {
    for (const key of this.keys()) yield this.get(key)!;
  }

  *entries(): MapIterator<[string, readonly TaskRecord[]]> {
    for (const key of this.keys()) yield [key, this.get(key)!];
  }

  [Symbol.iterator](): MapIterator<[string, readonly TaskRecord[]]> {
    return this.entries();
  }

  forEach(
    fn: (value: readonly TaskRecord[], key: string, map: ReadonlyMap<string, readonly TaskRecord[]>) => void,
  ): void {
    for (const [key, value] of this.entries()) fn(value, key, this);
  }
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
export function listStacks(state: AnyState): StackRecord[] {
  return Object.keys(state.stacks)
    .sort()
    .map((name) => state.stacks[name]!);
}

export function findStack(state: AnyState, name: string): StackRecord | undefined {
  return lookup(state.stacks, name);
}

/** Services sorted by id. */
export function listServices(state: AnyState): ServiceRecord[] {
  return Object.keys(state.services)
    .sort()
    .map((id) => state.services[id]!);
}

export function findService(state: AnyState, id: string): ServiceRecord | undefined {
  return lookup(state.services, id);
}

/** The services of stack `name` sorted by id; empty for an unknown stack. */
export function listServicesOfStack(state: AnyState, name: string): ServiceRecord[] {
  const stack = lookup(state.stacks, name);
  return stack === undefined ? [] : stack.services.map((id) => state.services[id]!);
}

/** All tasks sorted by id (a frozen, cached list). */
export function listTasks(state: AnyState): readonly TaskRecord[] {
  return taskIndex(state.tasks).all;
}

export function findTask(state: AnyState, id: string): TaskRecord | undefined {
  return state.tasks instanceof TaskTable ? state.tasks.get(id) : lookup(state.tasks, id);
}

/** The tasks of service `id` (including those of a removed service, until collected), sorted by id. */
export function listTasksOfService(state: AnyState, id: string): readonly TaskRecord[] {
  return taskIndex(state.tasks).byService.get(id) ?? EMPTY;
}

/** The tasks whose node is `nodeId`, whatever their state, sorted by id. */
export function listTasksOnNode(state: AnyState, nodeId: string): readonly TaskRecord[] {
  return taskIndex(state.tasks).byNode.get(nodeId) ?? EMPTY;
}
