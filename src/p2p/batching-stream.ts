/**
 * A MessageStream that gathers the sends of one event-loop turn into one: above Noise, under
 * Yamux, so the frames that many streams (and the window updates that answer them) send while
 * the loop handles one round of socket reads share full Noise messages, each sealed once, opened
 * once, and written together in one syscall, instead of a message and a write per frame.
 *
 * Why: every Yamux data frame was its own Noise message, and Yamux answers every data frame it
 * receives with a window update, itself a Noise message: a proxied request and its response
 * cost four of them between two nodes, each with a cipher set-up, a socket write and a wake-up
 * of the other side. With many connections through one node, a loop turn handles many frames;
 * gathering them costs at most the rest of that turn (the flush runs in `setImmediate`, right
 * after the poll phase, before any timer). A batch of FLUSH_AT_BYTES goes out at once.
 *
 * A frame that ends or resets a stream, or the session (Yamux FIN, RST, GoAway), goes out at once
 * with everything before it: libp2p's `Connection.abort` resets every stream and destroys the
 * socket in the same call, and a reset held for the next loop turn would never be sent (the
 * other side would see a clean end where there was a failure).
 *
 * The bytes inside the Noise messages are the same Yamux frames in the same order, so a peer
 * without this wrapper reads them as before. `send` returns false only while the inner stream
 * waits for a drain (and then the inner stream emits 'drain', as it does without this wrapper).
 * Private to the p2p layer.
 */
import type { AbortOptions, MessageStream } from '@libp2p/interface';
import { ForwardingMessageStream } from './forwarding-stream.js';
import type { SendData } from './forwarding-stream.js';

/** The plaintext of one full Noise message (65,535 bytes less the 16-byte tag). */
export const NOISE_PLAINTEXT_BYTES = 65_519;

/**
 * A batch this large goes out without waiting for the end of the turn: four full Noise messages.
 * Noise cuts a send into messages of NOISE_PLAINTEXT_BYTES, so a batch of frames fills them
 * where a 64 KiB frame sent alone would cost a full message and one of 29 bytes.
 */
export const FLUSH_AT_BYTES = 4 * NOISE_PLAINTEXT_BYTES;

/** When the pending sends go out: `setImmediate` in production, injectable for tests. */
export type ScheduleFlush = (flush: () => void) => void;

/**
 * Forwards every member of `MessageStream` to `inner`, except that sends made in one loop turn
 * reach the inner stream as one.
 *
 * @example
 * const secured = await noise.secureOutbound(maConn, options);
 * const connection = new BatchingMessageStream(secured.connection);
 */
export class BatchingMessageStream extends ForwardingMessageStream {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /**
   * An empty list of the muxer's own Uint8ArrayList class, taken from its first list send: a batch
   * is handed on as such a list, without copying (several versions of the class are installed
   * side by side, and the inner stream's `send` is typed with its own).
   */
  #emptyList: SendData | null = null;
  #scheduled = false;
  readonly #schedule: ScheduleFlush;
  readonly #flushNow = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(inner: MessageStream, schedule: ScheduleFlush = setImmediate) {
    super(inner);
    this.#schedule = schedule;
  }

  override send(data: SendData): boolean {
    if (!this.#accepting()) return this.inner.send(data); // let the inner stream refuse (or take) it as it would
    if (data instanceof Uint8Array) this.#pending.push(data);
    else {
      this.#emptyList ??= data.sublist(0, 0);
      for (const buf of data) this.#pending.push(buf);
    }
    this.#pendingBytes += data.byteLength;
    if (this.#pendingBytes >= FLUSH_AT_BYTES || endsStreams(data)) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(this.#flushNow);
    }
    return !this.inner.writableNeedsDrain;
  }

  /** Hand everything pending to the inner stream as one send. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (!this.#accepting()) return; // closed meanwhile: the inner stream dropped its own unsent bytes too
    try {
      this.inner.send(this.#join(pending));
    } catch (err) {
      // Refused by a stream that stopped being writable in the meantime: end it as a failed send would.
      this.inner.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** The buffers as one send: a list when the muxer's list class is known, else (small frames only) one copy. */
  #join(pending: Uint8Array[]): SendData {
    if (pending.length === 1) return pending[0]!;
    if (this.#emptyList === null || this.#emptyList instanceof Uint8Array) return Buffer.concat(pending);
    const joined = this.#emptyList.sublist(0, 0);
    for (const buf of pending) joined.append(buf);
    return joined;
  }

  /** Open for writing (or closing, with writes still going out). */
  #accepting(): boolean {
    return this.inner.status === 'open' || this.inner.status === 'closing';
  }

  override get writeBufferLength(): number {
    return this.inner.writeBufferLength + this.#pendingBytes;
  }

  override close(options?: AbortOptions): Promise<void> {
    this.flush();
    return this.inner.close(options);
  }

  override abort(err: Error): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.inner.abort(err);
  }
}

/** Yamux frame types and flags (the header: version, type, flags as uint16, stream id, length). */
const YAMUX_GO_AWAY = 3;
const YAMUX_FIN_OR_RST = 0x4 | 0x8;

/** Whether a muxer send is a Yamux frame that ends or resets a stream or the session. */
export function endsStreams(data: SendData): boolean {
  let header: Uint8Array | undefined;
  if (data instanceof Uint8Array) header = data;
  else for (const buf of data) if ((header = buf).byteLength > 0) break;
  if (header === undefined || header.byteLength < 4) return true; // not a frame header: do not hold it
  const flags = (header[2]! << 8) | header[3]!;
  return header[1] === YAMUX_GO_AWAY || (flags & YAMUX_FIN_OR_RST) !== 0;
}
