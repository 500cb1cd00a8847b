/**
 * The observer's side of the feed, without the stream: takes checked frames in order and applies
 * them to the state machine exactly as a Raft follower would (same entry, same index and term),
 * so an observer's state at index i is the members' state at i. Pure but for the state machine
 * it drives; the follower owns the stream, the timers and the failover.
 */
import type { ConfState, Entry, NodeId } from '../raft/types.js';
import { FeedProtocolError } from './errors.js';
import type { FeedFrame, SnapshotChunkFrame } from './wire.js';

/** What the follower applies to: `ClusterStateMachine` fits. */
export interface FollowedStateMachine {
  /** Apply one committed entry of any type (non-Normal entries only advance the applied index). */
  apply(entry: Entry): unknown;
  /** Replace the state with a snapshot's, taken at `index`; may throw on a bad snapshot. */
  restore(data: Uint8Array, index: number): void;
}

/** What one frame changed. */
export interface CursorStep {
  /** Entries applied, in order (empty for a keepalive or a partial snapshot). */
  readonly applied: readonly Entry[];
  /** Set when the frame completed a snapshot that was restored. */
  readonly restored?: { readonly index: number; readonly term: number };
  /** Set when the leader or configuration the frame carries differs from the last one. */
  readonly leaderChanged: boolean;
  readonly confChanged: boolean;
}

interface Assembly {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
  received: number;
}

export interface FeedCursorOptions {
  /** Largest snapshot accepted. Default 1 GiB. */
  readonly maxSnapshotBytes?: number;
}

export class FeedCursor {
  readonly #machine: FollowedStateMachine;
  readonly #maxSnapshotBytes: number;
  #applied: number;
  #appliedTerm = 0;
  #leader: NodeId | null = null;
  #conf: ConfState = { voters: [], learners: [] };
  #assembly: Assembly | null = null;

  constructor(machine: FollowedStateMachine, applied: number, options: FeedCursorOptions = {}) {
    this.#machine = machine;
    this.#applied = applied;
    this.#maxSnapshotBytes = options.maxSnapshotBytes ?? 1024 ** 3;
  }

  get applied(): number {
    return this.#applied;
  }

  get appliedTerm(): number {
    return this.#appliedTerm;
  }

  get leader(): NodeId | null {
    return this.#leader;
  }

  get conf(): ConfState {
    return this.#conf;
  }

  /** A new stream begins: a snapshot half received from the old one is worthless. */
  restart(): void {
    this.#assembly = null;
  }

  /**
   * Apply one frame.
   * @throws FeedProtocolError when the frame does not follow on from what was applied (a gap, a
   * repeat, a chunk at the wrong offset, entries in the middle of a snapshot).
   */
  accept(frame: FeedFrame): CursorStep {
    const leaderChanged = frame.leader !== this.#leader;
    const confChanged = !sameConf(frame.conf, this.#conf);
    this.#leader = frame.leader;
    if (confChanged) this.#conf = frame.conf;
    const base = { leaderChanged, confChanged };
    if (frame.t === 'keepalive') return { ...base, applied: [] };
    if (frame.t === 'snapshot') {
      const restored = this.#chunk(frame);
      return restored === null ? { ...base, applied: [] } : { ...base, applied: [], restored };
    }
    if (this.#assembly !== null) {
      throw new FeedProtocolError(
        `Cannot apply entries from ${frame.entries[0]!.index} as the snapshot at ${this.#assembly.index} is incomplete (${this.#assembly.received} of ${this.#assembly.data.byteLength} bytes)`,
      );
    }
    const first = frame.entries[0]!.index;
    if (first !== this.#applied + 1) {
      throw new FeedProtocolError(
        `Cannot apply entries from ${first} as the applied index is ${this.#applied}: the source ${first > this.#applied ? 'skipped' : 'repeated'} entries`,
      );
    }
    for (const entry of frame.entries) {
      this.#machine.apply(entry);
      this.#applied = entry.index;
      this.#appliedTerm = entry.term;
    }
    return { ...base, applied: frame.entries };
  }

  #chunk(frame: SnapshotChunkFrame): { index: number; term: number } | null {
    if (frame.offset === 0) {
      if (frame.index < this.#applied) {
        throw new FeedProtocolError(
          `Cannot accept a snapshot at ${frame.index} as the applied index is ${this.#applied}: it would roll the state back`,
        );
      }
      if (frame.size > this.#maxSnapshotBytes) {
        throw new FeedProtocolError(
          `Cannot accept a snapshot of ${frame.size} bytes, over the limit of ${this.#maxSnapshotBytes} bytes`,
        );
      }
      this.#assembly = { index: frame.index, term: frame.term, data: new Uint8Array(frame.size), received: 0 };
    }
    const a = this.#assembly;
    if (a === null || frame.index !== a.index || frame.size !== a.data.byteLength || frame.offset !== a.received) {
      const expected = a === null ? 'offset 0' : `index ${a.index}, size ${a.data.byteLength}, offset ${a.received}`;
      throw new FeedProtocolError(
        `Cannot accept snapshot chunk (index ${frame.index}, size ${frame.size}, offset ${frame.offset}): expected ${expected}`,
      );
    }
    a.data.set(frame.chunk, a.received);
    a.received += frame.chunk.byteLength;
    if (a.received < a.data.byteLength) return null;
    this.#assembly = null;
    try {
      this.#machine.restore(a.data, a.index);
    } catch (err) {
      throw new FeedProtocolError(`Cannot restore the snapshot at ${a.index}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.#applied = a.index;
    this.#appliedTerm = a.term;
    return { index: a.index, term: a.term };
  }
}

function sameConf(a: ConfState, b: ConfState): boolean {
  const same = (x: readonly string[], y: readonly string[]): boolean =>
    x.length === y.length && x.every((v, i) => v === y[i]);
  return same(a.voters, b.voters) && same(a.learners, b.learners);
}
