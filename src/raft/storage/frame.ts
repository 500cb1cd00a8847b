/**
 * The on-disk frame shared by WAL segments and snapshot files:
 *
 *   u32 LE payload length | u32 LE CRC32 of (length bytes + payload) | payload
 *
 * The CRC covers the length too, so a flipped length bit is caught as a checksum error rather
 * than read as a frame of the wrong size. Empty payloads are invalid: a run of zero bytes (what a
 * file system may leave after a crash) must never parse as valid frames. Pure functions only.
 * @internal
 */
import { crc32 } from 'node:zlib';

/** Bytes before the payload. */
export const FRAME_HEADER_BYTES = 8;
/** The length field is a u32. */
export const MAX_PAYLOAD_BYTES = 0xffffffff;

function frameCrc(header: Uint8Array, payload: Uint8Array): number {
  return crc32(payload, crc32(header.subarray(0, 4)));
}

/** Frame one payload (copies it). */
export function encodeFrame(payload: Uint8Array): Buffer {
  if (payload.length === 0) throw new RangeError('Cannot frame an empty payload');
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new RangeError(
      `Cannot frame a payload of ${payload.length} bytes: the limit is ${MAX_PAYLOAD_BYTES} (u32 length)`,
    );
  }
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.set(payload, FRAME_HEADER_BYTES);
  out.writeUInt32LE(frameCrc(out, out.subarray(FRAME_HEADER_BYTES)), 4);
  return out;
}

export interface Frame {
  /** Byte offset of the frame's header in the buffer. */
  readonly offset: number;
  /** A view into the scanned buffer. */
  readonly payload: Buffer;
}

export interface FrameProblem {
  readonly offset: number;
  readonly reason: string;
  /** True when the frame claims to run past the end of the buffer (an incomplete write). */
  readonly incomplete: boolean;
}

export interface ScanResult {
  /** The valid frames before the first problem. */
  readonly frames: readonly Frame[];
  /** The first bad frame, if any; scanning stops there. */
  readonly problem?: FrameProblem;
}

/** Check the frame at `offset`: undefined when valid, else what is wrong. */
function checkFrameAt(buf: Buffer, offset: number): FrameProblem | undefined {
  const left = buf.length - offset;
  if (left < FRAME_HEADER_BYTES) {
    return { offset, incomplete: true, reason: `incomplete frame header (${left} of ${FRAME_HEADER_BYTES} bytes)` };
  }
  const length = buf.readUInt32LE(offset);
  if (length === 0) return { offset, incomplete: false, reason: 'frame has length 0' };
  if (length > left - FRAME_HEADER_BYTES) {
    return {
      offset,
      incomplete: true,
      reason: `frame length ${length} runs past the end of the file (${left - FRAME_HEADER_BYTES} bytes left)`,
    };
  }
  const stored = buf.readUInt32LE(offset + 4);
  const actual = frameCrc(
    buf.subarray(offset),
    buf.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + length),
  );
  if (stored !== actual) {
    return {
      offset,
      incomplete: false,
      reason: `checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)}) in a frame of ${length} bytes`,
    };
  }
  return undefined;
}

/** Read frames from the start of `buf` until its end or the first bad frame. */
export function scanFrames(buf: Buffer): ScanResult {
  const frames: Frame[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const problem = checkFrameAt(buf, offset);
    if (problem) return { frames, problem };
    const length = buf.readUInt32LE(offset);
    frames.push({ offset, payload: buf.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + length) });
    offset += FRAME_HEADER_BYTES + length;
  }
  return { frames };
}

/**
 * The offset of the first valid frame starting strictly after `from`, or -1. Used to tell a torn
 * tail (garbage to the end) from corruption (a bad frame with good data after it). Costly on
 * long garbage, but it only runs after a problem was found.
 */
export function findValidFrameAfter(buf: Buffer, from: number): number {
  for (let offset = from + 1; offset + FRAME_HEADER_BYTES < buf.length; offset++) {
    const length = buf.readUInt32LE(offset);
    if (length === 0 || length > buf.length - offset - FRAME_HEADER_BYTES) continue;
    if (checkFrameAt(buf, offset) === undefined) return offset;
  }
  return -1;
}
