/**
 * The leader's view of one peer's replication (etcd's `tracker.Progress`). No Raft types: the
 * leader decides what to send from `next`, `state` and `isPaused()`.
 *
 * - `probe`: we do not know where the peer's log matches ours; send one append at a time and
 *   wait for the answer before the next (`probeSent`).
 * - `replicate`: the peer accepted our last probe; stream appends optimistically, advancing
 *   `next` on send, up to `maxInflight` unacknowledged messages.
 * - `snapshot`: the peer needs entries we compacted; a snapshot transfer is under way and no
 *   appends are sent until it completes.
 */
import { Inflights } from './inflights.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append was sent and is unanswered. */
  probeSent = false;
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from within the current election timeout (check-quorum). */
  recentActive = false;
  voter: boolean;
  readonly inflights: Inflights;

  constructor(next: number, voter: boolean, maxInflight: number) {
    this.next = next;
    this.voter = voter;
    this.inflights = new Inflights(maxInflight);
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      this.next = Math.max(this.match + 1, this.pendingSnapshot + 1);
    } else {
      this.next = this.match + 1;
    }
    this.#reset('probe');
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.#reset('replicate');
  }

  becomeSnapshot(index: number): void {
    this.#reset('snapshot');
    this.pendingSnapshot = index;
  }

  #reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  /** An acknowledgement of `index`; returns whether `match` moved. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** An append whose last entry is `last` was sent. */
  sentEntries(last: number): void {
    if (this.state === 'replicate') {
      this.next = last + 1;
      this.inflights.add(last);
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /**
   * The peer rejected an append at `rejected`; move `next` back to `hinted` (already computed
   * from the peer's hint). Returns false for a stale rejection that says nothing new.
   */
  maybeDecrTo(rejected: number, hinted: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false; // stale: we know it matches there
      this.next = Math.max(this.match + 1, Math.min(rejected, hinted));
      return true;
    }
    if (this.next - 1 !== rejected) return false; // not the probe we are waiting for
    this.next = Math.max(this.match + 1, Math.min(rejected, hinted));
    this.probeSent = false;
    return true;
  }

  /** Whether the leader must hold further appends to this peer. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
