/**
 * The sending half of the Raft transport for one peer: a bounded queue, one outbound stream,
 * and a single flush loop that batches whatever queued while the previous write drained.
 * Private to the p2p layer.
 */
import type { Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { Message, NodeId } from '../raft/types.js';
import { FrameTooLargeError } from './errors.js';
import { encodeFrame } from './frames.js';
import type { P2PHost } from './host.js';

/** Tunables shared by every link of a transport. */
export interface LinkConfig {
  readonly protocol: string;
  readonly maxFrameBytes: number;
  readonly queueLimit: number;
  readonly maxBatchMessages: number;
  readonly dialTimeoutMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly random: () => number;
}

/** What a link needs from its transport. */
export interface LinkComponents {
  readonly host: P2PHost;
  readonly log: Logger;
  readonly addresses: () => readonly string[];
  readonly unreachable: () => void;
  readonly stopSignal: AbortSignal;
}

/** A rough upper bound of a message's encoded size, to keep batches under the frame limit. */
export function estimateMessageBytes(message: Message): number {
  let bytes = 256;
  if (message.type === 'append') for (const e of message.entries) bytes += e.data.byteLength + 48;
  else if (message.type === 'snapshot') {
    bytes += message.chunk.byteLength + 64 * (message.meta.conf.voters.length + message.meta.conf.learners.length);
  } else if ('context' in message && message.context !== undefined) bytes += message.context.byteLength;
  return bytes;
}

/** Messages that keep leadership and liveness: a heartbeat must not wait behind log entries or snapshot chunks. */
const URGENT: ReadonlySet<Message['type']> = new Set(['heartbeat', 'heartbeatResp', 'vote', 'voteResp', 'timeoutNow']);

/**
 * Queue `message`: an urgent one (heartbeat, vote) goes ahead of the bulk messages (appends,
 * snapshot chunks) already waiting, behind the urgent ones; bulk ones go last. Raft tolerates
 * reordering; a heartbeat stuck behind a megabyte of entries looks like a dead leader.
 */
export function enqueueByPriority(queue: Message[], message: Message): void {
  if (!URGENT.has(message.type)) {
    queue.push(message);
    return;
  }
  let at = 0;
  while (at < queue.length && URGENT.has(queue[at]!.type)) at++;
  queue.splice(at, 0, message);
}

export class PeerLink {
  readonly #peerId: NodeId;
  readonly #config: LinkConfig;
  readonly #c: LinkComponents;
  #queue: Message[] = [];
  #stream: Stream | null = null;
  #running = false;
  #closed = false;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #backoffMs = 0;
  /** When the current (or last) stream opened, to tell a flapping peer from one that worked for a while. */
  #openedAt: number | null = null;
  /** Set once an overflow was reported, cleared when the queue drains, so a burst reports once. */
  #overflowReported = false;

  constructor(peerId: NodeId, config: LinkConfig, components: LinkComponents) {
    this.#peerId = peerId;
    this.#config = config;
    this.#c = components;
  }

  enqueue(message: Message): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#config.queueLimit) {
      // Drop the oldest: the newest messages carry the freshest term, commit and log position.
      this.#queue.shift();
      if (!this.#overflowReported) {
        this.#overflowReported = true;
        this.#c.log.warn({ limit: this.#config.queueLimit }, 'raft send queue full; dropping oldest messages');
        this.#c.unreachable();
      }
    }
    enqueueByPriority(this.#queue, message);
    this.#kick();
  }

  #kick(): void {
    this.#run().catch((err: unknown) => this.#c.log.error({ err }, 'raft send loop failed'));
  }

  /** Skip the rest of a back-off (new addresses arrived). */
  retryNow(): void {
    if (this.#retryTimer === null) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#kick();
  }

  close(): void {
    this.#closed = true;
    this.#queue = [];
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#stream?.abort(new Error('raft link closed'));
    this.#stream = null;
  }

  /** The flush loop; at most one runs per link, and none while a back-off timer is pending. */
  async #run(): Promise<void> {
    if (this.#running || this.#closed || this.#retryTimer !== null) return;
    this.#running = true;
    try {
      while (!this.#closed && this.#queue.length > 0) {
        // A stream closed under us (idle timeout, remote restart) is replaced, not written to.
        if (this.#stream !== null && this.#stream.writeStatus !== 'writable') this.#stream = null;
        const stream = this.#stream ?? (await this.#connect());
        if (stream === null) return;
        const batch = this.#takeBatch();
        try {
          await this.#write(stream, batch);
        } catch (err) {
          if (this.#closed) return;
          stream.abort(err instanceof Error ? err : new Error(String(err)));
          if (this.#stream === stream) this.#stream = null;
          this.#fail(err, batch.length);
          return;
        }
        if (this.#queue.length === 0) this.#overflowReported = false;
      }
    } finally {
      this.#running = false;
    }
  }

  async #connect(): Promise<Stream | null> {
    const signal = AbortSignal.any([this.#c.stopSignal, AbortSignal.timeout(this.#config.dialTimeoutMs)]);
    let stream: Stream;
    try {
      stream = await this.#c.host.dialProtocol(this.#peerId, this.#config.protocol, {
        addresses: this.#c.addresses(),
        signal,
      });
    } catch (err) {
      if (!this.#closed) this.#fail(err, 0);
      return null;
    }
    if (this.#closed) {
      stream.abort(new Error('raft link closed'));
      return null;
    }
    // The receiver never writes; a close with an error means it reset us (bad frame, not a member).
    stream.addEventListener('close', (event) => {
      if (this.#stream !== stream) return;
      this.#stream = null;
      if (event.error !== undefined && !this.#closed && event.local !== true) this.#fail(event.error, 0);
    });
    this.#stream = stream;
    this.#openedAt = performance.now();
    this.#c.log.debug('raft stream opened');
    return stream;
  }

  /** Up to maxBatchMessages, keeping the estimated size under half the frame limit (at least one). */
  #takeBatch(): Message[] {
    const budget = this.#config.maxFrameBytes / 2;
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length && n < this.#config.maxBatchMessages) {
      bytes += estimateMessageBytes(this.#queue[n]!);
      if (n > 0 && bytes > budget) break;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  async #write(stream: Stream, batch: Message[]): Promise<void> {
    let frames: Uint8Array[];
    try {
      frames = [encodeFrame(batch, { maxFrameBytes: this.#config.maxFrameBytes })];
    } catch (err) {
      if (!(err instanceof FrameTooLargeError)) throw err;
      frames = this.#encodeOneByOne(batch);
    }
    for (const frame of frames) {
      if (!stream.send(frame)) await stream.onDrain({ signal: this.#c.stopSignal });
    }
  }

  /** The estimate was too low: send each message alone, dropping any that cannot fit at all. */
  #encodeOneByOne(batch: Message[]): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (const message of batch) {
      try {
        frames.push(encodeFrame([message], { maxFrameBytes: this.#config.maxFrameBytes }));
      } catch (err) {
        if (!(err instanceof FrameTooLargeError)) throw err;
        this.#c.log.error(
          { type: message.type, size: err.size, limit: err.limit },
          'dropped a raft message larger than the frame limit: lower maxSizePerMsg/snapshotChunkSize or raise maxFrameBytes',
        );
      }
    }
    return frames;
  }

  /** Drop what is queued (it is stale by the time the peer is back), report, and back off. */
  #fail(err: unknown, inFlight: number): void {
    const dropped = this.#queue.length + inFlight;
    this.#queue = [];
    this.#overflowReported = false;
    // A reset seen both by the close listener and by the pending write is one failure, not two.
    if (this.#retryTimer !== null) return;
    // Start over after a stream that worked for a while; keep doubling for a peer that accepts
    // the stream and then resets it (e.g. it does not consider us a member).
    const lived = this.#openedAt === null ? 0 : performance.now() - this.#openedAt;
    this.#openedAt = null;
    const previous = lived > this.#config.backoffMaxMs ? 0 : this.#backoffMs;
    const cap = Math.min(this.#config.backoffMaxMs, Math.max(this.#config.backoffInitialMs, previous * 2));
    this.#backoffMs = cap;
    // Jitter in [cap/2, cap) so that a cluster's links do not retry in lockstep.
    const delay = cap / 2 + (cap / 2) * this.#config.random();
    this.#c.log.debug({ err: (err as Error)?.message, dropped, retryInMs: Math.round(delay) }, 'raft peer unreachable');
    this.#c.unreachable();
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#kick();
    }, delay);
    this.#retryTimer.unref?.();
  }
}
