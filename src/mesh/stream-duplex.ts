/**
 * A libp2p v3 stream as a Node Duplex, so the proxy can pipe it like a socket.
 *
 * Reading: 'message' events are pushed into the Readable; when it is full the libp2p stream is
 * paused, which for yamux stops the window updates, so the remote stops sending (backpressure
 * across the network). 'end' (the remote's FIN, after everything buffered was delivered) ends
 * the Readable. Writing: `send()` returning false waits for `onDrain()`. `end()` half-closes
 * (FIN); `destroy()` resets the stream; a reset from the remote destroys the Duplex with its error.
 */
import { Duplex } from 'node:stream';
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface';

/**
 * yamux grows a stream's receive window up to 16 MiB; a paused stream may have that much in
 * flight, which libp2p buffers. Its default read buffer limit (4 MiB) would reset the stream.
 */
const READ_BUFFER_BYTES = 16 * 1024 * 1024 + 256 * 1024;

/** Node-side buffer per direction before pausing the libp2p stream. */
const HIGH_WATER_MARK = 256 * 1024;

export class StreamDuplex extends Duplex {
  readonly stream: Stream;
  readonly #detach: () => void;

  constructor(stream: Stream) {
    super({ allowHalfOpen: true, readableHighWaterMark: HIGH_WATER_MARK, writableHighWaterMark: HIGH_WATER_MARK });
    this.stream = stream;
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, READ_BUFFER_BYTES);
    const onMessage = (event: StreamMessageEvent): void => {
      const data = event.data;
      let more = true;
      if (data instanceof Uint8Array) more = this.push(data);
      else for (const chunk of data) more = this.push(chunk);
      if (!more && stream.readStatus === 'readable') stream.pause();
    };
    const onEnd = (): void => {
      this.push(null);
    };
    const onClose = (event: StreamCloseEvent): void => {
      if (event.error !== undefined) this.destroy(event.error);
    };
    stream.addEventListener('message', onMessage);
    stream.addEventListener('end', onEnd);
    stream.addEventListener('close', onClose);
    this.#detach = () => {
      stream.removeEventListener('message', onMessage);
      stream.removeEventListener('end', onEnd);
      stream.removeEventListener('close', onClose);
    };
    // A reset may come while nobody reads yet (during the handshake); an 'error' without a
    // listener would crash the node. Users see it through `finished`/their own listeners.
    this.on('error', () => undefined);
    if (stream.readableEnded) this.push(null);
    if (stream.status === 'aborted' || stream.status === 'reset')
      this.destroy(new Error(`stream was ${stream.status}`));
  }

  override _read(): void {
    if (this.stream.readStatus === 'paused') this.stream.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      if (this.stream.send(chunk)) return callback();
      this.stream.onDrain().then(() => callback(), callback);
    } catch (err) {
      callback(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Chunks queued while the stream waited for a drain go out together, without joining them
   * (a copy of every byte): each is a Yamux frame as the window allows, and the p2p layer packs
   * the frames of one loop turn into full Noise messages (src/p2p/batching-stream.ts).
   */
  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    try {
      let more = true;
      for (const { chunk } of chunks) more = this.stream.send(chunk);
      if (more) return callback();
      this.stream.onDrain().then(() => callback(), callback);
    } catch (err) {
      callback(err instanceof Error ? err : new Error(String(err)));
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.stream.close().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#detach();
    if (this.stream.status === 'open' || this.stream.status === 'closing') {
      this.stream.abort(error ?? new Error('mesh stream closed before both sides finished'));
    }
    callback(error);
  }
}
