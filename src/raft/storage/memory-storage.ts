/**
 * Raft storage in memory, with the same semantics as the file storage (overwrite from the first
 * index of a batch, snapshots that reset or compact the log). For tests and the simulator: it
 * remembers which saves were synced, so `cloneDurable()` gives "what a crash would have left".
 */
import type { RaftStorage } from '../interfaces.js';
import type { Entry, HardState, RestoredState, Snapshot } from '../types.js';
import { StorageError } from './errors.js';
import { checkSave, EMPTY_HARD_STATE, LogState } from './log-state.js';

export { EMPTY_HARD_STATE };

type SaveParts = Parameters<RaftStorage['save']>[0];

interface MemoryState {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  log: LogState;
}

function copyState(state: MemoryState): MemoryState {
  return { hardState: state.hardState, snapshot: state.snapshot, log: state.log.clone() };
}

function applySave(state: MemoryState, parts: SaveParts): void {
  if (parts.snapshot !== undefined) {
    state.snapshot = parts.snapshot;
    state.log.reset(parts.snapshot.meta.index);
  }
  state.log.append(parts.entries);
  if (parts.hardState !== undefined) state.hardState = parts.hardState;
}

/**
 * One save split into the parts a crash may separate, in write order: the snapshot, then the
 * entries with the hard state (one frame in the file storage, so never separated).
 */
function steps(parts: SaveParts): SaveParts[] {
  const out: SaveParts[] = [];
  if (parts.snapshot !== undefined) out.push({ snapshot: parts.snapshot, entries: [] });
  if (parts.entries.length > 0 || parts.hardState !== undefined)
    out.push({ entries: parts.entries, ...(parts.hardState ? { hardState: parts.hardState } : {}) });
  return out;
}

/**
 * In-memory {@link RaftStorage}.
 *
 * @example
 * ```ts
 * const storage = new MemoryRaftStorage();
 * await storage.save({ entries: [{ index: 1, term: 1, type: EntryType.Normal, data }] }, true);
 * const afterCrash = storage.cloneDurable(); // what a restarted node would load
 * ```
 */
export class MemoryRaftStorage implements RaftStorage {
  /** Everything saved so far. */
  #live: MemoryState;
  /** Only what was synced: saves with `sync: false` are pending until the next sync. */
  #durable: MemoryState;
  #pending: SaveParts[] = [];
  #closed = false;

  constructor(initial?: RestoredState) {
    const snapshot = initial?.snapshot;
    const floor = snapshot?.meta.index ?? 0;
    const log = new LogState({ floor });
    if (initial !== undefined) log.append(initial.entries);
    this.#live = { hardState: initial?.hardState ?? EMPTY_HARD_STATE, snapshot, log };
    this.#durable = copyState(this.#live);
  }

  async load(): Promise<RestoredState> {
    this.#assertOpen('load');
    const { hardState, snapshot, log } = this.#live;
    return snapshot === undefined
      ? { hardState, entries: [...log.entries] }
      : { hardState, snapshot, entries: [...log.entries] };
  }

  async save(parts: SaveParts, sync: boolean): Promise<void> {
    this.#assertOpen('save');
    checkSave(this.#live.log, parts);
    // Drop what the snapshot covers now, so replaying `pending` later means the same thing.
    const floor = parts.snapshot?.meta.index ?? this.#live.log.floor;
    const stored: SaveParts = { ...parts, entries: parts.entries.filter((e) => e.index > floor) };
    applySave(this.#live, stored);
    this.#pending.push(stored);
    if (sync) this.#flush();
  }

  /** Keep `snapshot` and drop the log up to its index. A no-op when it is not newer than the stored one. */
  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.#assertOpen('saveSnapshot');
    if (snapshot.meta.index <= this.#live.log.floor) return;
    // Like the file storage, a snapshot is a sync point.
    this.#flush();
    for (const state of [this.#live, this.#durable]) {
      state.snapshot = snapshot;
      state.log.compact(snapshot.meta.index);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** A new storage holding everything saved so far (synced or not). Works after close. */
  clone(): MemoryRaftStorage {
    return MemoryRaftStorage.#from(this.#live);
  }

  /** A new storage holding only what was synced: what a node restarting after a crash finds. */
  cloneDurable(): MemoryRaftStorage {
    return MemoryRaftStorage.#from(this.#durable);
  }

  /**
   * How many steps of unsynced saves a crash could keep: each save is up to two steps
   * (snapshot, then entries with hard state), written in that order, like the file storage's frames.
   */
  get unsyncedSteps(): number {
    return this.#pending.reduce((n, parts) => n + steps(parts).length, 0);
  }

  /**
   * A new storage holding what was synced plus the first `keepSteps` unsynced steps: a crash
   * that tore the unsynced tail of the WAL at a frame boundary (the file storage's recovery
   * yields exactly such a prefix). `keepSteps` 0 is {@link cloneDurable}.
   */
  cloneCrashed(keepSteps: number): MemoryRaftStorage {
    if (!Number.isSafeInteger(keepSteps) || keepSteps < 0 || keepSteps > this.unsyncedSteps) {
      throw new RangeError(`Cannot keep ${keepSteps} unsynced steps: expected an integer in 0..${this.unsyncedSteps}`);
    }
    const state = copyState(this.#durable);
    const kept = this.#pending.flatMap(steps).slice(0, keepSteps);
    for (const parts of kept) applySave(state, parts);
    return MemoryRaftStorage.#from(state);
  }

  /** The entries currently stored (after the snapshot), for assertions. */
  entries(): readonly Entry[] {
    return [...this.#live.log.entries];
  }

  static #from(state: MemoryState): MemoryRaftStorage {
    const storage = new MemoryRaftStorage();
    storage.#live = copyState(state);
    storage.#durable = copyState(state);
    return storage;
  }

  #flush(): void {
    for (const parts of this.#pending) applySave(this.#durable, parts);
    this.#pending = [];
  }

  #assertOpen(op: string): void {
    if (this.#closed)
      throw new StorageError(`Cannot ${op} as the memory storage is closed: open a new one (or clone() this one)`);
  }
}
