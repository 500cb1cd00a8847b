/**
 * The task map of the replicated state, with the indexes apply keeps as it changes: tasks by
 * service, by node and by job, the tasks waiting for a node, and the tasks holding a node's
 * resources. Every part is a {@link PersistentMap}, so changing one task costs O(log n) in each
 * index it belongs to, whatever the number of tasks, and an older table stays a consistent view.
 * The indexes are derived: snapshots hold the plain task map, and a restore rebuilds them.
 * @module
 */
import { deepFreeze } from './model.js';
import { PersistentMap, type DiffVisitor, type MapEntry } from './persistent-map.js';
import { isTerminal, taskStateRank, type TaskRecord } from './workloads.js';

/** A read-only group of tasks by id (an index entry). Iteration order is not meaningful. */
export interface TaskGroup extends Iterable<TaskRecord> {
  readonly size: number;
  get(id: string): TaskRecord | undefined;
  has(id: string): boolean;
  values(): Iterable<TaskRecord>;
}

type Group = PersistentMap<TaskRecord>;
type Index = PersistentMap<Group>;

const NONE: Group = PersistentMap.empty();
const ASSIGNED = taskStateRank('assigned');

/** Waiting for a node: not scheduled yet, and still wanted. */
export function isWaiting(t: TaskRecord): boolean {
  return t.desiredState === 'running' && (t.state === 'pending' || t.state === 'new');
}

/** Live: wanted running and not ended. */
export function isLive(t: TaskRecord): boolean {
  return t.desiredState === 'running' && !isTerminal(t.state);
}

/** Holding resources on a node: handed to it and not ended (stopping ones included). */
export function isPlaced(t: TaskRecord): boolean {
  return t.nodeId !== null && taskStateRank(t.state) >= ASSIGNED && !isTerminal(t.state);
}

/** Counts by key. */
type Counts = PersistentMap<number>;

interface Parts {
  readonly all: Group;
  readonly byService: Index;
  /** By `<service id>\u0000<slot>`. */
  readonly bySlot: Index;
  /** Live tasks by service, then by service version: how far a rollout is. */
  readonly liveVersions: PersistentMap<Counts>;
  readonly byNode: Index;
  readonly byJob: Index;
  readonly waiting: Group;
  readonly placed: Group;
}

function regroup(index: Index, before: string | null, after: string | null, id: string, task?: TaskRecord): Index {
  if (before !== null && before !== after) {
    const group = index.get(before)!.delete(id);
    index = group.size === 0 ? index.delete(before) : index.set(before, group);
  }
  if (after !== null && task !== undefined) index = index.set(after, (index.get(after) ?? NONE).set(id, task));
  return index;
}

function count(index: PersistentMap<Counts>, serviceId: string, version: number, delta: number): PersistentMap<Counts> {
  const inner = index.get(serviceId) ?? PersistentMap.empty<number>();
  const key = String(version);
  const n = (inner.get(key) ?? 0) + delta;
  const next = n === 0 ? inner.delete(key) : inner.set(key, n);
  return next.size === 0 ? index.delete(serviceId) : index.set(serviceId, next);
}

function recount(
  index: PersistentMap<Counts>,
  before: TaskRecord | undefined,
  after: TaskRecord | undefined,
): PersistentMap<Counts> {
  const was = before !== undefined && isLive(before) ? before : undefined;
  const is = after !== undefined && isLive(after) ? after : undefined;
  if (was?.serviceId === is?.serviceId && was?.serviceVersion === is?.serviceVersion) return index;
  if (was !== undefined) index = count(index, was.serviceId, was.serviceVersion, -1);
  if (is !== undefined) index = count(index, is.serviceId, is.serviceVersion, 1);
  return index;
}

const slotKey = (serviceId: string, slot: number): string => `${serviceId}\u0000${slot}`;

function flag(group: Group, id: string, task: TaskRecord | undefined, member: boolean): Group {
  return member && task !== undefined ? group.set(id, task) : group.delete(id);
}

type Entry = MapEntry<TaskRecord>;

function push<K>(groups: Map<K, Entry[]>, key: K, entry: Entry): void {
  const group = groups.get(key);
  if (group === undefined) groups.set(key, [entry]);
  else group.push(entry);
}

let emptyTable: TaskTable | undefined;

/**
 * An immutable task map with its indexes.
 * @example
 * const table = TaskTable.empty().set(task);
 * table.ofService(task.serviceId).size; // 1
 */
export class TaskTable {
  readonly #parts: Parts;

  private constructor(parts: Parts) {
    this.#parts = parts;
    Object.freeze(this);
  }

  static empty(): TaskTable {
    emptyTable ??= new TaskTable({
      all: NONE,
      byService: PersistentMap.empty(),
      bySlot: PersistentMap.empty(),
      liveVersions: PersistentMap.empty(),
      byNode: PersistentMap.empty(),
      byJob: PersistentMap.empty(),
      waiting: NONE,
      placed: NONE,
    });
    return emptyTable;
  }

  /**
   * A table of `records` (frozen on the way in), built in bulk: each index grouped in one pass
   * over the records and each trie built from its group at once, the same table as setting
   * them one by one at a fraction of the cost (a snapshot restore).
   * @throws {RangeError} when two records have the same id.
   */
  static from(records: Iterable<TaskRecord>): TaskTable {
    // One entry per task, shared by every index it is in (hashed once, allocated once).
    const all: Entry[] = [];
    const byService = new Map<string, Entry[]>();
    // By service, then slot number: no slot key string made per task, only one per slot.
    const bySlot = new Map<string, Map<number, Entry[]>>();
    const byNode = new Map<string, Entry[]>();
    const byJob = new Map<string, Entry[]>();
    const live = new Map<string, Map<string, number>>();
    const waiting: Entry[] = [];
    const placed: Entry[] = [];
    for (const task of records) {
      deepFreeze(task);
      const entry = PersistentMap.entry(task.id, task);
      all.push(entry);
      push(byService, task.serviceId, entry);
      let slots = bySlot.get(task.serviceId);
      if (slots === undefined) bySlot.set(task.serviceId, (slots = new Map()));
      push(slots, task.slot, entry);
      if (task.nodeId !== null) push(byNode, task.nodeId, entry);
      if (task.job !== undefined) push(byJob, task.job.jobId, entry);
      if (isWaiting(task)) waiting.push(entry);
      if (isPlaced(task)) placed.push(entry);
      if (isLive(task)) {
        let versions = live.get(task.serviceId);
        if (versions === undefined) live.set(task.serviceId, (versions = new Map()));
        const version = String(task.serviceVersion);
        versions.set(version, (versions.get(version) ?? 0) + 1);
      }
    }
    if (all.length === 0) return TaskTable.empty();
    const index = (groups: Map<string, Entry[]>): Index =>
      PersistentMap.from([...groups].map(([key, group]) => [key, PersistentMap.ofEntries(group)] as const));
    return new TaskTable({
      all: PersistentMap.ofEntries(all),
      byService: index(byService),
      bySlot: PersistentMap.from(
        [...bySlot].flatMap(([id, slots]) =>
          [...slots].map(([slot, group]) => [slotKey(id, slot), PersistentMap.ofEntries(group)] as const),
        ),
      ),
      liveVersions: PersistentMap.from([...live].map(([id, versions]) => [id, PersistentMap.from(versions)] as const)),
      byNode: index(byNode),
      byJob: index(byJob),
      waiting: PersistentMap.ofEntries(waiting),
      placed: PersistentMap.ofEntries(placed),
    });
  }

  get size(): number {
    return this.#parts.all.size;
  }

  get(id: string): TaskRecord | undefined {
    return this.#parts.all.get(id);
  }

  has(id: string): boolean {
    return this.#parts.all.has(id);
  }

  /** The task ids, as a fresh array in the table's (hash) order. */
  ids(): string[] {
    return this.#parts.all.keys();
  }

  values(): Iterable<TaskRecord> {
    return this.#parts.all.values();
  }

  /** The tasks of service `id` (a removed service's too, until collected). */
  ofService(id: string): TaskGroup {
    return this.#parts.byService.get(id) ?? NONE;
  }

  /** The tasks of one slot of a service (a replica number; 0 for every task of a global service). */
  ofSlot(serviceId: string, slot: number): TaskGroup {
    return this.#parts.bySlot.get(slotKey(serviceId, slot)) ?? NONE;
  }

  /** The oldest service version a live task of service `id` runs; undefined when none is live. */
  oldestLiveVersion(serviceId: string): number | undefined {
    const versions = this.#parts.liveVersions.get(serviceId);
    return versions === undefined ? undefined : Math.min(...versions.keys().map(Number));
  }

  /** The number of live tasks ({@link isLive}) of service `id`, whatever their version. */
  liveCount(serviceId: string): number {
    let n = 0;
    for (const count of this.#parts.liveVersions.get(serviceId) ?? []) n += count;
    return n;
  }

  /** The tasks whose node is `id`, in any state. */
  onNode(id: string): TaskGroup {
    return this.#parts.byNode.get(id) ?? NONE;
  }

  /** The tasks (units, retries, requeues) of job `id`. */
  ofJob(id: string): TaskGroup {
    return this.#parts.byJob.get(id) ?? NONE;
  }

  /** The ids of the services, nodes and jobs that have tasks (the keys of the indexes). */
  serviceIds(): Iterable<string> {
    return this.#parts.byService.keys();
  }

  nodeIds(): Iterable<string> {
    return this.#parts.byNode.keys();
  }

  jobIds(): Iterable<string> {
    return this.#parts.byJob.keys();
  }

  /** Tasks waiting for a node ({@link isWaiting}). */
  waiting(): TaskGroup {
    return this.#parts.waiting;
  }

  /** Tasks holding resources on a node ({@link isPlaced}). */
  placed(): TaskGroup {
    return this.#parts.placed;
  }

  /** This table with `task` put under its id; this very table when it holds that record already. */
  set(task: TaskRecord): TaskTable {
    const p = this.#parts;
    const before = p.all.get(task.id);
    if (before === task) return this;
    deepFreeze(task);
    return this.#with(before, task.id, task);
  }

  /** This table without task `id`. */
  delete(id: string): TaskTable {
    const before = this.#parts.all.get(id);
    return before === undefined ? this : this.#with(before, id, undefined);
  }

  /** Call `visit` for every task that differs in `next` (added, changed or removed). */
  diff(next: TaskTable, visit: DiffVisitor<TaskRecord>): void {
    this.#parts.all.diff(next.#parts.all, visit);
  }

  #with(before: TaskRecord | undefined, id: string, after: TaskRecord | undefined): TaskTable {
    const p = this.#parts;
    const key = <K>(t: TaskRecord | undefined, of: (t: TaskRecord) => K | null): K | null =>
      t === undefined ? null : of(t);
    return new TaskTable({
      all: after === undefined ? p.all.delete(id) : p.all.set(id, after),
      byService: regroup(
        p.byService,
        key(before, (t) => t.serviceId),
        key(after, (t) => t.serviceId),
        id,
        after,
      ),
      bySlot: regroup(
        p.bySlot,
        key(before, (t) => slotKey(t.serviceId, t.slot)),
        key(after, (t) => slotKey(t.serviceId, t.slot)),
        id,
        after,
      ),
      liveVersions: recount(p.liveVersions, before, after),
      byNode: regroup(
        p.byNode,
        key(before, (t) => t.nodeId),
        key(after, (t) => t.nodeId),
        id,
        after,
      ),
      byJob: regroup(
        p.byJob,
        key(before, (t) => t.job?.jobId ?? null),
        key(after, (t) => t.job?.jobId ?? null),
        id,
        after,
      ),
      waiting: flag(p.waiting, id, after, after !== undefined && isWaiting(after)),
      placed: flag(p.placed, id, after, after !== undefined && isPlaced(after)),
    });
  }
}

/**
 * Edits of a task table with the interface of `RecordEdit`, so a batch command reads its own
 * writes. Each change costs O(log n): there is no copy to share across the batch.
 * @example
 * const tasks = new TaskEdit(state.tasks);
 * tasks.set(id, { ...tasks.get(id)!, desiredState: 'shutdown' });
 * const next = tasks.changed ? { ...state, tasks: tasks.result() } : state;
 */
export class TaskEdit {
  readonly #base: TaskTable;
  #table: TaskTable;

  constructor(base: TaskTable) {
    this.#base = base;
    this.#table = base;
  }

  get changed(): boolean {
    return this.#table !== this.#base;
  }

  get(id: string): TaskRecord | undefined {
    return this.#table.get(id);
  }

  has(id: string): boolean {
    return this.#table.has(id);
  }

  set(id: string, task: TaskRecord): void {
    if (task.id !== id) throw new RangeError(`Cannot file task ${task.id} under id ${id}: a task's key is its id`);
    this.#table = this.#table.set(task);
  }

  delete(id: string): void {
    this.#table = this.#table.delete(id);
  }

  result(): TaskTable {
    return this.#table;
  }
}
