/**
 * What applied commands touched, for the leader's controllers: they reconcile the services, jobs
 * and nodes a change set names instead of scanning the whole state (see
 * `reconcileWorkloads({ changes })`). Derived by comparing each state version with the next one:
 * the task tables share every unchanged subtree, so the comparison costs what changed, and apply
 * itself needs no bookkeeping.
 * @module
 */
import type { IndexedState } from './indexed-state.js';
import { isPlaced, isWaiting } from './task-table.js';
import type { TaskRecord } from './workloads.js';

/** What changed between two points of the log. */
export interface ChangeSet {
  /**
   * True when the changes are not known in detail (tracking just started, a snapshot was
   * restored, or too much changed to list): the reader must reconcile everything.
   */
  readonly full: boolean;
  /** Tasks added, changed or removed. */
  readonly tasks: ReadonlySet<string>;
  /** Services changed, added or removed, and the services of the tasks in `tasks`. */
  readonly services: ReadonlySet<string>;
  /** The slots of the tasks in `tasks`, by service id (replica numbers; 0 for global services). */
  readonly slots: ReadonlyMap<string, ReadonlySet<number>>;
  /** The services among `services` whose record itself changed (added, removed, new spec or scale). */
  readonly serviceRecords: ReadonlySet<string>;
  /** Jobs changed, added or removed, and the jobs of the tasks in `tasks`. */
  readonly jobs: ReadonlySet<string>;
  /** Nodes changed, added or removed. */
  readonly nodes: ReadonlySet<string>;
  /**
   * Whether something the scheduler reads changed: a task began waiting for a node or released
   * one's resources, or a node, service, quota or fair-share usage changed.
   */
  readonly placement: boolean;
}

const NOTHING: ReadonlySet<string> = new Set();

/** A change set that names nothing and asks for everything. */
export const FULL_CHANGES: ChangeSet = Object.freeze({
  full: true,
  tasks: NOTHING,
  services: NOTHING,
  slots: new Map(),
  serviceRecords: NOTHING,
  jobs: NOTHING,
  nodes: NOTHING,
  placement: true,
});

/** When a taker wants a full pass regardless of what changed. */
export interface TakeOptions {
  /** The taker's clock, ms. */
  readonly now: number;
  /** Full when the last full change set was handed out this long ago or more. */
  readonly fullEveryMs?: number;
  /** Full when the last full change set was handed out at or before this time (e.g. taking office). */
  readonly fullIfBefore?: number;
}

/** Past this many ids the set is dropped for `full`: a follower that never takes it stays small. */
const MAX_IDS = 100_000;

/**
 * Collects the changes of successive state versions until they are taken.
 * @example
 * tracker.record(before, after); // after each apply that changed the state
 * const changes = tracker.take(); // and start again
 */
export class ChangeTracker {
  #full = true;
  #tasks = new Set<string>();
  #services = new Set<string>();
  #slots = new Map<string, Set<number>>();
  #records = new Set<string>();
  #jobs = new Set<string>();
  #nodes = new Set<string>();
  #placement = false;
  /** When a full change set was last handed out to a taker with a clock. */
  #lastFullAt: number | null = null;

  /** Add what differs from `before` to `after`. */
  record(before: IndexedState, after: IndexedState): void {
    if (this.#full || before === after) return;
    const touch = (t: TaskRecord | undefined): void => {
      if (t === undefined) return;
      this.#services.add(t.serviceId);
      const slots = this.#slots.get(t.serviceId);
      if (slots === undefined) this.#slots.set(t.serviceId, new Set([t.slot]));
      else slots.add(t.slot);
      if (t.job !== undefined) this.#jobs.add(t.job.jobId);
    };
    if (before.tasks !== after.tasks)
      before.tasks.diff(after.tasks, (id, was, is) => {
        this.#tasks.add(id);
        touch(was);
        touch(is);
        this.#placement ||= schedulerSees(was, is);
      });
    const records = this.#records.size;
    changedKeys(before.services, after.services, this.#records);
    for (const id of this.#records) this.#services.add(id);
    const nodes = this.#nodes.size;
    changedKeys(before.nodes, after.nodes, this.#nodes);
    changedKeys(before.jobs, after.jobs, this.#jobs);
    this.#placement ||=
      this.#records.size > records ||
      this.#nodes.size > nodes ||
      before.quotas !== after.quotas ||
      before.usage !== after.usage;
    if (this.#tasks.size + this.#services.size + this.#jobs.size + this.#nodes.size > MAX_IDS) this.markFull();
  }

  /** From here on the details are unknown (a restore replaced the state). */
  markFull(): void {
    this.#full = true;
    this.#clear();
  }

  /**
   * What changed since the last take (or since tracking began: `full`), and start afresh.
   * `options` turn it into a full set on a schedule (see {@link TakeOptions}).
   */
  take(options?: TakeOptions): ChangeSet {
    const last = this.#lastFullAt;
    const due =
      options !== undefined &&
      (last === null ||
        (options.fullIfBefore !== undefined && last <= options.fullIfBefore) ||
        (options.fullEveryMs !== undefined && options.now - last >= options.fullEveryMs));
    const full = this.#full || due;
    if (full && options !== undefined) this.#lastFullAt = options.now;
    const out: ChangeSet = full
      ? FULL_CHANGES
      : {
          full: false,
          tasks: this.#tasks,
          services: this.#services,
          slots: this.#slots,
          serviceRecords: this.#records,
          jobs: this.#jobs,
          nodes: this.#nodes,
          placement: this.#placement,
        };
    this.#full = false;
    this.#clear();
    return out;
  }

  #clear(): void {
    this.#tasks = new Set();
    this.#services = new Set();
    this.#slots = new Map();
    this.#records = new Set();
    this.#jobs = new Set();
    this.#nodes = new Set();
    this.#placement = false;
  }
}

/**
 * Whether the scheduler could decide differently: a task waits for a node, or one holding a node
 * started or stopped holding it, or changed what placement reads of it (a terminating task
 * blocks preemption; backfill reads when it started). A running task's report is none of these.
 */
function schedulerSees(was: TaskRecord | undefined, is: TaskRecord | undefined): boolean {
  if ((was !== undefined && isWaiting(was)) || (is !== undefined && isWaiting(is))) return true;
  const a = was !== undefined && isPlaced(was) ? was : undefined;
  const b = is !== undefined && isPlaced(is) ? is : undefined;
  if (a === undefined || b === undefined) return a !== b;
  return (
    a.nodeId !== b.nodeId ||
    a.desiredState !== b.desiredState ||
    a.gpus !== b.gpus ||
    (a.startedAt ?? a.updatedAt) !== (b.startedAt ?? b.updatedAt)
  );
}

/** Keys whose record differs between `a` and `b` (O(size), and only when the maps differ). */
function changedKeys<T>(a: Readonly<Record<string, T>>, b: Readonly<Record<string, T>>, out: Set<string>): void {
  if (a === b) return;
  for (const key of Object.keys(a)) if (a[key] !== b[key] || !Object.hasOwn(b, key)) out.add(key);
  for (const key of Object.keys(b)) if (!Object.hasOwn(a, key)) out.add(key);
}
