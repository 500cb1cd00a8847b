/**
 * The in-memory Raft log after the latest snapshot (etcd's `raftLog` + `unstable` in one).
 *
 * Every entry after the snapshot is kept in memory; `unstableFrom` marks the first entry not
 * yet handed to a Ready (to be persisted), `persisted` the last one the caller has confirmed
 * durable through `advance()`. A snapshot received from a leader is held in `pendingSnapshot`
 * until a Ready hands it out. Conflicting entries are truncated (§5.3), never committed ones.
 */
import type { ConfState, Entry, Snapshot } from '../types.js';
import { confAfter } from './conf.js';

export class RaftLog {
  /** The latest snapshot: sent to peers that need compacted entries. */
  snapshot: Snapshot | undefined;
  /** A snapshot to persist and apply, handed out by the next Ready. */
  pendingSnapshot: Snapshot | undefined;
  snapIndex: number;
  snapTerm: number;
  /** The configuration in force at snapIndex. */
  snapConf: ConfState;
  committed: number;
  applied: number;
  /** Last index known durable (confirmed by advance()). */
  persisted: number;
  /** First index not yet handed out in a Ready. */
  unstableFrom: number;
  #entries: Entry[];

  constructor(base: ConfState, snapshot: Snapshot | undefined, entries: readonly Entry[]) {
    this.snapshot = snapshot;
    this.snapIndex = snapshot?.meta.index ?? 0;
    this.snapTerm = snapshot?.meta.term ?? 0;
    this.snapConf = snapshot?.meta.conf ?? base;
    this.#entries = entries.filter((e) => e.index > this.snapIndex);
    this.committed = this.snapIndex;
    this.applied = this.snapIndex;
    this.persisted = this.lastIndex();
    this.unstableFrom = this.lastIndex() + 1;
  }

  firstIndex(): number {
    return this.snapIndex + 1;
  }

  lastIndex(): number {
    return this.snapIndex + this.#entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex())!;
  }

  /** The term of the entry at `i`; undefined when compacted away or beyond the end. */
  term(i: number): number | undefined {
    if (i === this.snapIndex) return this.snapTerm;
    if (i < this.snapIndex || i > this.lastIndex()) return undefined;
    return this.#entries[i - this.snapIndex - 1]!.term;
  }

  entry(i: number): Entry | undefined {
    if (i <= this.snapIndex || i > this.lastIndex()) return undefined;
    return this.#entries[i - this.snapIndex - 1];
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term;
  }

  /** §5.4.1: a candidate's log is at least as up-to-date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Entries in [lo, hi); lo must be > snapIndex. */
  slice(lo: number, hi: number): Entry[] {
    return this.#entries.slice(lo - this.snapIndex - 1, hi - this.snapIndex - 1);
  }

  /**
   * Entries from `lo` on, at least one (when there is one) and then as many as fit in
   * `maxBytes` of data. Undefined when `lo` was compacted away (send a snapshot instead).
   */
  entriesFrom(lo: number, maxBytes: number): Entry[] | undefined {
    if (lo <= this.snapIndex) return undefined;
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo; i <= this.lastIndex(); i++) {
      const e = this.entry(i)!;
      size += e.data.length;
      if (out.length > 0 && size > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /**
   * The first index of the run of entries of term `term(i)` that ends at `i`, but not below
   * `floor` (the scan stops there: entries up to the commit index match the leader anyway).
   */
  firstIndexOfTermAt(i: number, floor: number): number {
    const t = this.term(i);
    const stop = Math.max(floor, this.snapIndex + 1);
    let j = i;
    while (j > stop && this.term(j - 1) === t) j--;
    return j;
  }

  /** The largest index <= `i` whose term is <= `term` (snapIndex at worst). */
  lastIndexWithTermAtMost(i: number, term: number): number {
    let j = Math.min(i, this.lastIndex());
    while (j > this.snapIndex && this.term(j)! > term) j--;
    return j;
  }

  /**
   * Appends `entries`, truncating ours from `entries[0].index` on. Returns the index the log
   * was truncated at (entries from there were replaced), or undefined for a pure append.
   */
  append(entries: readonly Entry[]): number | undefined {
    if (entries.length === 0) return undefined;
    const first = entries[0]!.index;
    let truncatedAt: number | undefined;
    if (first <= this.lastIndex()) {
      truncatedAt = first;
      this.#entries.length = first - this.snapIndex - 1;
      this.unstableFrom = Math.min(this.unstableFrom, first);
      this.persisted = Math.min(this.persisted, first - 1);
    }
    for (const e of entries) this.#entries.push(e);
    return truncatedAt;
  }

  /** The first entry of `entries` that is new or conflicts with ours; undefined when we have all. */
  findConflict(entries: readonly Entry[]): Entry | undefined {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e;
    }
    return undefined;
  }

  commitTo(index: number): boolean {
    if (index > this.committed) {
      this.committed = Math.min(index, this.lastIndex());
      return true;
    }
    return false;
  }

  /**
   * Entries committed and not yet handed out to be applied (up to the log's end), at least one
   * and then up to `maxBytes` of data, so that replaying a long log after a restart comes in
   * bounded batches rather than one huge Ready.
   */
  nextCommitted(maxBytes = Infinity): Entry[] {
    const from = Math.max(this.applied, this.snapIndex) + 1;
    const to = Math.min(this.committed, this.lastIndex());
    const out: Entry[] = [];
    let size = 0;
    for (let i = from; i <= to; i++) {
      const e = this.entry(i)!;
      size += e.data.length;
      if (out.length > 0 && size > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  hasNextCommitted(): boolean {
    return Math.min(this.committed, this.lastIndex()) > Math.max(this.applied, this.snapIndex);
  }

  unstableEntries(): Entry[] {
    return this.unstableFrom <= this.lastIndex()
      ? this.slice(Math.max(this.unstableFrom, this.snapIndex + 1), this.lastIndex() + 1)
      : [];
  }

  /** Entries up to `unstableFrom` are now handed to a Ready. */
  markHandedOut(): void {
    this.unstableFrom = this.lastIndex() + 1;
  }

  /** advance(): the Ready's entries ending at (index, term) are durable, unless replaced since. */
  stableTo(index: number, term: number): void {
    // compacted meanwhile (so committed, so the same entry) or still the same entry
    if (index <= this.snapIndex || this.matchTerm(index, term)) this.persisted = Math.max(this.persisted, index);
  }

  /** Replaces the whole log by a snapshot received from the leader (§7). */
  restore(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.pendingSnapshot = snapshot;
    this.snapIndex = snapshot.meta.index;
    this.snapTerm = snapshot.meta.term;
    this.snapConf = snapshot.meta.conf;
    this.#entries = [];
    this.committed = snapshot.meta.index;
    this.persisted = snapshot.meta.index;
    this.unstableFrom = snapshot.meta.index + 1;
  }

  /** The configuration in force once the entries up to `index` are appended. */
  confAt(index: number): ConfState {
    return confAfter(this.snapConf, this.slice(this.snapIndex + 1, Math.min(index, this.lastIndex()) + 1));
  }

  /** Keeps `data` as the snapshot at `index` and drops the entries up to it. */
  compact(index: number, data: Uint8Array): void {
    const term = this.term(index)!;
    const conf = this.confAt(index);
    this.#entries = this.#entries.slice(index - this.snapIndex);
    this.snapshot = { meta: { index, term, conf }, data };
    this.snapIndex = index;
    this.snapTerm = term;
    this.snapConf = conf;
  }
}
