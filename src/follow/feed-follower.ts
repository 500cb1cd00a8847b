/**
 * The observer's side of the state feed: one long-lived stream to one Raft member, chosen by
 * rendezvous hash (non-leaders first), applying what it sends to the local state machine; when
 * the stream ends, goes silent or breaks the protocol, the next member is tried, asking for what
 * comes after the applied index, so nothing is applied twice or skipped.
 */
import { EventEmitter } from 'node:events';
import type { Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import { DEFAULT_MAX_FRAME_BYTES, readFrames, writeFrame } from '../p2p/frames.js';
import type { Clock, TimerHandle } from '../raft/driver/clock.js';
import type { ConfState, Entry, NodeId } from '../raft/types.js';
import { FeedCursor, type FollowedStateMachine } from './cursor.js';
import { chooseSource } from './decisions.js';
import { FEED_PROTOCOL, parseFeedFrame, type FeedRequest } from './wire.js';

export interface FeedFollowerDeps {
  readonly selfId: NodeId;
  /** Open a stream for `protocol` to a member (the agent: `host.dialProtocol` with its addresses). */
  readonly open: (peerId: NodeId, protocol: string, options: { readonly signal: AbortSignal }) => Promise<Stream>;
  /** Members to try until a feed frame named the configuration (then the frame's wins). */
  readonly members: () => readonly NodeId[];
  readonly stateMachine: FollowedStateMachine;
  readonly clock: Clock;
  readonly logger?: Logger;
}

export interface FeedFollowerOptions {
  /** The state machine's applied index at start (0 for an empty one). Default 0. */
  readonly applied?: number;
  /** A stream with no frame for this long is given up (sources send one a second). Default 3,000 ms. */
  readonly silenceMs?: number;
  /** A member that failed is tried again only after this long, unless every member failed. Default 5,000 ms. */
  readonly retryAfterMs?: number;
  /** Pause between attempts that received nothing, doubling from `min` to `max`. Default 100..2,000 ms. */
  readonly backoffMs?: { readonly min: number; readonly max: number };
  /** Dial and request timeout. Default 5,000 ms. */
  readonly openTimeoutMs?: number;
  readonly maxFrameBytes?: number;
  readonly maxSnapshotBytes?: number;
}

export interface FeedFollowerEvents {
  /** Entries applied to the state machine, in order. */
  'feed:applied': [entries: readonly Entry[]];
  /** A snapshot replaced the state. */
  'feed:restored': [index: number, term: number];
  'leader:change': [leader: NodeId | null];
  'conf:change': [conf: ConfState];
  /** The member followed now (null between streams). */
  'source:change': [source: NodeId | null];
  /** A stream to `source` ended; the follower moves on to another member. */
  'feed:error': [source: NodeId, error: Error];
}

interface Waiter {
  readonly index: number;
  readonly resolve: () => void;
}

/**
 * @example
 * const follower = new FeedFollower({ selfId, open, members, stateMachine, clock: realClock });
 * follower.start();
 * await follower.waitForApplied(42);
 */
export class FeedFollower extends EventEmitter<FeedFollowerEvents> {
  readonly #deps: FeedFollowerDeps;
  readonly #cursor: FeedCursor;
  readonly #silenceMs: number;
  readonly #retryAfterMs: number;
  readonly #backoff: { readonly min: number; readonly max: number };
  readonly #openTimeoutMs: number;
  readonly #maxFrameBytes: number;
  readonly #failedAt = new Map<NodeId, number>();
  #waiters: Waiter[] = [];
  #source: NodeId | null = null;
  #stop: AbortController | null = null;
  #running: Promise<void> | null = null;

  constructor(deps: FeedFollowerDeps, options: FeedFollowerOptions = {}) {
    super();
    this.#deps = deps;
    this.#cursor = new FeedCursor(deps.stateMachine, options.applied ?? 0, {
      ...(options.maxSnapshotBytes === undefined ? {} : { maxSnapshotBytes: options.maxSnapshotBytes }),
    });
    this.#silenceMs = options.silenceMs ?? 3_000;
    this.#retryAfterMs = options.retryAfterMs ?? 5_000;
    this.#backoff = options.backoffMs ?? { min: 100, max: 2_000 };
    this.#openTimeoutMs = options.openTimeoutMs ?? 5_000;
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  get appliedIndex(): number {
    return this.#cursor.applied;
  }

  get appliedTerm(): number {
    return this.#cursor.appliedTerm;
  }

  /** The leader as the followed member last said (null until a frame came, or during an election). */
  get leader(): NodeId | null {
    return this.#cursor.leader;
  }

  get conf(): ConfState {
    return this.#cursor.conf;
  }

  /** The member followed now, or null. */
  get source(): NodeId | null {
    return this.#source;
  }

  /** Start following. Idempotent. */
  start(): void {
    if (this.#stop !== null) return;
    this.#stop = new AbortController();
    this.#running = this.#run(this.#stop.signal);
  }

  /** Stop following and close the stream. Idempotent. */
  async stop(): Promise<void> {
    const stop = this.#stop;
    if (stop === null || stop.signal.aborted) return;
    stop.abort(new Error('feed follower stopped'));
    await this.#running;
  }

  /**
   * Resolve once the applied index reaches `index` (at once when it has).
   * @throws the signal's reason when it aborts first.
   */
  waitForApplied(index: number, options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    if (this.#cursor.applied >= index) return Promise.resolve();
    options.signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        index,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  async #run(stop: AbortSignal): Promise<void> {
    let delay = this.#backoff.min;
    while (!stop.aborted) {
      const conf = this.#cursor.conf;
      const fromFeed = [...conf.voters, ...conf.learners];
      const peer = chooseSource({
        self: this.#deps.selfId,
        members: fromFeed.length > 0 ? fromFeed : this.#deps.members(),
        leader: this.#cursor.leader,
        failedAt: this.#failedAt,
        now: this.#deps.clock.now(),
        retryAfterMs: this.#retryAfterMs,
      });
      const progressed = peer !== null && (await this.#follow(peer, stop));
      if (stop.aborted) break;
      if (progressed) {
        delay = this.#backoff.min;
        continue;
      }
      await this.#sleep(delay, stop);
      delay = Math.min(delay * 2, this.#backoff.max);
    }
    this.#setSource(null);
  }

  /** Follow `peer` until its stream ends; true when at least one frame came. */
  async #follow(peer: NodeId, stop: AbortSignal): Promise<boolean> {
    let stream: Stream | undefined;
    let frames = 0;
    let lastFrameAt = 0;
    let watchdog: TimerHandle | null = null;
    const onStop = (): void => stream?.abort(new Error('feed follower stopped'));
    stop.addEventListener('abort', onStop, { once: true });
    try {
      const opening = AbortSignal.any([stop, AbortSignal.timeout(this.#openTimeoutMs)]);
      stream = await this.#deps.open(peer, FEED_PROTOCOL, { signal: opening });
      this.#cursor.restart();
      this.#setSource(peer);
      const request: FeedRequest = { from: this.#cursor.applied };
      await writeFrame(stream, request, { signal: opening });
      await stream.close({ signal: opening });
      const open = stream;
      // Silence is counted from the request, not from the dial: a slow dial (bounded by
      // `openTimeoutMs`) must not leave the source less than `silenceMs` to answer.
      lastFrameAt = this.#deps.clock.now();
      watchdog = this.#deps.clock.setInterval(
        () => {
          const silent = this.#deps.clock.now() - lastFrameAt;
          if (silent >= this.#silenceMs) open.abort(new Error(`no feed frame from ${peer} for ${silent} ms`));
        },
        Math.max(10, Math.floor(this.#silenceMs / 3)),
      );
      for await (const raw of readFrames(stream, { maxFrameBytes: this.#maxFrameBytes })) {
        frames++;
        this.#step(raw);
        // After applying, not before: time spent applying a large frame is not the source's
        // silence, and the next frame may be waiting unread behind it.
        lastFrameAt = this.#deps.clock.now();
      }
      throw new Error(`${peer} ended the feed`);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (!stop.aborted) {
        this.#failedAt.set(peer, this.#deps.clock.now());
        stream?.abort(error);
        this.#deps.logger?.info({ source: peer, err: error }, 'feed stream ended; trying another member');
        this.emit('feed:error', peer, error);
      }
      return frames > 0;
    } finally {
      stop.removeEventListener('abort', onStop);
      if (watchdog !== null) this.#deps.clock.clearInterval(watchdog);
      this.#setSource(null);
    }
  }

  /** Check and apply one frame; throws (ending the stream) on anything the protocol forbids. */
  #step(raw: unknown): void {
    const step = this.#cursor.accept(parseFeedFrame(raw));
    if (step.restored) this.emit('feed:restored', step.restored.index, step.restored.term);
    if (step.applied.length > 0) this.emit('feed:applied', step.applied);
    if (step.restored || step.applied.length > 0) this.#release();
    if (step.leaderChanged) this.emit('leader:change', this.#cursor.leader);
    if (step.confChanged) this.emit('conf:change', this.#cursor.conf);
  }

  #release(): void {
    const applied = this.#cursor.applied;
    if (!this.#waiters.some((w) => w.index <= applied)) return;
    const ready = this.#waiters.filter((w) => w.index <= applied);
    this.#waiters = this.#waiters.filter((w) => w.index > applied);
    for (const w of ready) w.resolve();
  }

  #setSource(source: NodeId | null): void {
    if (source === this.#source) return;
    this.#source = source;
    this.emit('source:change', source);
  }

  #sleep(ms: number, stop: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#deps.clock.setTimeout(done, ms);
      function done(): void {
        stop.removeEventListener('abort', onAbort);
        resolve();
      }
      const onAbort = (): void => {
        this.#deps.clock.clearTimeout(timer);
        done();
      };
      stop.addEventListener('abort', onAbort, { once: true });
    });
  }
}
