/**
 * Request/response RPC over `/shoal/rpc/1.0.0`, one stream per call (cheap with yamux), with
 * an optional server-streaming variant. Membership is checked per method, because the join
 * method must answer nodes that are not members yet.
 */
import type { Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import {
  ConnectionLostError,
  FrameTooLargeError,
  MalformedFrameError,
  PeerUnreachableError,
  RemoteError,
  RpcErrorCode,
  RpcTimeoutError,
} from './errors.js';
import { DEFAULT_MAX_FRAME_BYTES, readFrames, writeFrame } from './frames.js';
import { admits } from './gate.js';
import type { P2PHost, StreamContext } from './host.js';
import { PeerLimiter } from './peer-limiter.js';
import { errorResponse, parseRequest, parseResponse } from './rpc-wire.js';
import type { RpcRequest, RpcResponse } from './rpc-wire.js';

/** The libp2p protocol id of shoal's RPC. */
export const RPC_PROTOCOL = '/shoal/rpc/1.0.0';

/** Default time a unary call waits for its answer. */
export const DEFAULT_RPC_TIMEOUT_MS = 10_000;

/** What a handler knows about the call. `signal` aborts when the caller gives up or the service stops. */
export interface RpcContext {
  readonly peerId: string;
  readonly signal: AbortSignal;
}

export type RpcHandler = (payload: unknown, context: RpcContext) => unknown;
export type RpcStreamHandler = (payload: unknown, context: RpcContext) => AsyncIterable<unknown>;

/** Options of a registered method. */
export interface MethodOptions {
  /** Let peers that are not cluster members call it (the join method). Default false. */
  readonly allowNonMembers?: boolean;
}

/** Options of {@link RpcService}. */
export interface RpcServiceOptions {
  /** Largest request or response frame. Default 16 MiB. */
  readonly maxFrameBytes?: number;
  /** How long the server waits for a request after a stream opens. Default 10 000 ms. */
  readonly requestReadTimeoutMs?: number;
  /** Default timeout of unary calls. Default {@link DEFAULT_RPC_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /**
   * Calls (and open streams) to one peer at a time; more wait for a slot, within their timeout.
   * Default 64, half of the 128 streams per connection the service allows.
   */
  readonly maxConcurrentCallsPerPeer?: number;
  /** Where peers live, when a call does not say; default: none (reuse connections / peer store). */
  readonly addressesOf?: (peerId: string) => readonly string[];
  readonly logger?: Logger;
}

/** Options of {@link RpcService.call} and {@link RpcService.stream}. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /** For `call`: the whole call; for `stream`: only until the first frame arrives. */
  readonly timeoutMs?: number;
  /** Addresses to dial if no connection is open. */
  readonly addresses?: readonly string[];
}

type Method =
  | { readonly kind: 'unary'; readonly handler: RpcHandler; readonly options: MethodOptions }
  | { readonly kind: 'stream'; readonly handler: RpcStreamHandler; readonly options: MethodOptions };

/**
 * RPC endpoint: serves registered methods and calls other peers' methods.
 *
 * @example
 * const rpc = new RpcService(host);
 * rpc.handle('ping', async (payload, { peerId }) => ({ pong: payload, from: peerId }));
 * rpc.handle('join', join, { allowNonMembers: true });
 * await rpc.start();
 * const answer = await other.call(host.peerId, 'ping', 1, { timeoutMs: 2000 });
 */
export class RpcService {
  readonly #host: P2PHost;
  readonly #log: Logger;
  readonly #maxFrameBytes: number;
  readonly #timeoutMs: number;
  readonly #requestReadTimeoutMs: number;
  readonly #addressesOf: (peerId: string) => readonly string[];
  readonly #methods = new Map<string, Method>();
  readonly #limiter: PeerLimiter;
  readonly #stop = new AbortController();
  #state: 'new' | 'started' | 'stopped' = 'new';

  constructor(host: P2PHost, options: RpcServiceOptions = {}) {
    this.#host = host;
    this.#log = (options.logger ?? host.log).child({ protocol: RPC_PROTOCOL });
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    this.#requestReadTimeoutMs = options.requestReadTimeoutMs ?? 10_000;
    this.#addressesOf = options.addressesOf ?? (() => []);
    this.#limiter = new PeerLimiter(options.maxConcurrentCallsPerPeer ?? 64);
  }

  /** Serve a unary method. What the handler returns (cbor-encodable) is the result; what it throws becomes a {@link RemoteError}. */
  handle(method: string, handler: RpcHandler, options: MethodOptions = {}): void {
    this.#register(method, { kind: 'unary', handler, options });
  }

  /** Serve a server-streaming method: each value the iterable yields is sent as one frame. */
  handleStream(method: string, handler: RpcStreamHandler, options: MethodOptions = {}): void {
    this.#register(method, { kind: 'stream', handler, options });
  }

  #register(method: string, entry: Method): void {
    if (this.#methods.has(method)) throw new TypeError(`Cannot register rpc method ${method} twice`);
    parseRequest({ method, stream: false }); // same name rules as the wire
    this.#methods.set(method, entry);
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    this.#state = 'started';
    // Membership is checked per method once the request names one.
    await this.#host.handle(RPC_PROTOCOL, (stream, context) => this.#serve(stream, context), {
      membersOnly: false,
      maxInboundStreams: 128,
      maxOutboundStreams: 128,
    });
  }

  /** Stop serving; running handlers see their signal abort. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasStarted = this.#state === 'started';
    this.#state = 'stopped';
    this.#stop.abort(new Error('rpc service stopped'));
    if (wasStarted) await this.#host.unhandle(RPC_PROTOCOL).catch(() => undefined);
  }

  async #serve(stream: Stream, { peerId }: StreamContext): Promise<void> {
    const callAborted = new AbortController();
    stream.addEventListener('close', () => callAborted.abort(new Error('rpc stream closed')), { once: true });
    const signal = AbortSignal.any([callAborted.signal, this.#stop.signal]);
    const reply = (response: RpcResponse): Promise<void> =>
      writeFrame(stream, response, { maxFrameBytes: this.#maxFrameBytes, signal });

    let request: RpcRequest;
    const requests = readFrames(stream, { maxFrameBytes: this.#maxFrameBytes });
    // A client that opens a stream and says nothing does not get to hold it.
    const deadline = setTimeout(
      () => stream.abort(new Error(`no rpc request within ${this.#requestReadTimeoutMs} ms`)),
      this.#requestReadTimeoutMs,
    );
    try {
      const first = await requests.next();
      if (first.done === true)
        throw new MalformedFrameError('Cannot accept rpc call: the stream ended before a request');
      request = parseRequest(first.value);
    } catch (err) {
      this.#log.warn({ peer: peerId, err }, 'bad rpc request; stream reset');
      stream.abort(err instanceof Error ? err : new Error(String(err)));
      return;
    } finally {
      clearTimeout(deadline);
      // Stop listening: bytes a client sends after its request now hit the stream's bounded
      // read buffer (which resets the stream when full) instead of piling up here.
      await requests.return(undefined);
    }
    const refusal = this.#refusal(request, peerId);
    if (refusal !== null) {
      this.#log.warn({ peer: peerId, method: request.method, code: refusal.code }, 'rpc call refused');
      await reply(refusal).then(
        () => stream.close(),
        (err: Error) => stream.abort(err),
      );
      return;
    }
    const method = this.#methods.get(request.method)!;
    const context: RpcContext = { peerId, signal };
    try {
      if (method.kind === 'unary') {
        const value = await method.handler(request.payload, context);
        await reply({ t: 'result', value });
      } else {
        for await (const value of method.handler(request.payload, context)) {
          if (signal.aborted) break;
          await reply({ t: 'item', value });
        }
        await reply({ t: 'end' });
      }
      await stream.close();
    } catch (err) {
      if (signal.aborted) {
        stream.abort(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.#log.debug({ peer: peerId, method: request.method, err }, 'rpc handler failed');
      await reply(errorResponse(err, RpcErrorCode.HandlerError)).then(
        () => stream.close(),
        (e: Error) => stream.abort(e),
      );
    }
  }

  /** An error frame when the call may not proceed, else null. */
  #refusal(request: RpcRequest, peerId: string): Extract<RpcResponse, { t: 'error' }> | null {
    const method = this.#methods.get(request.method);
    if (method === undefined) {
      return {
        t: 'error',
        code: RpcErrorCode.UnknownMethod,
        message: `no rpc method named ${request.method} on this node`,
      };
    }
    if (method.options.allowNonMembers !== true && !admits(this.#host.gate, peerId)) {
      return {
        t: 'error',
        code: RpcErrorCode.NotMember,
        message: `${request.method} is for cluster members only; join the cluster first`,
      };
    }
    if ((method.kind === 'stream') !== request.stream) {
      const use = method.kind === 'stream' ? 'stream()' : 'call()';
      return {
        t: 'error',
        code: RpcErrorCode.BadRequest,
        message: `${request.method} is a ${method.kind} method; use ${use}`,
      };
    }
    return null;
  }

  /**
   * Call `method` on `peerId` and return its result.
   *
   * @throws RemoteError when the remote handler failed or refused (unknown method, not a member).
   * @throws RpcTimeoutError after `timeoutMs`; the signal's reason when `signal` aborts.
   * @throws PeerUnreachableError when the peer cannot be dialed.
   */
  async call(peerId: string, method: string, payload: unknown, options: CallOptions = {}): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    return this.#withDeadline(peerId, method, timeoutMs, options.signal, async (signal, track) => {
      const release = await this.#limiter.acquire(peerId, signal);
      let frames: AsyncGenerator<unknown, void, undefined>;
      try {
        frames = await this.#open(peerId, { method, payload, stream: false }, options, signal, track);
      } catch (err) {
        release();
        throw typedFailure(peerId, method, err);
      }
      try {
        const first = await frames.next().catch((err: unknown) => {
          throw typedFailure(peerId, method, err);
        });
        if (first.done === true)
          throw new MalformedFrameError(`${method} on ${peerId}: the stream ended without an answer`);
        const response = parseResponse(first.value);
        if (response.t === 'result') return response.value;
        if (response.t === 'error') throw new RemoteError(peerId, method, response.code, response.message);
        throw new MalformedFrameError(`${method} on ${peerId}: expected a result frame, got ${response.t}`);
      } finally {
        release();
        await frames.return(undefined);
      }
    });
  }

  /**
   * Call a streaming `method` on `peerId`, yielding each item as it arrives. Breaking out of the
   * loop resets the stream (the remote handler's signal aborts).
   *
   * @throws as {@link call}; `timeoutMs` bounds the wait for the first frame only.
   */
  async *stream(
    peerId: string,
    method: string,
    payload: unknown,
    options: CallOptions = {},
  ): AsyncGenerator<unknown, void, undefined> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    let stream: Stream | undefined;
    // The slot is held for the stream's whole life, not just its opening.
    let release: (() => void) | undefined;
    let frames: { opened: AsyncGenerator<unknown, void, undefined>; first: IteratorResult<unknown, void> };
    try {
      frames = await this.#withDeadline(peerId, method, timeoutMs, options.signal, async (signal, track) => {
        release = await this.#limiter.acquire(peerId, signal);
        const opened = await this.#open(peerId, { method, payload, stream: true }, options, signal, (s) => {
          stream = s;
          track(s);
        });
        const first = await opened.next();
        return { opened, first };
      });
    } catch (err) {
      release?.();
      throw err;
    }
    const onAbort = (): void => stream?.abort(new Error(`${method} on ${peerId} aborted by the caller`));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let finished = false;
    try {
      let next = frames.first;
      while (next.done !== true) {
        const response = parseResponse(next.value);
        if (response.t === 'end') {
          finished = true;
          return;
        }
        if (response.t === 'error') {
          finished = true;
          throw new RemoteError(peerId, method, response.code, response.message);
        }
        if (response.t !== 'item')
          throw new MalformedFrameError(`${method} on ${peerId}: expected an item frame, got ${response.t}`);
        yield response.value;
        next = await frames.opened.next();
      }
      if (options.signal?.aborted === true) throw options.signal.reason;
      throw new MalformedFrameError(`${method} on ${peerId}: the stream ended without an end frame`);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      if (!finished) stream?.abort(new Error(`${method} on ${peerId}: the caller stopped reading`));
      release?.();
      await frames.opened.return(undefined);
    }
  }

  /** Dial, send the request, half-close, and return the response frames. */
  async #open(
    peerId: string,
    request: RpcRequest,
    options: CallOptions,
    signal: AbortSignal,
    track: (stream: Stream) => void,
  ): Promise<AsyncGenerator<unknown, void, undefined>> {
    const addresses = options.addresses ?? this.#addressesOf(peerId);
    const stream = await this.#host.dialProtocol(peerId, RPC_PROTOCOL, { addresses, signal, maxOutboundStreams: 128 });
    track(stream);
    await writeFrame(stream, request, { maxFrameBytes: this.#maxFrameBytes, signal });
    await stream.close({ signal });
    return readFrames(stream, { maxFrameBytes: this.#maxFrameBytes });
  }

  /**
   * Run `body` under the caller's signal and a timeout; on either, reset the call's stream and
   * throw RpcTimeoutError (timeout) or the caller's reason.
   */
  async #withDeadline<T>(
    peerId: string,
    method: string,
    timeoutMs: number,
    callerSignal: AbortSignal | undefined,
    body: (signal: AbortSignal, track: (stream: Stream) => void) => Promise<T>,
  ): Promise<T> {
    callerSignal?.throwIfAborted();
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callerSignal === undefined ? timeout : AbortSignal.any([callerSignal, timeout]);
    let stream: Stream | undefined;
    const onAbort = (): void => stream?.abort(new Error(`${method} on ${peerId} aborted`));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await body(signal, (s) => {
        stream = s;
        if (signal.aborted) onAbort();
      });
    } catch (err) {
      if (callerSignal?.aborted === true) throw callerSignal.reason;
      if (timeout.aborted) throw new RpcTimeoutError(peerId, method, timeoutMs);
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * A failure of a call as one of the errors callers decide on: ours pass through; anything else
 * (a stream reset, a closed connection or muxer from libp2p) means the connection broke mid-call.
 */
function typedFailure(peerId: string, method: string, err: unknown): unknown {
  if (
    err instanceof PeerUnreachableError ||
    err instanceof MalformedFrameError ||
    err instanceof FrameTooLargeError ||
    err instanceof RemoteError ||
    err instanceof RpcTimeoutError
  )
    return err;
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) return err;
  return new ConnectionLostError(peerId, method, err);
}
