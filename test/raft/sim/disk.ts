/**
 * A simulated disk for one node: writes land in a page cache and become durable only when an
 * fsync that covers them completes. A crash keeps the durable image plus, when torn, a prefix
 * of the unsynced writes (a write-ahead log recovers a prefix of its frames, never a hole).
 *
 * The disk also checks the Ready contract on what the core asks it to write (no gaps in the
 * log, a hard state that never goes back, a commit index inside the log).
 */
import type { Entry, HardState, RestoredState, Snapshot } from '../../../src/raft/types.js';
import { InvariantError } from './trace.js';

/** What a disk holds: the hard state, an optional snapshot and the log after it. */
export interface DiskImage {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  /** Entries with index > snapshot index, contiguous. */
  entries: Entry[];
}

/**
 * What one write puts on the disk. A Ready's entries and hard state are one record, as they are
 * one frame in the real WAL: a torn tail keeps both or neither. The snapshot of a Ready is its
 * own record before them (the real storage writes the snapshot file first).
 */
type DiskRecord =
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot; readonly keepLog: boolean }
  | { readonly kind: 'batch'; readonly entries: readonly Entry[]; readonly hardState: HardState | undefined };

/** Deliberate disk bugs for the checker's self-test. */
export type DiskBug = 'none' | 'lyingFsync' | 'forgetVote';

export interface DiskHooks {
  /** An entry was written at `entry.index`; `prevTerm` is the term of the entry before it. */
  onEntryWritten(entry: Entry, prevTerm: number): void;
}

const EMPTY_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

function emptyImage(): DiskImage {
  return { hardState: EMPTY_HARD_STATE, snapshot: undefined, entries: [] };
}

function snapIndex(image: DiskImage): number {
  return image.snapshot?.meta.index ?? 0;
}

/** Index of the last entry (or the snapshot's index when the log is empty). */
export function lastIndex(image: DiskImage): number {
  return snapIndex(image) + image.entries.length;
}

/** Term of the entry at `index`, or undefined when the image does not know it. */
export function termAt(image: DiskImage, index: number): number | undefined {
  const base = snapIndex(image);
  if (index === 0) return 0;
  if (index === base) return image.snapshot!.meta.term;
  if (index < base || index > lastIndex(image)) return undefined;
  return image.entries[index - base - 1]!.term;
}

/** The entry at `index`, or undefined when compacted or absent. */
export function entryAt(image: DiskImage, index: number): Entry | undefined {
  const base = snapIndex(image);
  if (index <= base || index > lastIndex(image)) return undefined;
  return image.entries[index - base - 1];
}

function applyRecord(image: DiskImage, record: DiskRecord): void {
  switch (record.kind) {
    case 'snapshot': {
      const keep = record.keepLog ? image.entries.filter((e) => e.index > record.snapshot.meta.index) : [];
      image.snapshot = record.snapshot;
      image.entries = keep;
      break;
    }
    case 'batch': {
      const first = record.entries[0];
      if (first) {
        image.entries.length = first.index - snapIndex(image) - 1;
        image.entries.push(...record.entries);
      }
      if (record.hardState) image.hardState = record.hardState;
      break;
    }
  }
}

export class SimDisk {
  readonly #hooks: DiskHooks;
  readonly #bug: DiskBug;
  #durable: DiskImage = emptyImage();
  #written: DiskImage = emptyImage();
  #pending: DiskRecord[] = [];
  /** Absolute count of records ever written / made durable (sync tokens are such counts). */
  #writtenCount = 0;
  #durableCount = 0;

  constructor(hooks: DiskHooks, bug: DiskBug = 'none') {
    this.#hooks = hooks;
    this.#bug = bug;
  }

  /** What a reader of the files would see now (durable plus page cache). */
  get written(): DiskImage {
    return this.#written;
  }

  get durable(): DiskImage {
    return this.#durable;
  }

  /** Number of writes not yet covered by a completed fsync. */
  get unsynced(): number {
    return this.#pending.length;
  }

  /** Write a Ready's durable parts, in the contract's order. Throws an InvariantError on a contract breach. */
  write(parts: { snapshot?: Snapshot; entries: readonly Entry[]; hardState?: HardState }): void {
    if (parts.snapshot) this.#append({ kind: 'snapshot', snapshot: parts.snapshot, keepLog: false });
    let expected = parts.entries[0]?.index;
    for (const entry of parts.entries) {
      if (entry.index !== expected) {
        throw new InvariantError(
          'ready contract',
          `Ready entries are not contiguous: expected index ${expected}, got ${entry.index}`,
        );
      }
      expected = entry.index + 1;
      const image = this.#written;
      if (entry.index <= snapIndex(image)) {
        throw new InvariantError(
          'ready contract',
          `Ready writes entry ${entry.index} at or below the snapshot index ${snapIndex(image)}`,
        );
      }
      if (entry.index > lastIndex(image) + 1) {
        throw new InvariantError(
          'ready contract',
          `Ready writes entry ${entry.index} past the end of the log (last ${lastIndex(image)}): a gap`,
        );
      }
      const prevTerm = termAt(image, entry.index - 1)!;
      if (entry.term < prevTerm) {
        throw new InvariantError(
          'log matching',
          `entry ${entry.index} has term ${entry.term}, below the term ${prevTerm} of the entry before it`,
        );
      }
      this.#writeEntry(entry);
      this.#hooks.onEntryWritten(entry, prevTerm);
    }
    if (parts.hardState) {
      const before = this.#written.hardState;
      const next = parts.hardState;
      if (next.term < before.term)
        throw new InvariantError('hard state', `term went back from ${before.term} to ${next.term}`);
      if (next.term === before.term && before.vote !== null && next.vote !== before.vote) {
        throw new InvariantError('hard state', `vote in term ${next.term} changed from ${before.vote} to ${next.vote}`);
      }
      if (next.commit < before.commit)
        throw new InvariantError('hard state', `commit went back from ${before.commit} to ${next.commit}`);
      const last = lastIndex(this.#written);
      if (next.commit > last) {
        throw new InvariantError(
          'ready contract',
          `hard state commits ${next.commit} beyond the last written entry ${last}`,
        );
      }
    }
    const hardState =
      parts.hardState && this.#bug === 'forgetVote' ? { ...parts.hardState, vote: null } : parts.hardState;
    if (parts.entries.length > 0 || hardState) this.#append({ kind: 'batch', entries: parts.entries, hardState });
    const lastTerm = termAt(this.#written, lastIndex(this.#written))!;
    if (lastTerm > this.#written.hardState.term) {
      throw new InvariantError(
        'ready contract',
        `the log holds term ${lastTerm} beyond the persisted current term ${this.#written.hardState.term}`,
      );
    }
  }

  /** The application's snapshot at `snapshot.meta.index`: drop the log up to it, keep the rest. */
  saveSnapshot(snapshot: Snapshot): void {
    this.#append({ kind: 'snapshot', snapshot, keepLog: true });
  }

  /** Start an fsync; returns the token to pass to {@link completeSync} when it finishes. */
  beginSync(): number {
    return this.#writtenCount;
  }

  /** An fsync started at `token` finished: everything written before it is durable. */
  completeSync(token: number): void {
    if (this.#bug === 'lyingFsync') return;
    while (this.#durableCount < token && this.#pending.length > 0) {
      applyRecord(this.#durable, this.#pending.shift()!);
      this.#durableCount++;
    }
  }

  /**
   * Power loss: the page cache is gone, except that the first `keep` unsynced writes had
   * reached the platters (a torn tail). Afterwards the disk reads back its durable image.
   */
  crash(keep: number): void {
    const kept = this.#pending.slice(0, Math.max(0, Math.min(keep, this.#pending.length)));
    for (const record of kept) applyRecord(this.#durable, record);
    this.#durableCount += kept.length;
    this.#writtenCount = this.#durableCount;
    this.#pending = [];
    this.#written = cloneImage(this.#durable);
  }

  /** Read back what a restarting node finds. */
  load(bootstrapConf: RestoredState['bootstrapConf']): RestoredState {
    const image = this.#written;
    return {
      hardState: image.hardState,
      ...(image.snapshot ? { snapshot: image.snapshot } : {}),
      entries: [...image.entries],
      ...(bootstrapConf ? { bootstrapConf } : {}),
    };
  }

  /** The checks of the next entry look at the log with the entries before it in this Ready. */
  #writeEntry(entry: Entry): void {
    const image = this.#written;
    image.entries.length = entry.index - snapIndex(image) - 1;
    image.entries.push(entry);
  }

  #append(record: DiskRecord): void {
    this.#pending.push(record);
    this.#writtenCount++;
    applyRecord(this.#written, record);
  }
}

function cloneImage(image: DiskImage): DiskImage {
  return { hardState: image.hardState, snapshot: image.snapshot, entries: [...image.entries] };
}
