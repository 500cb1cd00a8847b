/**
 * The frames of `/shoal/rpc/1.0.0`. One stream per call: the client sends one request frame and
 * closes its writable end; the server answers with one `result` or `error` frame (unary), or
 * any number of `item` frames ended by `end` or `error` (server streaming). Private to p2p.
 */
import { MalformedFrameError } from './errors.js';

/** Longest method name accepted. */
export const MAX_METHOD_LENGTH = 128;

export interface RpcRequest {
  readonly method: string;
  readonly payload: unknown;
  /** True when the client expects a stream of items. */
  readonly stream: boolean;
}

export type RpcResponse =
  | { readonly t: 'result'; readonly value: unknown }
  | { readonly t: 'item'; readonly value: unknown }
  | { readonly t: 'end' }
  | { readonly t: 'error'; readonly code: string; readonly message: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function own(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** @throws MalformedFrameError when the frame is not a request. */
export function parseRequest(frame: unknown): RpcRequest {
  if (!isObject(frame)) throw new MalformedFrameError('Cannot accept rpc request: expected an object');
  const method = own(frame, 'method');
  if (typeof method !== 'string' || method.length === 0 || method.length > MAX_METHOD_LENGTH) {
    throw new MalformedFrameError(
      `Cannot accept rpc request: method: expected a string of 1..${MAX_METHOD_LENGTH} characters`,
    );
  }
  const stream = own(frame, 'stream');
  if (typeof stream !== 'boolean')
    throw new MalformedFrameError('Cannot accept rpc request: stream: expected a boolean');
  return { method, payload: own(frame, 'payload'), stream };
}

/** @throws MalformedFrameError when the frame is not a response. */
export function parseResponse(frame: unknown): RpcResponse {
  if (!isObject(frame)) throw new MalformedFrameError('Cannot accept rpc response: expected an object');
  const t = own(frame, 't');
  switch (t) {
    case 'result':
    case 'item':
      return { t, value: own(frame, 'value') };
    case 'end':
      return { t };
    case 'error': {
      const code = own(frame, 'code');
      const message = own(frame, 'message');
      if (typeof code !== 'string' || typeof message !== 'string') {
        throw new MalformedFrameError('Cannot accept rpc error response: code and message must be strings');
      }
      return { t, code, message };
    }
    default:
      throw new MalformedFrameError(
        `Cannot accept rpc response: t: expected result, item, end or error, got ${String(t)}`,
      );
  }
}

/** The error frame for a handler's exception: its string `code` if it has one, else HANDLER_ERROR. */
export function errorResponse(err: unknown, fallbackCode: string): RpcResponse {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : fallbackCode;
  const message = err instanceof Error ? err.message : String(err);
  return { t: 'error', code, message };
}
