/**
 * The bounded ring of recently applied entries a feed source serves catch-up from. Pure: no
 * clock, no I/O. Entries are contiguous by index; the oldest are evicted when the ring holds
 * more than `maxEntries` or `maxBytes`. A running byte total lets a source tell in O(1) how many
 * bytes a subscriber at a given index still has to receive.
 */
import type { Entry } from '../raft/types.js';
import { entryBytes } from './wire.js';

export interface EntryRingOptions {
  /** Most entries kept. Default 4,096. */
  readonly maxEntries?: number;
  /** Most entry bytes kept (see `entryBytes`). Default 8 MiB. */
  readonly maxBytes?: number;
}

/**
 * @example
 * const ring = new EntryRing({ maxEntries: 3 });
 * ring.reset(10);
 * ring.push([e11, e12, e13, e14]); // holds 12..14
 * ring.after(12, 10, 1 << 20); // [e13, e14]
 */
export class EntryRing {
  readonly maxEntries: number;
  readonly maxBytes: number;
  #entries: Entry[] = [];
  /** Running byte total after each entry, parallel to #entries. */
  #cumulative: number[] = [];
  /** Position of the oldest kept entry in the arrays (they are compacted now and then). */
  #head = 0;
  /** Index of the entry before the oldest kept one (the ring's "snapshot point"). */
  #base = 0;
  /** Running byte total at #base. */
  #baseBytes = 0;
  #totalBytes = 0;

  constructor(options: EntryRingOptions = {}) {
    this.maxEntries = options.maxEntries ?? 4_096;
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`Cannot size the ring with maxEntries ${this.maxEntries}: expected an integer >= 1`);
    }
    if (!Number.isInteger(this.maxBytes) || this.maxBytes < 1) {
      throw new RangeError(`Cannot size the ring with maxBytes ${this.maxBytes}: expected an integer >= 1`);
    }
  }

  /** Index of the oldest entry a subscriber can be caught up from: it must have applied this one. */
  get base(): number {
    return this.#base;
  }

  /** Index of the newest entry (the base when empty). */
  get last(): number {
    return this.#base + this.size;
  }

  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Entry bytes held. */
  get bytes(): number {
    return this.#totalBytes - this.#baseBytes;
  }

  /** Forget everything; the next entry pushed must be `index + 1`. */
  reset(index: number): void {
    this.#entries = [];
    this.#cumulative = [];
    this.#head = 0;
    this.#base = index;
    this.#baseBytes = this.#totalBytes;
  }

  /**
   * Append entries that follow on from `last`, then evict the oldest over the bounds (never the
   * newest entry, however large).
   * @throws RangeError when they do not follow on: the caller must `reset` first.
   */
  push(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (e.index !== this.last + 1) {
        throw new RangeError(`Cannot add entry ${e.index} to the feed ring: expected ${this.last + 1}`);
      }
      this.#totalBytes += entryBytes(e);
      this.#entries.push(e);
      this.#cumulative.push(this.#totalBytes);
    }
    while (this.size > 1 && (this.size > this.maxEntries || this.bytes > this.maxBytes)) {
      this.#baseBytes = this.#cumulative[this.#head]!;
      this.#head++;
      this.#base++;
    }
    // Drop evicted slots once they are half the arrays, so the ring stays O(kept) in memory.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#cumulative = this.#cumulative.slice(this.#head);
      this.#head = 0;
    }
  }

  /** True when a subscriber that applied `index` can be caught up from the ring alone. */
  covers(index: number): boolean {
    return index >= this.#base && index <= this.last;
  }

  /** Bytes of the kept entries after `index` (0 when `index` is at or past the last). */
  bytesAfter(index: number): number {
    if (index >= this.last) return 0;
    const at = index <= this.#base ? this.#baseBytes : this.#cumulative[this.#head + index - this.#base - 1]!;
    return this.#totalBytes - at;
  }

  /**
   * Up to `maxCount` entries after `index`, at most `maxBytes` of them but always at least one.
   * @throws RangeError when `index` is older than the ring covers (the caller needs a snapshot).
   */
  after(index: number, maxCount: number, maxBytes: number): Entry[] {
    if (index < this.#base) {
      throw new RangeError(`Cannot read the feed ring after ${index}: it starts after ${this.#base}`);
    }
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = this.#head + index - this.#base; i < this.#entries.length && out.length < maxCount; i++) {
      const e = this.#entries[i]!;
      bytes += entryBytes(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }
}
