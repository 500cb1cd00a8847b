/**
 * The two frames of a `/shoal/mesh/1.0.0` stream, before it becomes a raw byte pipe: the
 * dialer's header (which task, which port) and the receiver's reply (accepted, or refused and
 * why). Both are one length-prefixed cbor-x frame (src/p2p/frames.ts), bounded and validated;
 * bytes after a frame belong to the pipe and are given back to the stream.
 */
import type { Readable } from 'node:stream';
import { FRAME_HEADER_BYTES, FrameDecoder } from '../p2p/index.js';
import { MeshProtocolError } from './errors.js';
import type { MeshRefusalCode } from './errors.js';

/** Largest header or reply frame body. */
export const MESH_MAX_FRAME_BYTES = 1024;

const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const REFUSAL_CODES: readonly MeshRefusalCode[] = ['unknown-task', 'not-ready', 'unreachable', 'bad-request'];

function isRefusalCode(code: unknown): code is MeshRefusalCode {
  return REFUSAL_CODES.some((c) => c === code);
}

export interface MeshHeader {
  readonly taskId: string;
  readonly port: number;
}

export type MeshReply =
  { readonly ok: true } | { readonly ok: false; readonly code: MeshRefusalCode; readonly message: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** @throws MeshProtocolError naming the bad field. */
export function parseHeader(value: unknown): MeshHeader {
  if (!isRecord(value)) throw new MeshProtocolError('Cannot accept mesh stream: the header is not a map');
  const { taskId, port } = value;
  if (typeof taskId !== 'string' || !TASK_ID.test(taskId)) {
    throw new MeshProtocolError(`Cannot accept mesh stream: taskId must be a task id, got ${JSON.stringify(taskId)}`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new MeshProtocolError(
      `Cannot accept mesh stream: port must be an integer in [1, 65535], got ${String(port)}`,
    );
  }
  return { taskId, port };
}

/** @throws MeshProtocolError when it is not a reply. */
export function parseReply(value: unknown): MeshReply {
  if (isRecord(value) && value.ok === true) return { ok: true };
  if (isRecord(value) && value.ok === false && isRefusalCode(value.code)) {
    const message = typeof value.message === 'string' ? value.message.slice(0, 512) : '';
    return { ok: false, code: value.code, message };
  }
  throw new MeshProtocolError('Cannot read mesh reply: expected {ok: true} or {ok: false, code, message}');
}

/**
 * Read one frame from `source` (not yet flowing), leaving the bytes after it unread: they are
 * given back with `unshift`. Reads with 'readable'/`read()`, not 'data': removing a 'readable'
 * listener leaves the stream as it was, so a later `pipe()` or 'data' listener starts it.
 *
 * @throws MeshProtocolError when the stream ends first or the frame is malformed or too large;
 *   the signal's reason when it aborts.
 */
export function readFrame(source: Readable, options: { readonly signal?: AbortSignal } = {}): Promise<unknown> {
  const { signal } = options;
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder({ maxFrameBytes: MESH_MAX_FRAME_BYTES });
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (error: unknown, value?: unknown): void => {
      source.off('readable', onReadable);
      source.off('end', onEnd);
      source.off('close', onEnd);
      source.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (error !== null) reject(error);
      else resolve(value);
    };
    const onReadable = (): void => {
      for (let chunk: unknown = source.read(); chunk !== null; chunk = source.read()) {
        if (!Buffer.isBuffer(chunk))
          return finish(new MeshProtocolError('Cannot read mesh frame from a stream in object mode'));
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        if (buffered.length < FRAME_HEADER_BYTES) continue;
        const total = FRAME_HEADER_BYTES + buffered.readUInt32BE(0);
        if (total > FRAME_HEADER_BYTES + MESH_MAX_FRAME_BYTES) {
          return finish(
            new MeshProtocolError(`Cannot read mesh frame of ${total} bytes: the limit is ${MESH_MAX_FRAME_BYTES}`),
          );
        }
        if (buffered.length < total) continue;
        let values: unknown[];
        try {
          values = decoder.push(buffered.subarray(0, total));
        } catch (err) {
          return finish(new MeshProtocolError(`Cannot read mesh frame: ${(err as Error).message}`, { cause: err }));
        }
        const rest = buffered.subarray(total);
        if (rest.length > 0) source.unshift(rest);
        return finish(null, values[0]);
      }
    };
    const onEnd = (): void => finish(new MeshProtocolError('Cannot read mesh frame: the stream ended before it'));
    const onError = (err: Error): void => finish(err);
    const onAbort = (): void => finish(signal!.reason);
    if (signal?.aborted === true) return reject(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    source.on('readable', onReadable);
    source.on('end', onEnd);
    source.on('close', onEnd);
    source.on('error', onError);
  });
}
