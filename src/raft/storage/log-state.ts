/**
 * The log as storage sees it: a floor (the snapshot index; entries at or below it are covered by
 * the snapshot) and the entries after it, with Raft's overwrite semantics. Shared by the memory
 * storage, the WAL writer's bookkeeping and WAL replay, so all three agree on what a sequence of
 * saves means. Pure: no I/O.
 * @internal
 */
import type { Entry, HardState } from '../types.js';

/** The hard state of a node that never saved one. */
export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: null, commit: 0 });

/** An append that would leave a hole in the log. */
export class LogGapError extends Error {
  constructor(
    readonly expected: number,
    readonly got: number,
  ) {
    super(`entries start at index ${got} but the log ends at ${expected - 1} (a gap)`);
  }
}

export interface LogStateOptions {
  /** Snapshot index. Default 0. */
  readonly floor?: number;
  /**
   * Last index, or null when unknown (replay starting at a segment after compacted ones: the
   * first append may then start anywhere). Default: `floor`.
   */
  readonly lastIndex?: number | null;
  /** Keep the entries themselves (false: only track indexes). Default true. */
  readonly keepEntries?: boolean;
}

/** Check that a batch is one contiguous run of indexes. */
export function assertContiguous(entries: readonly Entry[]): void {
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.index !== entries[i - 1]!.index + 1) {
      throw new RangeError(
        `Cannot save entries as they are not contiguous: index ${entries[i]!.index} follows ${entries[i - 1]!.index}`,
      );
    }
  }
}

export class LogState {
  #floor: number;
  #last: number | undefined;
  #entries: Entry[] | undefined;

  constructor(options: LogStateOptions = {}) {
    this.#floor = options.floor ?? 0;
    this.#last = options.lastIndex === null ? undefined : (options.lastIndex ?? this.#floor);
    this.#entries = options.keepEntries === false ? undefined : [];
  }

  /** The snapshot index: entries at or below it are covered by the snapshot. */
  get floor(): number {
    return this.#floor;
  }

  get lastIndex(): number {
    return Math.max(this.#last ?? this.#floor, this.#floor);
  }

  /** Entries after the floor (empty when entries are not kept). Do not mutate. */
  get entries(): readonly Entry[] {
    return this.#entries ?? [];
  }

  /** The first index after the floor that is missing before the first kept entry, if any. */
  gapAfterFloor(): number | undefined {
    const first = this.#entries?.[0];
    return first !== undefined && first.index !== this.#floor + 1 ? this.#floor + 1 : undefined;
  }

  /**
   * Append `batch` (contiguous), first discarding every entry at or after its first index, as
   * it was when written. Only entries above the floor are kept. Throws LogGapError.
   */
  append(batch: readonly Entry[]): void {
    const head = batch[0];
    if (head === undefined) return;
    // The snapshot covers everything up to the floor, so the log may continue right after it.
    if (this.#last !== undefined && head.index > this.lastIndex + 1)
      throw new LogGapError(this.lastIndex + 1, head.index);
    if (this.#entries !== undefined) {
      const first = this.#entries[0];
      if (first !== undefined)
        this.#entries.length = Math.max(0, Math.min(this.#entries.length, head.index - first.index));
      for (const e of batch) if (e.index > this.#floor) this.#entries.push(e);
    }
    this.#last = batch[batch.length - 1]!.index;
  }

  /** A snapshot replaces the log: every entry is dropped and the log continues after `index`. */
  reset(index: number): void {
    this.#floor = Math.max(this.#floor, index);
    this.#last = index;
    if (this.#entries !== undefined) this.#entries = [];
  }

  /** A snapshot covers the log up to `index`: drop those entries, keep the ones after. */
  compact(index: number): void {
    if (index <= this.#floor) return;
    this.#floor = index;
    if (this.#entries !== undefined) {
      const first = this.#entries[0];
      if (first !== undefined) this.#entries.splice(0, Math.max(0, index - first.index + 1));
    }
    this.#last = Math.max(this.#last ?? index, index);
  }

  clone(): LogState {
    const copy = new LogState({
      floor: this.#floor,
      lastIndex: this.#last ?? null,
      keepEntries: this.#entries !== undefined,
    });
    if (this.#entries !== undefined) copy.#entries = [...this.#entries];
    return copy;
  }
}

/** What one `save()` asks for, in the order it is applied. */
export interface SaveParts {
  readonly snapshot?: { readonly meta: { readonly index: number } };
  readonly entries: readonly Entry[];
}

/**
 * Reject a save that would corrupt the log, before anything is written: a snapshot older than
 * the one in place, entries that are not contiguous or that leave a gap.
 */
export function checkSave(log: LogState, parts: SaveParts): void {
  let last = log.lastIndex;
  if (parts.snapshot !== undefined) {
    const index = parts.snapshot.meta.index;
    if (index < log.floor) {
      throw new RangeError(
        `Cannot install snapshot at index ${index} as it is older than the stored snapshot at ${log.floor}`,
      );
    }
    last = index;
  }
  assertContiguous(parts.entries);
  const head = parts.entries[0];
  if (head !== undefined && head.index > last + 1) {
    throw new RangeError(
      `Cannot save entries from index ${head.index} as the log ends at ${last}: that would leave a gap`,
    );
  }
}
