/**
 * Presence (`/shoal/presence/1.0.0`): observers are not Raft members, so Raft's own traffic no
 * longer tells the leader they are alive. Each observer keeps one stream to the leader and sends
 * a tiny frame each second; the leader records when it last heard from each node, for the node
 * health controller to merge with Raft's view of the members.
 */
import type { Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import { readFrames, writeFrame } from '../p2p/frames.js';
import type { P2PHost, StreamContext } from '../p2p/host.js';
import type { Clock, TimerHandle } from '../raft/driver/clock.js';
import type { NodeId } from '../raft/types.js';
import { PRESENCE_PROTOCOL, parsePresenceFrame, type PresenceFrame } from './wire.js';

const MAX_PRESENCE_FRAME_BYTES = 256;

export interface PresenceTrackerDeps {
  readonly host: Pick<P2PHost, 'handle' | 'unhandle'>;
  readonly clock: Clock;
  readonly logger?: Logger;
}

/**
 * Every member serves presence (whoever leads next is told within a second); what it heard is
 * kept across leadership changes, so a node heard before still counts as heard then.
 *
 * @example
 * const presence = new PresenceTracker({ host, clock });
 * await presence.start();
 * presence.lastHeard().get(nodeId); // clock ms, or undefined
 */
export class PresenceTracker {
  readonly #deps: PresenceTrackerDeps;
  readonly #heard = new Map<NodeId, number>();
  readonly #applied = new Map<NodeId, number>();
  readonly #streams = new Set<Stream>();
  #state: 'new' | 'started' | 'stopped' = 'new';

  constructor(deps: PresenceTrackerDeps) {
    this.#deps = deps;
  }

  /** When this member last heard from each observer, in its clock's ms. */
  lastHeard(): ReadonlyMap<NodeId, number> {
    return this.#heard;
  }

  /** Each observer's applied index as it last reported it. */
  appliedIndexes(): ReadonlyMap<NodeId, number> {
    return this.#applied;
  }

  /** Forget a node (it was removed from the cluster). */
  forget(nodeId: NodeId): void {
    this.#heard.delete(nodeId);
    this.#applied.delete(nodeId);
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    this.#state = 'started';
    await this.#deps.host.handle(PRESENCE_PROTOCOL, (stream, context) => this.serve(stream, context), {
      maxInboundStreams: 4,
    });
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasStarted = this.#state === 'started';
    this.#state = 'stopped';
    for (const stream of this.#streams) stream.abort(new Error('presence tracker stopped'));
    if (wasStarted) await this.#deps.host.unhandle(PRESENCE_PROTOCOL).catch(() => undefined);
  }

  /** The protocol handler. The node is the authenticated remote peer, never a claim in the frame. */
  async serve(stream: Stream, { peerId }: StreamContext): Promise<void> {
    this.#streams.add(stream);
    try {
      for await (const raw of readFrames(stream, { maxFrameBytes: MAX_PRESENCE_FRAME_BYTES })) {
        const frame = parsePresenceFrame(raw);
        this.#heard.set(peerId, this.#deps.clock.now());
        this.#applied.set(peerId, frame.index);
      }
      await stream.close();
    } catch (err) {
      if (this.#state === 'started') {
        this.#deps.logger?.warn({ peer: peerId, err }, 'presence stream failed; reset');
        stream.abort(err instanceof Error ? err : new Error(String(err)));
      }
    } finally {
      this.#streams.delete(stream);
    }
  }
}

export interface PresenceSenderDeps {
  /** The leader now (the observer: its feed follower's `leader`). */
  readonly leader: () => NodeId | null;
  readonly appliedIndex: () => number;
  readonly open: (peerId: NodeId, protocol: string, options: { readonly signal: AbortSignal }) => Promise<Stream>;
  readonly clock: Clock;
  readonly logger?: Logger;
}

export interface PresenceSenderOptions {
  /** Default 1,000 ms. */
  readonly intervalMs?: number;
  /** Dial timeout. Default 2,000 ms. */
  readonly openTimeoutMs?: number;
}

/**
 * The observer's side: each interval, make sure a stream to the current leader is open (a new
 * one when the leader changed or the old one broke) and send one frame on it.
 */
export class PresenceSender {
  readonly #deps: PresenceSenderDeps;
  readonly #intervalMs: number;
  readonly #openTimeoutMs: number;
  #timer: TimerHandle | null = null;
  #stream: Stream | null = null;
  #to: NodeId | null = null;
  #busy = false;
  readonly #stop = new AbortController();

  constructor(deps: PresenceSenderDeps, options: PresenceSenderOptions = {}) {
    this.#deps = deps;
    this.#intervalMs = options.intervalMs ?? 1_000;
    this.#openTimeoutMs = options.openTimeoutMs ?? 2_000;
  }

  /** The leader the open stream goes to, or null. */
  get target(): NodeId | null {
    return this.#stream === null ? null : this.#to;
  }

  start(): void {
    if (this.#timer !== null || this.#stop.signal.aborted) return;
    this.#timer = this.#deps.clock.setInterval(() => void this.beat(), this.#intervalMs);
    void this.beat();
  }

  stop(): void {
    if (this.#timer !== null) this.#deps.clock.clearInterval(this.#timer);
    this.#timer = null;
    this.#stop.abort(new Error('presence sender stopped'));
    this.#close();
  }

  /** One beat (the timer calls it; tests may too). Never throws: a failure retries next beat. */
  async beat(): Promise<void> {
    if (this.#busy || this.#stop.signal.aborted) return;
    this.#busy = true;
    const leader = this.#deps.leader();
    try {
      if (leader !== this.#to || this.#stream === null || this.#stream.status !== 'open') {
        this.#close();
        this.#to = leader;
        if (leader === null) return;
        const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(this.#openTimeoutMs)]);
        this.#stream = await this.#deps.open(leader, PRESENCE_PROTOCOL, { signal });
      }
      const frame: PresenceFrame = { t: 'here', index: this.#deps.appliedIndex() };
      await writeFrame(this.#stream, frame, { maxFrameBytes: MAX_PRESENCE_FRAME_BYTES, signal: this.#stop.signal });
    } catch (err) {
      if (!this.#stop.signal.aborted) this.#deps.logger?.debug({ leader, err }, 'presence beat failed; retrying');
      this.#close();
    } finally {
      this.#busy = false;
    }
  }

  #close(): void {
    this.#stream?.abort(new Error('presence stream replaced'));
    this.#stream = null;
  }
}
