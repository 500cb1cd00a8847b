/**
 * Chunked InstallSnapshot transfers from the leader (§7), one per peer. A transfer keeps the
 * snapshot it started with (a newer compaction does not disturb it), sends chunks of
 * `chunkSize` bytes with up to `window` chunks unacknowledged, and moves on as the follower
 * reports how many bytes it `received`. A repeated acknowledgement of the same count means a
 * chunk was lost: resend from there (TCP's fast retransmit); a heartbeat round without progress
 * does the same (`retransmit`). A reject restarts the transfer from byte 0.
 */
import type { Snapshot } from '../types.js';

/** One chunk to send. */
export interface Chunk {
  readonly offset: number;
  readonly chunk: Uint8Array;
  readonly done: boolean;
}

interface Transfer {
  readonly snapshot: Snapshot;
  acked: number;
  sent: number;
  /** The final chunk has been sent since the last (re)start. */
  lastSent: boolean;
  /** `acked` at the previous stall check, and how many checks in a row saw no progress. */
  checkedAck: number;
  stalls: number;
  /** The `acked` value we last rewound to: rewind once per loss, as TCP's fast retransmit does. */
  rewoundAt: number;
  /**
   * The lowest count the follower reported since the last stall check. Acknowledgements of a
   * transfer that was restarted can arrive after the restart and claim more than the follower
   * now has; a stall then resends from what the follower says, not from what we believed.
   */
  lowest: number;
}

export class SnapshotSender {
  readonly #chunkSize: number;
  readonly #window: number;
  #transfers = new Map<string, Transfer>();

  constructor(chunkSize: number, window = 4) {
    this.#chunkSize = chunkSize;
    this.#window = window;
  }

  /** Starts (or restarts) sending `snapshot` to `peer`; returns the first chunks. */
  start(peer: string, snapshot: Snapshot): Chunk[] {
    this.#transfers.set(peer, {
      snapshot,
      acked: 0,
      sent: 0,
      lastSent: false,
      checkedAck: -1,
      stalls: 0,
      rewoundAt: -1,
      lowest: Infinity,
    });
    return this.#fill(peer);
  }

  /** The snapshot being sent to `peer`, if any. */
  snapshotOf(peer: string): Snapshot | undefined {
    return this.#transfers.get(peer)?.snapshot;
  }

  /** The follower reported `received` bytes of the snapshot at (index, term); returns chunks to send. */
  ack(peer: string, index: number, term: number, received: number): Chunk[] {
    const t = this.#transfer(peer, index, term);
    if (!t) return [];
    t.lowest = Math.min(t.lowest, received);
    if (received === t.acked && received < t.sent && t.rewoundAt !== received) {
      // A duplicate acknowledgement: the chunk at `received` was lost or reordered. Resend from
      // there once; further duplicates for the same offset come from chunks already in flight
      // (resending on each of them would storm), and a lost resend is caught by the stall check.
      t.sent = received;
      t.lastSent = false;
      t.rewoundAt = received;
    }
    t.acked = Math.max(t.acked, Math.min(received, t.snapshot.data.length));
    if (t.sent < t.acked) t.sent = t.acked;
    return this.#fill(peer);
  }

  /** The follower lost the transfer: start again from byte 0. */
  reject(peer: string, index: number, term: number): Chunk[] {
    const t = this.#transfer(peer, index, term);
    if (!t) return [];
    return this.start(peer, t.snapshot);
  }

  /**
   * Called once per heartbeat round: when nothing was acknowledged for two rounds, chunks
   * were lost, so resend from the last acknowledged byte.
   */
  retransmitIfStalled(peer: string): Chunk[] {
    const t = this.#transfers.get(peer);
    if (!t) return [];
    t.stalls = t.acked === t.checkedAck ? t.stalls + 1 : 0;
    t.checkedAck = t.acked;
    const lowest = t.lowest;
    t.lowest = Infinity;
    // two rounds without progress: a slow link gets one round of grace before we resend
    if (t.stalls < 2) return [];
    t.stalls = 0;
    // from what the follower last said it has, when that is less (seed 18003 sent from 32
    // forever to a follower at 24: its restarted transfer had been credited with old acks)
    t.acked = Math.min(t.acked, lowest);
    t.sent = t.acked;
    t.lastSent = false;
    t.rewoundAt = t.acked;
    return this.#fill(peer);
  }

  /** Forgets the transfer to `peer` (done, peer removed, or leadership lost). */
  stop(peer: string): void {
    this.#transfers.delete(peer);
  }

  clear(): void {
    this.#transfers.clear();
  }

  #transfer(peer: string, index: number, term: number): Transfer | undefined {
    const t = this.#transfers.get(peer);
    if (!t || t.snapshot.meta.index !== index || t.snapshot.meta.term !== term) return undefined;
    return t;
  }

  #fill(peer: string): Chunk[] {
    const t = this.#transfers.get(peer)!;
    const data = t.snapshot.data;
    const out: Chunk[] = [];
    while (!t.lastSent && t.sent - t.acked < this.#window * this.#chunkSize) {
      const end = Math.min(t.sent + this.#chunkSize, data.length);
      const done = end === data.length;
      out.push({ offset: t.sent, chunk: data.subarray(t.sent, end), done });
      t.sent = end;
      if (done) t.lastSent = true;
    }
    return out;
  }
}
