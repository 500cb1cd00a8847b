/**
 * A MessageStream that hands its inner stream one buffer per `send`.
 *
 * Why: Noise encrypts each message into a list of two buffers (a 2-byte length, then the
 * ciphertext), and @libp2p/tcp calls `socket.write` once per buffer of a list. With TCP_NODELAY
 * on loopback every write is its own syscall and its own segment, so each Yamux frame (and each
 * window update that answers it) cost two writes. Joining the list here, below Noise and above
 * the socket, makes that one write per Noise message. The bytes on the wire are the same.
 *
 * Everything else (status, events, backpressure, close, abort) is the inner stream's: this
 * object only forwards, so `send` returns exactly what the inner `send` returned and 'drain'
 * reaches listeners when the inner stream emits it. Private to the p2p layer.
 */
import type { AbortOptions, EventHandler, MessageStream, MessageStreamEvents } from '@libp2p/interface';

type SendData = Parameters<MessageStream['send']>[0];
type ListenOptions = Parameters<MessageStream['addEventListener']>[2];
type UnlistenOptions = Parameters<MessageStream['removeEventListener']>[2];

/** Join a multi-buffer list into one buffer; a lone buffer is passed through without copying. */
export function toSingleBuffer(data: SendData): Uint8Array {
  // Uint8ArrayList#subarray() returns its only buffer as is, and concatenates otherwise.
  return data instanceof Uint8Array ? data : data.subarray();
}

/**
 * Forwards every member of `MessageStream` to `inner`, except that `send` joins a list into one
 * buffer first.
 *
 * @example
 * const secured = await noise.secureOutbound(new CoalescingMessageStream(maConn), options);
 */
export class CoalescingMessageStream implements MessageStream {
  readonly #inner: MessageStream;

  constructor(inner: MessageStream) {
    this.#inner = inner;
  }

  send(data: SendData): boolean {
    return this.#inner.send(toSingleBuffer(data));
  }

  get status(): MessageStream['status'] {
    return this.#inner.status;
  }
  get timeline(): MessageStream['timeline'] {
    return this.#inner.timeline;
  }
  get log(): MessageStream['log'] {
    return this.#inner.log;
  }
  set log(log: MessageStream['log']) {
    this.#inner.log = log;
  }
  get direction(): MessageStream['direction'] {
    return this.#inner.direction;
  }
  get maxReadBufferLength(): number {
    return this.#inner.maxReadBufferLength;
  }
  set maxReadBufferLength(bytes: number) {
    this.#inner.maxReadBufferLength = bytes;
  }
  get maxWriteBufferLength(): number | undefined {
    return this.#inner.maxWriteBufferLength;
  }
  set maxWriteBufferLength(bytes: number | undefined) {
    this.#inner.maxWriteBufferLength = bytes;
  }
  get inactivityTimeout(): number {
    return this.#inner.inactivityTimeout;
  }
  set inactivityTimeout(ms: number) {
    this.#inner.inactivityTimeout = ms;
  }
  get writableNeedsDrain(): boolean {
    return this.#inner.writableNeedsDrain;
  }
  get readableEnded(): boolean {
    return this.#inner.readableEnded;
  }
  get readBufferLength(): number {
    return this.#inner.readBufferLength;
  }
  get writeBufferLength(): number {
    return this.#inner.writeBufferLength;
  }

  close(options?: AbortOptions): Promise<void> {
    return this.#inner.close(options);
  }
  abort(err: Error): void {
    this.#inner.abort(err);
  }
  pause(): void {
    this.#inner.pause();
  }
  resume(): void {
    this.#inner.resume();
  }
  push(data: SendData): void {
    this.#inner.push(data);
  }
  unshift(data: SendData): void {
    this.#inner.unshift(data);
  }
  onDrain(options?: AbortOptions): Promise<void> {
    return this.#inner.onDrain(options);
  }
  [Symbol.asyncIterator](): AsyncIterator<SendData> {
    return this.#inner[Symbol.asyncIterator]();
  }

  // Listeners live on the inner stream, so they hear its events exactly as before.
  addEventListener<K extends keyof MessageStreamEvents>(
    type: K,
    listener: EventHandler<MessageStreamEvents[K]> | null,
    options?: ListenOptions,
  ): void {
    this.#inner.addEventListener(type, listener, options);
  }
  removeEventListener<K extends keyof MessageStreamEvents>(
    type: K,
    listener?: EventHandler<MessageStreamEvents[K]> | null,
    options?: UnlistenOptions,
  ): void {
    this.#inner.removeEventListener(type, listener, options);
  }
  listenerCount(type: string): number {
    return this.#inner.listenerCount(type);
  }
  dispatchEvent(event: Event): boolean {
    return this.#inner.dispatchEvent(event);
  }
  safeDispatchEvent(
    type: keyof MessageStreamEvents,
    detail?: Parameters<MessageStream['safeDispatchEvent']>[1],
  ): boolean {
    return this.#inner.safeDispatchEvent(type, detail);
  }
}
