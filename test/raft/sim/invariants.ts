/**
 * The global safety checks of the simulator (Raft paper Figure 3), fed by every node as it
 * writes, commits and applies:
 *
 * - election safety: at most one leader per term, ever (a map term -> leader);
 * - log matching: an (index, term) pair names one entry, whose predecessor has one term — by
 *   induction, two logs that share an (index, term) agree on every entry up to it;
 * - leader completeness: a leader of term T holds every entry committed in terms before T;
 * - state machine safety: every node applies the same entry at each index, and its state
 *   machine (a hash chain over the applied entries) equals the global one at that index;
 * - linearizable reads: a ReadIndex answer covers every write acknowledged before the request.
 */
import { EntryType, type Entry, type HardState, type NodeId } from '../../../src/raft/types.js';
import { entryAt, lastIndex, termAt, type DiskImage } from './disk.js';
import { InvariantError } from './trace.js';

/** A compact fingerprint of an entry's content (not its index). */
export function fingerprint(entry: Entry): string {
  let hex = '';
  for (const byte of entry.data) hex += byte.toString(16).padStart(2, '0');
  return `${entry.term}:${entry.type}:${hex}`;
}

/** One step of the state machines' hash chain (FNV-1a over the fingerprint). */
export function chainHash(previous: number, entry: Entry): number {
  let h = (previous ^ 0x811c9dc5) >>> 0;
  const text = `${entry.index}|${fingerprint(entry)}`;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

interface AppliedRecord {
  readonly fp: string;
  readonly chain: number;
  readonly entry: Entry;
}

export class SafetyChecker {
  readonly #leaders = new Map<number, NodeId>();
  /** "index/term" -> "prevTerm/fingerprint". */
  readonly #logPairs = new Map<string, string>();
  /** index -> fingerprint of the committed entry there. */
  readonly #committed = new Map<number, string>();
  /** term -> highest commit index any node reported while in that term. */
  readonly #commitByTerm = new Map<number, number>();
  readonly #commitRecorded = new Map<NodeId, number>();
  readonly #leaderVerified = new Map<string, number>();
  readonly #applied = new Map<number, AppliedRecord>();
  /** proposal id -> index where its proposer applied it. */
  readonly acked = new Map<string, number>();
  #maxAcked = 0;
  readonly #reads = new Map<string, number>();

  get leaders(): ReadonlyMap<number, NodeId> {
    return this.#leaders;
  }

  /** The global applied history (index -> entry). */
  get appliedHistory(): ReadonlyMap<number, AppliedRecord> {
    return this.#applied;
  }

  observeLeader(node: NodeId, term: number): void {
    const existing = this.#leaders.get(term);
    if (existing === undefined) this.#leaders.set(term, node);
    else if (existing !== node) {
      throw new InvariantError('election safety', `two leaders in term ${term}: ${existing} and ${node}`);
    }
  }

  onEntryWritten(node: NodeId, entry: Entry, prevTerm: number): void {
    const key = `${entry.index}/${entry.term}`;
    const value = `${prevTerm}/${fingerprint(entry)}`;
    const existing = this.#logPairs.get(key);
    if (existing === undefined) this.#logPairs.set(key, value);
    else if (existing !== value) {
      throw new InvariantError(
        'log matching',
        `${node} wrote entry ${key} as (prevTerm/content) ${value}, but another log has ${existing} at ${key}`,
      );
    }
  }

  /** A node persisted `hardState`; the entries up to its commit index (in `image`) are committed. */
  observeHardState(node: NodeId, hardState: HardState, image: DiskImage): void {
    const base = image.snapshot?.meta.index ?? 0;
    const from = Math.max(this.#commitRecorded.get(node) ?? 0, base) + 1;
    for (let i = from; i <= hardState.commit; i++) {
      const entry = entryAt(image, i);
      if (!entry) continue;
      const fp = fingerprint(entry);
      const existing = this.#committed.get(i);
      if (existing === undefined) this.#committed.set(i, fp);
      else if (existing !== fp) {
        throw new InvariantError(
          'state machine safety',
          `${node} commits ${fp} at index ${i}, where ${existing} was committed`,
        );
      }
    }
    this.#commitRecorded.set(node, Math.max(this.#commitRecorded.get(node) ?? 0, hardState.commit));
    this.#commitByTerm.set(hardState.term, Math.max(this.#commitByTerm.get(hardState.term) ?? 0, hardState.commit));
  }

  /** The highest index known committed by a leader of a term below `term`. */
  committedBefore(term: number): number {
    let max = 0;
    for (const [t, commit] of this.#commitByTerm) if (t < term && commit > max) max = commit;
    return max;
  }

  /**
   * `node` leads `term` and its log (`image`, written after its first Ready as leader) is its
   * whole log: it must hold every entry committed before `term`.
   */
  checkLeaderCompleteness(node: NodeId, term: number, image: DiskImage): void {
    const key = `${node}/${term}`;
    const upTo = this.committedBefore(term);
    const verified = this.#leaderVerified.get(key) ?? 0;
    if (upTo <= verified) return;
    if (lastIndex(image) < upTo) {
      throw new InvariantError(
        'leader completeness',
        `${node} leads term ${term} with a log ending at ${lastIndex(image)}, but index ${upTo} was committed in an earlier term`,
      );
    }
    const base = image.snapshot?.meta.index ?? 0;
    for (let i = Math.max(verified, base) + 1; i <= upTo; i++) {
      const fp = this.#committed.get(i);
      const entry = entryAt(image, i)!;
      if (fp !== undefined && fingerprint(entry) !== fp) {
        throw new InvariantError(
          'leader completeness',
          `${node} leads term ${term} with ${fingerprint(entry)} at index ${i}, but ${fp} was committed there`,
        );
      }
    }
    if (base > 0 && termAt(image, base) === undefined)
      throw new InvariantError('leader completeness', `${node} has a snapshot with no term`);
    this.#leaderVerified.set(key, upTo);
  }

  /** `node` applies `entry` on top of state `chain`; returns the new chain. */
  onApply(node: NodeId, entry: Entry, chain: number): number {
    const fp = fingerprint(entry);
    const next = chainHash(chain, entry);
    const committed = this.#committed.get(entry.index);
    if (committed !== undefined && committed !== fp) {
      throw new InvariantError(
        'state machine safety',
        `${node} applies ${fp} at index ${entry.index}, where ${committed} was committed`,
      );
    }
    const existing = this.#applied.get(entry.index);
    if (!existing) this.#applied.set(entry.index, { fp, chain: next, entry });
    else if (existing.fp !== fp) {
      throw new InvariantError(
        'state machine safety',
        `${node} applies ${fp} at index ${entry.index}, where another node applied ${existing.fp}`,
      );
    } else if (existing.chain !== next) {
      throw new InvariantError(
        'state machine safety',
        `${node}'s state after index ${entry.index} differs from another node's (hash ${next} vs ${existing.chain})`,
      );
    }
    return next;
  }

  /** `node` restored a snapshot of the state at `index` with hash `chain`. */
  onRestore(node: NodeId, index: number, chain: number): void {
    if (index === 0) return;
    const existing = this.#applied.get(index);
    if (!existing) {
      throw new InvariantError(
        'state machine safety',
        `${node} restored a snapshot at index ${index}, a state no node ever applied`,
      );
    }
    if (existing.chain !== chain) {
      throw new InvariantError(
        'state machine safety',
        `${node} restored a snapshot at index ${index} whose state differs from the applied one`,
      );
    }
  }

  /** The proposer applied its own proposal `id` at `index`: the client got its answer. */
  ack(id: string, index: number): void {
    if (this.acked.has(id))
      throw new InvariantError(
        'exactly once',
        `proposal ${id} acknowledged twice (at ${this.acked.get(id)} and ${index})`,
      );
    this.acked.set(id, index);
    this.#maxAcked = Math.max(this.#maxAcked, index);
  }

  /** A ReadIndex request starts now: it must see every write acknowledged so far. */
  requestRead(context: string): void {
    this.#reads.set(context, this.#maxAcked);
  }

  onReadState(node: NodeId, context: string, index: number): void {
    const floor = this.#reads.get(context);
    if (floor === undefined)
      throw new InvariantError('linearizable read', `${node} got a ReadState for unknown context ${context}`);
    if (index >= 0 && index < floor) {
      throw new InvariantError(
        'linearizable read',
        `${node} serves read ${context} at index ${index}, but a write at index ${floor} was acknowledged before the read began`,
      );
    }
  }

  /** Entries whose data is `data`, across the global history (for exactly-once). */
  countApplied(predicate: (entry: Entry) => boolean): Map<string, number[]> {
    const out = new Map<string, number[]>();
    const decoder = new TextDecoder();
    for (const [index, record] of this.#applied) {
      if (record.entry.type !== EntryType.Normal || !predicate(record.entry)) continue;
      const key = decoder.decode(record.entry.data);
      const list = out.get(key) ?? [];
      list.push(index);
      out.set(key, list);
    }
    return out;
  }
}
