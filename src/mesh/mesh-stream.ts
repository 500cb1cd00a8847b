/**
 * The mesh stream, `/shoal/mesh/1.0.0`: a TCP connection to a task on another node, carried
 * in a libp2p stream (Noise-encrypted; only cluster members may open one: the host's member
 * gate). The dialer sends a header {taskId, port} and waits for the reply; the task's node
 * checks the task is its own and ready, connects to it, and only then answers {ok: true}, so a
 * refusal (or a task that does not answer) reaches the dialer before any byte of the client's
 * was sent, and the proxy can try another task. After the reply the stream is a raw byte pipe.
 */
import type { Duplex } from 'node:stream';
import type { Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import { encodeFrame } from '../p2p/index.js';
import type { P2PHost, StreamContext } from '../p2p/index.js';
import { MeshProtocolError, MeshRefusedError } from './errors.js';
import type { MeshRefusalCode } from './errors.js';
import { MESH_MAX_FRAME_BYTES, parseHeader, parseReply, readFrame } from './mesh-wire.js';
import type { MeshReply } from './mesh-wire.js';
import { OpenCounts } from './open-counts.js';
import { splice } from './splice.js';
import { StreamDuplex } from './stream-duplex.js';
import { connectTcp } from './tcp.js';
import type { ConnectTcp } from './tcp.js';

export const MESH_PROTOCOL = '/shoal/mesh/1.0.0';

/** Where this node reaches one of its tasks, or why it will not. */
export type LocalTarget =
  { readonly host: string; readonly port: number } | { readonly refused: MeshRefusalCode; readonly reason: string };

/**
 * Resolve a task of this node for a mesh stream from `peerId`: only tasks assigned here,
 * running and healthy (and not draining) may be reached.
 */
export type ResolveLocal = (taskId: string, port: number, peerId: string) => LocalTarget;

export interface MeshServiceOptions {
  readonly resolveLocal: ResolveLocal;
  /** Default {@link connectTcp}. */
  readonly connect?: ConnectTcp;
  /** Where a node listens, when no connection to it is open. Default: none (reuse connections). */
  readonly addressesOf?: (nodeId: string) => readonly string[];
  /** The time the header, and the reply, may take. Default 5 000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** The time connecting to the task may take. Default 5 000 ms. */
  readonly connectTimeoutMs?: number;
  /** Mesh streams per libp2p connection and direction (yamux allows 1 000 in all). Default 512. */
  readonly maxStreams?: number;
  readonly logger?: Logger;
}

/**
 * Serves mesh streams to this node's tasks and opens them to other nodes' tasks.
 *
 * @example
 * const mesh = new MeshService(host, { resolveLocal: (taskId, port) => runtime.meshTarget(taskId, port) });
 * await mesh.start();
 * const upstream = await mesh.dial(nodeId, taskId, 8080); // a Duplex: pipe the client into it
 */
export class MeshService {
  readonly #host: P2PHost;
  readonly #options: MeshServiceOptions;
  readonly #log: Logger;
  readonly #connect: ConnectTcp;
  readonly #open = new OpenCounts();
  readonly #live = new Set<Duplex>();
  #state: 'new' | 'started' | 'stopped' = 'new';

  constructor(host: P2PHost, options: MeshServiceOptions) {
    this.#host = host;
    this.#options = options;
    this.#log = (options.logger ?? host.log).child({ protocol: MESH_PROTOCOL });
    this.#connect = options.connect ?? connectTcp;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    this.#state = 'started';
    const limit = this.#options.maxStreams ?? 512;
    await this.#host.handle(MESH_PROTOCOL, (stream, context) => this.#serve(stream, context), {
      maxInboundStreams: limit,
      maxOutboundStreams: limit,
    });
  }

  /** Stop serving and reset every open mesh stream (both directions). Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasStarted = this.#state === 'started';
    this.#state = 'stopped';
    for (const duplex of this.#live) duplex.destroy(new Error('mesh service stopped'));
    this.#live.clear();
    if (wasStarted) await this.#host.unhandle(MESH_PROTOCOL).catch(() => undefined);
  }

  /** Mesh streams from other nodes open to `taskId` now. */
  openStreams(taskId: string): number {
    return this.#open.count(taskId);
  }

  /** Resolves when no mesh stream from another node is open to `taskId`. */
  whenIdle(taskId: string, options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    return this.#open.whenIdle(taskId, options);
  }

  /**
   * Open a byte stream to `port` of task `taskId` on node `nodeId`.
   *
   * @throws MeshRefusedError when the node refused (unknown task, not ready, unreachable).
   * @throws PeerUnreachableError when the node cannot be dialed; MeshProtocolError on a bad reply;
   *   the signal's reason when it aborts.
   */
  async dial(
    nodeId: string,
    taskId: string,
    port: number,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<Duplex> {
    const timeout = AbortSignal.timeout(this.#options.handshakeTimeoutMs ?? 5_000);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
    const header = { taskId, port };
    parseHeader(header); // the same rules as the receiver, so a bad id fails here
    const stream = await this.#host.dialProtocol(nodeId, MESH_PROTOCOL, {
      addresses: this.#options.addressesOf?.(nodeId) ?? [],
      signal,
      maxOutboundStreams: this.#options.maxStreams ?? 512,
    });
    const duplex = new StreamDuplex(stream);
    let reply: MeshReply;
    try {
      duplex.write(encodeFrame(header, { maxFrameBytes: MESH_MAX_FRAME_BYTES }));
      reply = parseReply(await readFrame(duplex, { signal }));
    } catch (err) {
      duplex.destroy();
      if (options.signal?.aborted === true) throw options.signal.reason;
      if (timeout.aborted) {
        throw new MeshProtocolError(`Cannot open a mesh stream to ${taskId} on ${nodeId}: no reply within the timeout`);
      }
      throw err;
    }
    if (!reply.ok) {
      duplex.destroy();
      throw new MeshRefusedError(nodeId, taskId, reply.code, reply.message);
    }
    this.#track(duplex);
    return duplex;
  }

  async #serve(stream: Stream, { peerId }: StreamContext): Promise<void> {
    if (this.#state !== 'started') return stream.abort(new Error('mesh service stopped'));
    const duplex = new StreamDuplex(stream);
    const handshake = AbortSignal.timeout(this.#options.handshakeTimeoutMs ?? 5_000);
    let taskId: string;
    let port: number;
    try {
      ({ taskId, port } = parseHeader(await readFrame(duplex, { signal: handshake })));
    } catch (err) {
      this.#log.warn({ peer: peerId, err }, 'bad mesh stream header; stream reset');
      duplex.destroy();
      return;
    }
    const target = this.#options.resolveLocal(taskId, port, peerId);
    if ('refused' in target) return this.#refuse(duplex, peerId, taskId, target.refused, target.reason);
    let upstream: Duplex;
    try {
      upstream = await this.#connect(target.host, target.port, {
        signal: handshake,
        timeoutMs: this.#options.connectTimeoutMs ?? 5_000,
      });
    } catch (err) {
      const reason = `connecting to ${target.host}:${target.port} failed: ${(err as Error).message}`;
      return this.#refuse(duplex, peerId, taskId, 'unreachable', reason);
    }
    if (duplex.destroyed || this.#state !== 'started') {
      upstream.destroy();
      duplex.destroy();
      return;
    }
    duplex.write(encodeFrame({ ok: true }, { maxFrameBytes: MESH_MAX_FRAME_BYTES }));
    const release = this.#open.open(taskId);
    this.#track(duplex);
    splice(duplex, upstream, (end) => {
      release();
      if (!end.ok) this.#log.debug({ peer: peerId, task: taskId, err: end.error }, 'mesh stream ended with an error');
    });
  }

  #refuse(duplex: Duplex, peerId: string, taskId: string, code: MeshRefusalCode, reason: string): void {
    this.#log.info({ peer: peerId, task: taskId, code, reason }, 'refused a mesh stream');
    const frame = encodeFrame(
      { ok: false, code, message: reason.slice(0, 300) },
      { maxFrameBytes: MESH_MAX_FRAME_BYTES },
    );
    duplex.end(frame);
    // The dialer closes on a refusal; do not wait on it longer than the handshake.
    const timer = setTimeout(() => duplex.destroy(), this.#options.handshakeTimeoutMs ?? 5_000);
    duplex.once('close', () => clearTimeout(timer));
    duplex.resume(); // discard whatever the dialer still sends
  }

  #track(duplex: Duplex): void {
    this.#live.add(duplex);
    duplex.once('close', () => this.#live.delete(duplex));
  }
}
