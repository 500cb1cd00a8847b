/**
 * The replicated state machine: committed log entries in, cluster state out.
 *
 * `apply` never throws on what it finds in the log. A malformed or inapplicable command is a
 * deterministic refusal: every peer refuses it the same way, the state stays as it was, and the
 * proposer gets `{ ok: false, error }`. Only the state and the applied index change on apply,
 * and both are in the snapshot, so peers agree byte for byte at every index.
 * @module
 */
import { EntryType, type Entry } from '../raft/types.js';
import type { StateMachine } from '../raft/interfaces.js';
import { applyCommand } from './apply.js';
import { decodeCommand, type Command, type CommandType } from './commands.js';
import { RequestLedger } from './request-ledger.js';
import { ChangeTracker, type ChangeSet, type TakeOptions } from './changes.js';
import { InvalidCommandError } from './errors.js';
import { emptyIndexedState, plainState, type IndexedState } from './indexed-state.js';
import {
  type ClusterInfo,
  type ClusterSettings,
  type ClusterState,
  type NodeRecord,
  type RevokedNode,
  type TokenInfo,
} from './model.js';
import {
  findService,
  findStack,
  findTask,
  listServices,
  listServicesOfStack,
  listStacks,
  listTasks,
  listTasksOfService,
  listTasksOnNode,
} from './queries.js';
import { decodeIndexedState, encodeState } from './snapshot.js';
import type { ServiceRecord, StackRecord, TaskRecord } from './workloads.js';

export type { ClusterState } from './model.js';

/** One command that changed the state: what it was, at which index, and the state around it. */
export interface AppliedCommand {
  readonly index: number;
  readonly command: Command;
  readonly before: IndexedState;
  readonly after: IndexedState;
}

/**
 * Told of every applied command and every restore, on every peer alike (src/events derives the
 * event stream from it). It must not throw and must stay O(change): it runs inside apply.
 */
export interface AppliedObserver {
  applied(change: AppliedCommand): void;
  /** A snapshot replaced the state: what happened up to `index` is not known in detail. */
  restored(index: number): void;
}

/**
 * What applying one entry gave, returned to the proposer on this node.
 * - `type` is the command's type, or null for an entry that carries no command (Noop, ConfChange);
 * - `reason` on a refusal: `invalid` (the bytes are not a valid command), `refused` (valid, but
 *   not applicable to the current state), `stale` (the index was applied already).
 */
export type ApplyResult =
  | {
      readonly ok: true;
      readonly index: number;
      readonly type: CommandType | null;
      /** The id of the job a `job.submit` or `job.start` created. */
      readonly jobId?: string;
      /** The request id was applied before, at `index`: this entry changed nothing. */
      readonly duplicate?: true;
    }
  | {
      readonly ok: false;
      readonly index: number;
      readonly reason: 'invalid' | 'refused' | 'stale';
      readonly error: string;
    };

/**
 * The cluster state machine.
 * @example
 * const machine = new ClusterStateMachine();
 * const result = machine.apply({ index: 1, term: 1, type: EntryType.Normal, data: encodeCommand(init) });
 * machine.node(peerId)?.availability; // 'active'
 */
export class ClusterStateMachine implements StateMachine<ApplyResult> {
  #state: IndexedState = emptyIndexedState();
  #applied = 0;
  #requests = new RequestLedger();
  readonly #changes = new ChangeTracker();
  readonly #observers: AppliedObserver[] = [];

  /** The index of the last entry applied (or restored from a snapshot). */
  get appliedIndex(): number {
    return this.#applied;
  }

  /** Apply one committed entry. Never throws on the entry's content. */
  apply(entry: Entry): ApplyResult {
    const index = entry.index;
    if (!Number.isSafeInteger(index) || index <= this.#applied) {
      // Re-delivery after a restore or a driver bug: applying twice would break determinism.
      return {
        ok: false,
        index,
        reason: 'stale',
        error: `entry ${index} is at or below the applied index ${this.#applied}`,
      };
    }
    this.#applied = index;
    if (entry.type !== EntryType.Normal) return { ok: true, index, type: null };

    let command;
    try {
      command = decodeCommand(entry.data);
    } catch (error) {
      // Whatever the decoder throws on, every peer throws on too: a deterministic refusal.
      const message =
        error instanceof InvalidCommandError ? error.message : `command: cannot decode (${String(error)})`;
      return { ok: false, index, reason: 'invalid', error: message };
    }
    const rid = command.rid;
    if (rid === undefined) return this.#applyCommand(command, index);
    const first = this.#requests.lookup(rid);
    if (first !== undefined) {
      // A retry of a write that was applied already: the first outcome, nothing applied again.
      return first.ok
        ? { ...first, type: command.type, duplicate: true }
        : { ok: false, index: first.index, reason: 'refused', error: first.error };
    }
    const result = this.#applyCommand(command, index);
    this.#requests.record(
      rid,
      command.at,
      result.ok
        ? { ok: true, index, type: command.type, ...(result.jobId !== undefined ? { jobId: result.jobId } : {}) }
        : { ok: false, index, error: result.error },
    );
    return result;
  }

  #applyCommand(command: Command, index: number): ApplyResult {
    let outcome;
    try {
      outcome = applyCommand(this.#state, command);
    } catch (error) {
      // A bug, not bad data. Throwing here would crash every peer on the same committed entry,
      // again on each restart; refusing keeps the cluster alive and the state unchanged.
      return {
        ok: false,
        index,
        reason: 'refused',
        error: `${command.type}: internal error while applying (${String(error)})`,
      };
    }
    if (!outcome.ok) return { ok: false, index, reason: 'refused', error: outcome.error };
    const before = this.#state.counters.job;
    const previous = this.#state;
    this.#changes.record(this.#state, outcome.state);
    this.#state = outcome.state;
    for (const observer of this.#observers) observer.applied({ index, command, before: previous, after: this.#state });
    const created = this.#state.counters.job;
    return created === before
      ? { ok: true, index, type: command.type }
      : { ok: true, index, type: command.type, jobId: String(created) };
  }

  /** The whole state, the request ids remembered and the applied index, in canonical CBOR. */
  snapshot(): Uint8Array {
    // From the table: the bytes of the plain state, without building it (snapshots are rare).
    return encodeState(this.#state, this.#applied, this.#requests);
  }

  /**
   * Replace the state with a snapshot's, taken at `index`.
   * @throws {@link InvalidSnapshotError} when the snapshot is malformed, of another version, or for
   * another index; the current state is then kept.
   */
  restore(data: Uint8Array, index: number): void {
    // The indexes are derived, never in a snapshot: built here, in bulk.
    const { state, appliedIndex, requests } = decodeIndexedState(data, index);
    this.#state = state;
    this.#applied = appliedIndex;
    this.#requests = requests;
    this.#changes.markFull();
    for (const observer of this.#observers) observer.restored(appliedIndex);
  }

  /** Tell `observer` of every command applied and every restore from now on. */
  observeApplied(observer: AppliedObserver): void {
    this.#observers.push(observer);
  }

  /**
   * The whole state with its tasks as a plain record. Deeply frozen, and never changed in place:
   * keep it as a consistent view. The record is built on the first call for a state version
   * (O(tasks)); readers that can, use {@link view}.
   */
  state(): ClusterState {
    return plainState(this.#state);
  }

  /**
   * The whole state with its tasks indexed (see indexed-state.ts): what the leader's controllers
   * read. Deeply frozen, never changed in place, O(1).
   */
  view(): IndexedState {
    return this.#state;
  }

  /**
   * What the commands applied since the last call touched, for a controller pass that
   * reconciles only that. The first call (and the first after a restore, or after more changes
   * than are worth listing) says `full: true`. Tracking starts with the first call, so a node that
   * never asks pays nothing for it. With `options`, the set is also full on a schedule (every
   * few seconds, and on the first take after taking office): the controllers' safety net.
   * @example
   * const changes = machine.takeChanges({ now: Date.now(), fullEveryMs: 5000, fullIfBefore: leaderSince });
   * reconcileWorkloads({ state: machine.view(), changes, now, newId });
   */
  takeChanges(options?: TakeOptions): ChangeSet {
    return this.#changes.take(options);
  }

  /**
   * Make the next {@link takeChanges} full: what was taken was not acted on in full (a command
   * of the pass was refused or timed out).
   */
  resetChanges(): void {
    this.#changes.markFull();
  }

  /** The cluster's id, name and creation time, or null before `cluster.init`. */
  cluster(): ClusterInfo | null {
    return this.#state.cluster;
  }

  settings(): ClusterSettings {
    return this.#state.settings;
  }

  /** Member nodes sorted by id. */
  nodes(): NodeRecord[] {
    return sortedValues(this.#state.nodes);
  }

  node(id: string): NodeRecord | undefined {
    return Object.hasOwn(this.#state.nodes, id) ? this.#state.nodes[id] : undefined;
  }

  /** Whether `peerId` is a current member (the connection gate admits it to cluster protocols). */
  isMember(peerId: string): boolean {
    return Object.hasOwn(this.#state.nodes, peerId);
  }

  /** Whether `peerId` was removed: its connections are refused for good. */
  isRevoked(peerId: string): boolean {
    return Object.hasOwn(this.#state.revoked, peerId);
  }

  /** Removed nodes sorted by id. */
  revoked(): RevokedNode[] {
    return sortedValues(this.#state.revoked);
  }

  /** The current join token's key and fingerprint, or null before `cluster.init`. */
  tokenKey(): TokenInfo | null {
    return this.#state.token;
  }

  /** Deployed stacks sorted by name. */
  stacks(): StackRecord[] {
    return listStacks(this.#state);
  }

  stack(name: string): StackRecord | undefined {
    return findStack(this.#state, name);
  }

  /** Services sorted by id (`<stack>_<name>`). */
  services(): ServiceRecord[] {
    return listServices(this.#state);
  }

  service(id: string): ServiceRecord | undefined {
    return findService(this.#state, id);
  }

  /** The services of stack `name` sorted by id; empty for an unknown stack. */
  servicesOfStack(name: string): ServiceRecord[] {
    return listServicesOfStack(this.#state, name);
  }

  /**
   * All tasks sorted by id. The list is built once per state version and shared: it is frozen.
   * @example machine.tasks().filter((t) => t.state === 'pending')
   */
  tasks(): readonly TaskRecord[] {
    return listTasks(this.#state);
  }

  task(id: string): TaskRecord | undefined {
    return findTask(this.#state, id);
  }

  /** The tasks of service `id`, sorted by id (a removed service's stay until collected). */
  tasksOfService(id: string): readonly TaskRecord[] {
    return listTasksOfService(this.#state, id);
  }

  /**
   * The tasks whose node is `nodeId`, in any state, sorted by id: what the node's runtime
   * reconciles (it acts on `desiredState`, and on tasks from `assigned` on).
   */
  tasksOnNode(nodeId: string): readonly TaskRecord[] {
    return listTasksOnNode(this.#state, nodeId);
  }
}

function sortedValues<T>(record: Readonly<Record<string, T>>): T[] {
  return Object.keys(record)
    .sort()
    .map((k) => record[k]!);
}
