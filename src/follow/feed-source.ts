/**
 * The member's side of the state feed (`/shoal/feed/1.0.0`): serves observers the committed
 * entries it applies, from a bounded ring, after a snapshot when they are too far behind.
 *
 * The member's Raft driver calls {@link FeedSource.onApplied} with every batch of committed
 * entries it applied, and {@link FeedSource.onSnapshotRestored} when a snapshot replaced its
 * state; the source never reads the Raft log. Each subscriber is a cursor into the ring (the
 * index it was sent up to), not a copy of the entries, so a member holds one ring however many
 * observers follow it. A snapshot is encoded once and reused for every subscriber that needs one
 * while the ring still holds the entries after it.
 */
import type { Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import { DEFAULT_MAX_FRAME_BYTES, readFrames, writeFrame } from '../p2p/frames.js';
import type { P2PHost, StreamContext } from '../p2p/host.js';
import type { Clock, TimerHandle } from '../raft/driver/clock.js';
import type { ConfState, Entry, NodeId } from '../raft/types.js';
import { lagVerdict, planCatchUp } from './decisions.js';
import { FeedLagError, FeedProtocolError } from './errors.js';
import { EntryRing, type EntryRingOptions } from './ring.js';
import { FEED_PROTOCOL, parseFeedRequest, type FeedFrame, type FeedView } from './wire.js';

/** A state-machine snapshot: the state after applying every entry up to `index`. */
export interface FeedSnapshot {
  readonly index: number;
  /** The term of the entry at `index` (informational: observers expose it, nothing checks it). */
  readonly term: number;
  readonly data: Uint8Array;
}

/** What the source uses; each is read when needed, never cached beyond one frame. */
export interface FeedSourceDeps {
  /** Register and remove the protocol handler. */
  readonly host: Pick<P2PHost, 'handle' | 'unhandle'>;
  /** Snapshot the state machine now, at the index it has applied. */
  readonly snapshot: () => FeedSnapshot;
  readonly leader: () => NodeId | null;
  readonly conf: () => ConfState;
  readonly clock: Clock;
  readonly logger?: Logger;
}

export interface FeedSourceOptions {
  readonly ring?: EntryRingOptions;
  /** Unsent bytes a subscriber may have waiting before it is dropped. Default 16 MiB. */
  readonly maxLagBytes?: number;
  /** A frame is sent at least this often, a keepalive when there is nothing else. Default 1,000 ms. */
  readonly keepaliveMs?: number;
  /** Most entries per frame. Default 512. */
  readonly batchEntries?: number;
  /** Most entry bytes per frame (one larger entry still goes alone). Default 1 MiB. */
  readonly batchBytes?: number;
  /** Snapshot bytes per frame. Default 1 MiB. */
  readonly chunkBytes?: number;
  /** Largest frame either way. Default 16 MiB. */
  readonly maxFrameBytes?: number;
  /** How long a new stream may take to say what it wants. Default 10,000 ms. */
  readonly requestTimeoutMs?: number;
  /** Most subscribers at once; more are refused (they fail over to another member). Default 256. */
  readonly maxSubscribers?: number;
}

interface Subscriber {
  readonly peerId: string;
  readonly stream: Stream;
  /** Index of the last entry sent (or covered by the snapshot sent). */
  sent: number;
  needsSnapshot: boolean;
  closed: boolean;
  lastSendAt: number;
  wake: (() => void) | null;
}

/**
 * @example
 * const feed = new FeedSource({ host, snapshot, leader: () => raft.leader, conf: () => raft.appliedConf, clock });
 * await feed.start();
 * feed.onApplied(committedEntries); // from the Raft driver, after applying them
 */
export class FeedSource {
  readonly #deps: FeedSourceDeps;
  readonly #ring: EntryRing;
  readonly #maxLagBytes: number;
  readonly #keepaliveMs: number;
  readonly #batchEntries: number;
  readonly #batchBytes: number;
  readonly #chunkBytes: number;
  readonly #maxFrameBytes: number;
  readonly #requestTimeoutMs: number;
  readonly #maxSubscribers: number;
  readonly #subscribers = new Set<Subscriber>();
  /** False until an applied batch or a restore told the ring where the log is. */
  #known = false;
  #cached: FeedSnapshot | null = null;
  #state: 'new' | 'started' | 'stopped' = 'new';

  constructor(deps: FeedSourceDeps, options: FeedSourceOptions = {}) {
    this.#deps = deps;
    this.#ring = new EntryRing(options.ring);
    this.#maxLagBytes = options.maxLagBytes ?? 16 * 1024 * 1024;
    this.#keepaliveMs = options.keepaliveMs ?? 1_000;
    this.#batchEntries = options.batchEntries ?? 512;
    this.#batchBytes = options.batchBytes ?? 1024 * 1024;
    this.#chunkBytes = options.chunkBytes ?? 1024 * 1024;
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#maxSubscribers = options.maxSubscribers ?? 256;
  }

  /** Peers following this member now. */
  subscribers(): string[] {
    return [...this.#subscribers].map((s) => s.peerId);
  }

  /** The ring's bounds: catch-up from memory is possible for observers at `base` or later. */
  ringBounds(): { readonly base: number; readonly last: number; readonly bytes: number } {
    return { base: this.#ring.base, last: this.#ring.last, bytes: this.#ring.bytes };
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    this.#state = 'started';
    await this.#deps.host.handle(FEED_PROTOCOL, (stream, context) => this.serve(stream, context), {
      maxInboundStreams: this.#maxSubscribers + 16,
    });
  }

  /** Stop serving and end every subscriber's stream (they fail over). Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasStarted = this.#state === 'started';
    this.#state = 'stopped';
    for (const sub of this.#subscribers) this.#drop(sub, new Error('feed source stopped'));
    if (wasStarted) await this.#deps.host.unhandle(FEED_PROTOCOL).catch(() => undefined);
  }

  /**
   * Committed entries this member just applied, in order. Entries at or below what the ring
   * has are ignored. A gap (entries the caller did not pass on) cannot be served from memory:
   * the ring restarts after it and subscribers behind it resync by snapshot.
   */
  onApplied(entries: readonly Entry[]): void {
    const fresh = entries.filter((e) => e.index > this.#ring.last);
    if (fresh.length === 0) return;
    if (!this.#known || fresh[0]!.index !== this.#ring.last + 1) {
      if (this.#known) {
        this.#deps.logger?.warn(
          { last: this.#ring.last, next: fresh[0]!.index },
          'feed: applied entries skip indexes; observers behind the gap resync by snapshot',
        );
      }
      this.#restartRing(fresh[0]!.index - 1);
    }
    for (let i = 1; i < fresh.length; i++) {
      if (fresh[i]!.index !== fresh[i - 1]!.index + 1) {
        this.onApplied(fresh.slice(0, i));
        this.onApplied(fresh.slice(i));
        return;
      }
    }
    this.#ring.push(fresh);
    for (const sub of this.#subscribers) {
      if (sub.needsSnapshot) continue;
      const verdict = lagVerdict({
        sent: sub.sent,
        ring: this.#ring,
        writeBuffered: sub.stream.writeBufferLength,
        maxLagBytes: this.#maxLagBytes,
      });
      if (verdict === null) sub.wake?.();
      else this.#drop(sub, new FeedLagError(sub.peerId, `Dropped feed subscriber ${sub.peerId}: ${verdict.message}`));
    }
  }

  /** A snapshot replaced this member's state at `index`: what the ring held no longer leads there. */
  onSnapshotRestored(index: number): void {
    this.#restartRing(index);
  }

  #restartRing(index: number): void {
    this.#ring.reset(index);
    this.#known = true;
    this.#cached = null;
    for (const sub of this.#subscribers) {
      if (sub.sent < index) {
        sub.needsSnapshot = true;
        sub.wake?.();
      }
    }
  }

  /** The protocol handler (registered by `start`; exposed for hosts that route streams themselves). */
  async serve(stream: Stream, { peerId }: StreamContext): Promise<void> {
    const log = this.#deps.logger;
    if (this.#state !== 'started' || this.#subscribers.size >= this.#maxSubscribers) {
      stream.abort(new Error(`feed source on this member is ${this.#state === 'started' ? 'full' : 'not serving'}`));
      return;
    }
    let from: number;
    const requests = readFrames(stream, { maxFrameBytes: 1024 });
    const deadline = this.#deps.clock.setTimeout(
      () => stream.abort(new FeedProtocolError(`no feed request within ${this.#requestTimeoutMs} ms`)),
      this.#requestTimeoutMs,
    );
    try {
      const first = await requests.next();
      if (first.done === true) throw new FeedProtocolError('Cannot serve the feed: the stream ended before a request');
      from = parseFeedRequest(first.value).from;
    } catch (err) {
      log?.warn({ peer: peerId, err }, 'bad feed request; stream reset');
      stream.abort(err instanceof Error ? err : new Error(String(err)));
      return;
    } finally {
      this.#deps.clock.clearTimeout(deadline);
      // Nothing more is expected from the observer; anything it sends hits the bounded read buffer.
      await requests.return(undefined);
    }
    const plan = planCatchUp(from, this.#ring, this.#known);
    const sub: Subscriber = {
      peerId,
      stream,
      sent: from,
      needsSnapshot: plan.kind === 'snapshot',
      closed: false,
      lastSendAt: this.#deps.clock.now(),
      wake: null,
    };
    stream.addEventListener(
      'close',
      () => {
        sub.closed = true;
        sub.wake?.();
      },
      { once: true },
    );
    this.#subscribers.add(sub);
    log?.debug({ peer: peerId, from, plan: plan.kind }, 'feed subscriber');
    try {
      await this.#pump(sub);
    } catch (err) {
      if (!sub.closed) stream.abort(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.#subscribers.delete(sub);
    }
  }

  async #pump(sub: Subscriber): Promise<void> {
    while (!sub.closed && this.#state === 'started') {
      if (sub.needsSnapshot) {
        await this.#sendSnapshot(sub);
      } else if (sub.sent < this.#ring.base) {
        this.#drop(sub, new FeedLagError(sub.peerId, `Dropped feed subscriber ${sub.peerId}: it fell behind the ring`));
      } else if (sub.sent < this.#ring.last) {
        const batch = this.#ring.after(sub.sent, this.#batchEntries, this.#batchBytes);
        await this.#send(sub, { t: 'entries', entries: batch, ...this.#view() });
        sub.sent = batch[batch.length - 1]!.index;
      } else if (this.#deps.clock.now() - sub.lastSendAt >= this.#keepaliveMs) {
        await this.#send(sub, { t: 'keepalive', index: this.#ring.last, ...this.#view() });
      } else {
        await this.#idle(sub);
      }
    }
  }

  /** Wait for new entries, a restore, the stream's end, or the next keepalive. */
  #idle(sub: Subscriber): Promise<void> {
    return new Promise((resolve) => {
      const wait = Math.max(1, this.#keepaliveMs - (this.#deps.clock.now() - sub.lastSendAt));
      let timer: TimerHandle | null = null;
      const done = (): void => {
        if (timer !== null) this.#deps.clock.clearTimeout(timer);
        sub.wake = null;
        resolve();
      };
      sub.wake = done;
      timer = this.#deps.clock.setTimeout(done, wait);
    });
  }

  async #sendSnapshot(sub: Subscriber): Promise<void> {
    const snap = this.#snapshot();
    sub.needsSnapshot = false;
    // The subscriber has what the snapshot holds (or more): entries will do. This covers a fresh
    // observer (from 0) at a member that has applied nothing: a snapshot at 0 is the empty state,
    // which the observer has, and which no frame can carry (a snapshot's index is at least 1).
    if (snap.index <= sub.sent) return;
    if (snap.data.byteLength === 0) throw new RangeError('Cannot send an empty snapshot on the feed');
    for (let offset = 0; offset < snap.data.byteLength; offset += this.#chunkBytes) {
      const chunk = snap.data.subarray(offset, offset + this.#chunkBytes);
      const frame: FeedFrame = {
        t: 'snapshot',
        index: snap.index,
        term: snap.term,
        size: snap.data.byteLength,
        offset,
        chunk,
        ...this.#view(),
      };
      await this.#send(sub, frame);
      // A restore while the chunks were going out makes this snapshot useless: start over.
      if (sub.needsSnapshot || sub.closed) return;
    }
    sub.sent = snap.index;
  }

  /** The cached snapshot while the ring holds everything after it, else a new one. */
  #snapshot(): FeedSnapshot {
    const cached = this.#cached;
    if (cached !== null && this.#known && cached.index >= this.#ring.base && cached.index <= this.#ring.last) {
      return cached;
    }
    const snap = this.#deps.snapshot();
    // Until something was applied, or when the caller skipped entries, the snapshot says where the log is.
    if (!this.#known || snap.index > this.#ring.last || snap.index < this.#ring.base) this.#restartRing(snap.index);
    this.#cached = snap;
    return snap;
  }

  #view(): FeedView {
    const conf = this.#deps.conf();
    return { leader: this.#deps.leader(), conf: { voters: [...conf.voters], learners: [...conf.learners] } };
  }

  async #send(sub: Subscriber, frame: FeedFrame): Promise<void> {
    await writeFrame(sub.stream, frame, { maxFrameBytes: this.#maxFrameBytes });
    sub.lastSendAt = this.#deps.clock.now();
  }

  #drop(sub: Subscriber, reason: Error): void {
    if (sub.closed) return;
    sub.closed = true;
    this.#deps.logger?.info({ peer: sub.peerId, err: reason }, 'feed subscriber dropped');
    sub.stream.abort(reason);
    sub.wake?.();
  }
}
