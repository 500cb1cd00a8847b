/**
 * RaftTransport over libp2p protocol `/shoal/raft/1.0.0`.
 *
 * Each peer gets one outbound, write-only stream; a frame carries a batch (array) of messages.
 * Replies travel on the stream the other peer opened, so a stream never carries both ways and
 * order per direction is kept. Sending is best effort as Raft wants: a bounded queue per peer
 * drops its oldest message when full, a failed dial or write drops what was queued and reports
 * the peer unreachable, then the link retries with exponential back-off and jitter.
 */
import type { Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { RaftTransport } from '../raft/interfaces.js';
import type { Message, NodeId } from '../raft/types.js';
import { FrameTooLargeError, MalformedFrameError } from './errors.js';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, readFrames } from './frames.js';
import { admits } from './gate.js';
import type { P2PHost } from './host.js';
import { PeerLink } from './peer-link.js';
import type { LinkConfig } from './peer-link.js';
import { validateRaftMessage } from './raft-wire.js';

/** The libp2p protocol id of Raft traffic. */
export const RAFT_PROTOCOL = '/shoal/raft/1.0.0';

/** Options of {@link Libp2pRaftTransport}. */
export interface RaftTransportOptions {
  /** Largest frame sent or accepted. Default 16 MiB. Must exceed the core's maxSizePerMsg and snapshotChunkSize. */
  readonly maxFrameBytes?: number;
  /** Messages queued per peer before the oldest is dropped. Default 1024. */
  readonly queueLimit?: number;
  /** Most messages in one frame. Default 256. */
  readonly maxBatchMessages?: number;
  /** Time allowed to dial a peer and open the stream. Default 5000 ms. */
  readonly dialTimeoutMs?: number;
  /** First retry delay after a failure. Default 100 ms. */
  readonly backoffInitialMs?: number;
  /** Largest retry delay. Default 1000 ms: a peer back from a cut is dialled again within a second. */
  readonly backoffMaxMs?: number;
  /**
   * A peer we send to but have heard nothing from for this long gets its connections aborted and
   * is dialled afresh. Default 1500 ms (15 heartbeats at the default tick). A TCP connection across
   * a cut backs its retransmissions off (3.5 s after a 3 s cut, measured): without this, a blip
   * shorter than the node grace became a silence longer than it, and moved the node's work.
   */
  readonly staleAfterMs?: number;
  /** Random source in [0, 1) for back-off jitter. Default Math.random (this is an edge, not the core). */
  readonly random?: () => number;
  /** Logger; default the host's. */
  readonly logger?: Logger;
}

/**
 * Raft messages over libp2p. Register handlers, `start()`, then `send()`; tell it where peers
 * live with {@link setPeerAddresses} (without addresses it can only reuse open connections).
 *
 * @example
 * const transport = new Libp2pRaftTransport(host);
 * transport.onMessage((m) => node.step(m));
 * transport.onUnreachable((peer) => node.reportUnreachable(peer));
 * transport.setPeerAddresses(peerB, ['/ip4/10.0.0.2/tcp/7946']);
 * await transport.start();
 * transport.send(ready.messages);
 */
export class Libp2pRaftTransport implements RaftTransport {
  readonly #host: P2PHost;
  readonly #log: Logger;
  readonly #config: LinkConfig;
  readonly #maxFrameBytes: number;
  readonly #links = new Map<NodeId, PeerLink>();
  readonly #addresses = new Map<NodeId, readonly string[]>();
  readonly #inbound = new Set<Stream>();
  #messageHandler: ((message: Message) => void) | null = null;
  #unreachableHandler: ((peer: NodeId) => void) | null = null;
  #state: 'new' | 'started' | 'stopped' = 'new';
  #stopController = new AbortController();
  readonly #staleAfterMs: number;
  /** Per peer: when we last sent to it, last heard from it, last dropped its connections. */
  readonly #lastSent = new Map<NodeId, number>();
  readonly #lastHeard = new Map<NodeId, number>();
  readonly #lastDropped = new Map<NodeId, number>();
  #watchdog: ReturnType<typeof setInterval> | null = null;

  constructor(host: P2PHost, options: RaftTransportOptions = {}) {
    this.#host = host;
    this.#log = (options.logger ?? host.log).child({ protocol: RAFT_PROTOCOL });
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    encodeFrame(null, { maxFrameBytes: this.#maxFrameBytes }); // validates the limit now, not on first send
    this.#config = {
      protocol: RAFT_PROTOCOL,
      maxFrameBytes: this.#maxFrameBytes,
      queueLimit: positive('queueLimit', options.queueLimit ?? 1024),
      maxBatchMessages: positive('maxBatchMessages', options.maxBatchMessages ?? 256),
      dialTimeoutMs: positive('dialTimeoutMs', options.dialTimeoutMs ?? 2000),
      backoffInitialMs: positive('backoffInitialMs', options.backoffInitialMs ?? 100),
      backoffMaxMs: positive('backoffMaxMs', options.backoffMaxMs ?? 1000),
      random: options.random ?? Math.random,
    };
    this.#staleAfterMs = positive('staleAfterMs', options.staleAfterMs ?? 1500);
  }

  /** This node's id (its peer id). */
  get id(): NodeId {
    return this.#host.peerId;
  }

  onMessage(handler: (message: Message) => void): void {
    this.#messageHandler = handler;
  }

  onUnreachable(handler: (peer: NodeId) => void): void {
    this.#unreachableHandler = handler;
  }

  /**
   * Set where `peerId` listens (replacing what was known). A link waiting out a back-off
   * retries at once, since the new addresses may be the fix.
   */
  setPeerAddresses(peerId: NodeId, multiaddrs: readonly string[]): void {
    this.#addresses.set(peerId, [...multiaddrs]);
    this.#links.get(peerId)?.retryNow();
  }

  /** Forget a peer: its addresses, queue and stream (a removed member). */
  removePeer(peerId: NodeId): void {
    this.#addresses.delete(peerId);
    this.#lastSent.delete(peerId);
    this.#lastHeard.delete(peerId);
    this.#lastDropped.delete(peerId);
    this.#links.get(peerId)?.close();
    this.#links.delete(peerId);
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    this.#state = 'started';
    await this.#host.handle(RAFT_PROTOCOL, (stream, { peerId }) => this.#receive(stream, peerId), {
      membersOnly: true,
      maxInboundStreams: 16,
    });
    this.#watchdog = setInterval(() => this.#dropStale(), Math.max(100, this.#staleAfterMs / 3));
    this.#watchdog.unref();
  }

  /** Abort the connections of peers we keep sending to but no longer hear from (see staleAfterMs). */
  #dropStale(): void {
    const now = performance.now();
    for (const [peer, sent] of this.#lastSent) {
      if (now - sent > this.#staleAfterMs) continue; // we are not talking to it: silence is expected
      const heard = this.#lastHeard.get(peer) ?? this.#lastDropped.get(peer) ?? sent;
      const dropped = this.#lastDropped.get(peer) ?? -Infinity;
      if (now - heard < this.#staleAfterMs || now - dropped < this.#staleAfterMs) continue;
      this.#lastDropped.set(peer, now);
      const count = this.#host.dropConnections(peer);
      this.#links.get(peer)?.retryNow();
      this.#log.info(
        { peer, silentMs: Math.round(now - heard), connections: count },
        'nothing heard from peer; reconnecting',
      );
    }
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasStarted = this.#state === 'started';
    this.#state = 'stopped';
    if (this.#watchdog !== null) clearInterval(this.#watchdog);
    this.#stopController.abort(new Error('raft transport stopped'));
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
    for (const stream of this.#inbound) stream.abort(new Error('raft transport stopped'));
    this.#inbound.clear();
    if (wasStarted) await this.#host.unhandle(RAFT_PROTOCOL).catch(() => undefined);
  }

  /** Queue messages; never throws for a peer that cannot be reached. */
  send(messages: readonly Message[]): void {
    if (this.#state === 'stopped') return;
    for (const message of messages) {
      if (message.to === this.#host.peerId) {
        this.#log.warn({ type: message.type }, 'dropped a raft message addressed to this node itself');
        continue;
      }
      this.#lastSent.set(message.to, performance.now());
      this.#link(message.to).enqueue(message);
    }
  }

  #link(peerId: NodeId): PeerLink {
    let link = this.#links.get(peerId);
    if (link === undefined) {
      link = new PeerLink(peerId, this.#config, {
        host: this.#host,
        log: this.#log.child({ peer: peerId }),
        addresses: () => this.#addresses.get(peerId) ?? [],
        unreachable: () => this.#reportUnreachable(peerId),
        stopSignal: this.#stopController.signal,
      });
      this.#links.set(peerId, link);
    }
    return link;
  }

  #reportUnreachable(peerId: NodeId): void {
    try {
      this.#unreachableHandler?.(peerId);
    } catch (err) {
      this.#log.error({ err, peer: peerId }, 'onUnreachable handler threw');
    }
  }

  /** Read one peer's inbound stream; any bad frame resets it (the peer reconnects if it is honest). */
  async #receive(stream: Stream, peerId: string): Promise<void> {
    if (this.#state !== 'started') {
      stream.abort(new Error('raft transport is not running'));
      return;
    }
    this.#inbound.add(stream);
    try {
      for await (const frame of readFrames(stream, { maxFrameBytes: this.#maxFrameBytes })) {
        // Membership can end while a stream is open: check it per frame (a set lookup).
        if (!admits(this.#host.gate, peerId)) {
          this.#log.warn({ peer: peerId }, 'raft stream from a peer that is no longer a member; stream reset');
          stream.abort(new Error(`peer ${peerId} is no longer a cluster member`));
          return;
        }
        this.#lastHeard.set(peerId, performance.now());
        for (const message of this.#checkBatch(frame, peerId)) this.#deliver(message);
      }
      await stream.close().catch(() => undefined);
    } catch (err) {
      if (this.#state === 'started' && (err instanceof MalformedFrameError || err instanceof FrameTooLargeError)) {
        this.#log.warn({ peer: peerId, err }, 'bad raft frame from peer; stream reset');
      } else if (this.#state === 'started') {
        this.#log.debug({ peer: peerId, err }, 'raft inbound stream ended with an error');
      }
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.#inbound.delete(stream);
    }
  }

  /** Validate a whole frame before delivering any of it, so a bad frame delivers nothing. */
  #checkBatch(frame: unknown, peerId: string): Message[] {
    if (!Array.isArray(frame) || frame.length === 0) {
      throw new MalformedFrameError(`Cannot accept raft frame from ${peerId}: expected a non-empty array of messages`);
    }
    const messages: Message[] = [];
    for (let i = 0; i < frame.length; i++) {
      let message: Message;
      try {
        message = validateRaftMessage(frame[i]);
      } catch (err) {
        throw new MalformedFrameError(
          `Cannot accept raft frame from ${peerId}: message [${i}]: ${(err as Error).message}`,
          { cause: err },
        );
      }
      if (message.from !== peerId) {
        throw new MalformedFrameError(
          `Cannot accept raft frame from ${peerId}: message [${i}] claims to come from ${message.from} (spoofed sender)`,
        );
      }
      if (message.to !== this.#host.peerId) {
        this.#log.warn(
          { peer: peerId, to: message.to, type: message.type },
          'dropped a raft message addressed to another node',
        );
        continue;
      }
      messages.push(message);
    }
    return messages;
  }

  #deliver(message: Message): void {
    if (this.#messageHandler === null) {
      this.#log.warn({ type: message.type }, 'dropped a raft message: no onMessage handler registered');
      return;
    }
    try {
      this.#messageHandler(message);
    } catch (err) {
      this.#log.error({ err, type: message.type, peer: message.from }, 'raft onMessage handler threw');
    }
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`Cannot use ${name} ${value}: expected a number > 0`);
  return value;
}
