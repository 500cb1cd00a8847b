/**
 * A MessageStream that forwards every member to an inner one: the base of the p2p layer's
 * wrappers (coalescing-stream.ts, batching-stream.ts), which override `send` and what goes with
 * it. Status, events, backpressure, close and abort are the inner stream's, so listeners added
 * through the wrapper hear the inner stream's events exactly as before. Private to the p2p layer.
 */
import type { AbortOptions, EventHandler, MessageStream, MessageStreamEvents } from '@libp2p/interface';

export type SendData = Parameters<MessageStream['send']>[0];
type ListenOptions = Parameters<MessageStream['addEventListener']>[2];
type UnlistenOptions = Parameters<MessageStream['removeEventListener']>[2];

/**
 * Forwards every member of `MessageStream` to `inner`.
 *
 * @example
 * class Counting extends ForwardingMessageStream {
 *   sent = 0;
 *   override send(data: SendData): boolean { this.sent++; return super.send(data); }
 * }
 */
export class ForwardingMessageStream implements MessageStream {
  protected readonly inner: MessageStream;

  constructor(inner: MessageStream) {
    this.inner = inner;
  }

  send(data: SendData): boolean {
    return this.inner.send(data);
  }

  get status(): MessageStream['status'] {
    return this.inner.status;
  }
  get timeline(): MessageStream['timeline'] {
    return this.inner.timeline;
  }
  get log(): MessageStream['log'] {
    return this.inner.log;
  }
  set log(log: MessageStream['log']) {
    this.inner.log = log;
  }
  get direction(): MessageStream['direction'] {
    return this.inner.direction;
  }
  get maxReadBufferLength(): number {
    return this.inner.maxReadBufferLength;
  }
  set maxReadBufferLength(bytes: number) {
    this.inner.maxReadBufferLength = bytes;
  }
  get maxWriteBufferLength(): number | undefined {
    return this.inner.maxWriteBufferLength;
  }
  set maxWriteBufferLength(bytes: number | undefined) {
    this.inner.maxWriteBufferLength = bytes;
  }
  get inactivityTimeout(): number {
    return this.inner.inactivityTimeout;
  }
  set inactivityTimeout(ms: number) {
    this.inner.inactivityTimeout = ms;
  }
  get writableNeedsDrain(): boolean {
    return this.inner.writableNeedsDrain;
  }
  get readableEnded(): boolean {
    return this.inner.readableEnded;
  }
  get readBufferLength(): number {
    return this.inner.readBufferLength;
  }
  get writeBufferLength(): number {
    return this.inner.writeBufferLength;
  }

  close(options?: AbortOptions): Promise<void> {
    return this.inner.close(options);
  }
  abort(err: Error): void {
    this.inner.abort(err);
  }
  pause(): void {
    this.inner.pause();
  }
  resume(): void {
    this.inner.resume();
  }
  push(data: SendData): void {
    this.inner.push(data);
  }
  unshift(data: SendData): void {
    this.inner.unshift(data);
  }
  onDrain(options?: AbortOptions): Promise<void> {
    return this.inner.onDrain(options);
  }
  [Symbol.asyncIterator](): AsyncIterator<SendData> {
    return this.inner[Symbol.asyncIterator]();
  }

  // Listeners live on the inner stream, so they hear its events exactly as before.
  addEventListener<K extends keyof MessageStreamEvents>(
    type: K,
    listener: EventHandler<MessageStreamEvents[K]> | null,
    options?: ListenOptions,
  ): void {
    this.inner.addEventListener(type, listener, options);
  }
  removeEventListener<K extends keyof MessageStreamEvents>(
    type: K,
    listener?: EventHandler<MessageStreamEvents[K]> | null,
    options?: UnlistenOptions,
  ): void {
    this.inner.removeEventListener(type, listener, options);
  }
  listenerCount(type: string): number {
    return this.inner.listenerCount(type);
  }
  dispatchEvent(event: Event): boolean {
    return this.inner.dispatchEvent(event);
  }
  safeDispatchEvent(
    type: keyof MessageStreamEvents,
    detail?: Parameters<MessageStream['safeDispatchEvent']>[1],
  ): boolean {
    return this.inner.safeDispatchEvent(type, detail);
  }
}
