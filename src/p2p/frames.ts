/**
 * Length-prefixed cbor-x frames over a libp2p v3 stream.
 *
 * Wire format: a 4-byte big-endian unsigned length, then that many bytes of one CBOR item.
 * A fixed-width prefix lets the reader refuse an oversized frame as soon as 4 bytes arrived,
 * before buffering any of its body. `FrameDecoder` is the pure part (bytes in, values out);
 * `readFrames`/`writeFrame` adapt it to a v3 `Stream` (an async iterable of byte chunks with
 * `send()` returning false when the caller must wait for `onDrain()`).
 */
import { Encoder } from 'cbor-x';
import type { Stream } from '@libp2p/interface';
import { FrameTooLargeError, MalformedFrameError } from './errors.js';

/** Default per-frame limit: 16 MiB (a Raft append carries at most ~1 MiB of entries by default). */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Bytes of the length prefix. */
export const FRAME_HEADER_BYTES = 4;

const MAX_UINT32 = 0xffff_ffff;

/**
 * The wire codec. Records (cbor-x's shared-structure extension) are off so every frame stands
 * alone; Uint8Array travels as a tagged byte string and decodes back as a Uint8Array.
 */
const codec = new Encoder({ useRecords: false, mapsAsObjects: true });

/** Options of the frame helpers. */
export interface FrameOptions {
  /** Largest accepted frame body in bytes. Default {@link DEFAULT_MAX_FRAME_BYTES}. */
  readonly maxFrameBytes?: number;
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_UINT32) {
    throw new RangeError(`Cannot use maxFrameBytes ${limit}: expected an integer in [1, ${MAX_UINT32}]`);
  }
  return limit;
}

/**
 * Encode one value as a frame (prefix + CBOR).
 *
 * @throws FrameTooLargeError when the encoded value exceeds `maxFrameBytes`.
 * @example
 * stream.send(encodeFrame({ hello: 'world' }));
 */
export function encodeFrame(value: unknown, options: FrameOptions = {}): Uint8Array {
  const limit = checkLimit(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
  const body = codec.encode(value);
  if (body.byteLength > limit) throw new FrameTooLargeError(body.byteLength, limit, 'outbound');
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.byteLength);
  new DataView(frame.buffer).setUint32(0, body.byteLength);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Incremental frame decoder: feed it chunks as they arrive, get back the complete frames' values.
 * After it throws it must not be used again (the stream is to be reset).
 */
export class FrameDecoder {
  readonly #limit: number;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Body length of the frame being read, once its header is in. */
  #expected: number | null = null;

  constructor(options: FrameOptions = {}) {
    this.#limit = checkLimit(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
  }

  /** True when some bytes of an unfinished frame are buffered. */
  get hasPartialFrame(): boolean {
    return this.#buffered > 0 || this.#expected !== null;
  }

  /**
   * Add a chunk; returns the values of every frame completed by it, in order.
   *
   * @throws FrameTooLargeError when a header announces more than the limit (the body is not buffered).
   * @throws MalformedFrameError when a frame is empty or not exactly one CBOR item.
   */
  push(chunk: Uint8Array): unknown[] {
    if (chunk.byteLength > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.byteLength;
    }
    const values: unknown[] = [];
    for (;;) {
      if (this.#expected === null) {
        if (this.#buffered < FRAME_HEADER_BYTES) break;
        const header = this.#take(FRAME_HEADER_BYTES);
        const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(0);
        if (length > this.#limit) throw new FrameTooLargeError(length, this.#limit, 'inbound');
        if (length === 0)
          throw new MalformedFrameError('Cannot decode frame as its length prefix is 0: a frame holds one CBOR item');
        this.#expected = length;
      }
      if (this.#buffered < this.#expected) break;
      const body = this.#take(this.#expected);
      this.#expected = null;
      values.push(decodeBody(body));
    }
    return values;
  }

  /** Remove and return the first `n` buffered bytes (n <= buffered); copies only across chunks. */
  #take(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.byteLength >= n) {
      const out = first.subarray(0, n);
      if (first.byteLength === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0]!;
      const used = Math.min(chunk.byteLength, n - filled);
      out.set(chunk.subarray(0, used), filled);
      filled += used;
      if (used === chunk.byteLength) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    this.#buffered -= n;
    return out;
  }
}

function decodeBody(body: Uint8Array): unknown {
  try {
    return codec.decode(body);
  } catch (err) {
    // cbor-x throws Error for truncated/trailing data and RangeError for absurd nesting.
    throw new MalformedFrameError(
      `Cannot decode frame of ${body.byteLength} bytes as CBOR: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Read frames from a stream until the remote closes its writable end.
 * The generator throws the stream's error when it is reset, and the decoder's errors on bad input;
 * the caller decides whether to reset the stream (it usually should: `stream.abort(err)`).
 *
 * @example
 * for await (const value of readFrames(stream, { maxFrameBytes: 1024 })) handle(value);
 */
export async function* readFrames(
  stream: Stream,
  options: FrameOptions = {},
): AsyncGenerator<unknown, void, undefined> {
  const decoder = new FrameDecoder(options);
  for await (const chunk of stream) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
    for (const value of decoder.push(bytes)) yield value;
  }
  if (decoder.hasPartialFrame) {
    throw new MalformedFrameError('Cannot decode frame as the stream ended in the middle of it');
  }
}

/**
 * Encode and send one frame, waiting for the stream to drain when its buffer is full.
 *
 * @throws FrameTooLargeError before sending anything when the value is over the limit.
 * @throws the stream's error when it is closed or reset.
 */
export async function writeFrame(
  stream: Stream,
  value: unknown,
  options: FrameOptions & { readonly signal?: AbortSignal } = {},
): Promise<void> {
  const frame = encodeFrame(value, options);
  if (!stream.send(frame)) await stream.onDrain({ signal: options.signal });
}
