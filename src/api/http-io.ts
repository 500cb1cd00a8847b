/**
 * Reading JSON requests and writing JSON answers on `node:http`.
 * @module
 * @private
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, type ApiErrorCode } from './types.js';

/** Bodies above this are refused with 413 before they are buffered further. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The JSON shape of every error answer. */
export interface ErrorBody {
  readonly error: { readonly code: ApiErrorCode; readonly message: string };
}

/**
 * Read and parse the request body. Returns undefined for an empty body. Refuses a body over
 * `limit`, a non-JSON content type, and text that is not JSON, each with a message that says so.
 */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const { chunks, size } = await readBody(req, limit);
  if (size === 0) return undefined;
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new ApiError(415, 'bad_request', `body: expected Content-Type application/json, got ${JSON.stringify(type)}`);
  }
  const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, 'bad_request', `body: not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

/**
 * The body's chunks, read with events: `for await` over the request built an async iterator
 * and an end-of-stream watcher per request (2% of a leader's CPU at 2,000 writes/s). Past the
 * limit the request is destroyed, as leaving an iterator early did.
 */
function readBody(req: IncomingMessage, limit: number): Promise<{ chunks: Buffer[]; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        done();
        req.destroy();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve({ chunks, size });
    };
    const onError = (error: Error): void => {
      done();
      reject(error);
    };
    // closed before its end: the client went away in the middle of the body
    const onClose = (): void => {
      done();
      reject(new Error('the request was closed before its body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, 'bad_request', `body: larger than the limit of ${limit} bytes`);
}

/** Send `body` as JSON with `status`. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  // encoded once: its length and the bytes sent come from the same buffer
  const bytes = Buffer.from(JSON.stringify(body ?? null) + '\n', 'utf8');
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': bytes.byteLength,
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(bytes);
}

/** Send `text` as is with `contentType` (the Prometheus exposition). */
export function sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
  if (res.headersSent || res.destroyed) return;
  const bytes = Buffer.from(text, 'utf8');
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': bytes.byteLength,
    'cache-control': 'no-store',
  });
  res.end(bytes);
}

/** Send an {@link ApiError} as `{ error: { code, message } }` with its status. */
export function sendError(res: ServerResponse, error: ApiError, headers: Record<string, string> = {}): void {
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  sendJson(res, error.status, body, headers);
}

/** The content type of a streamed answer: one JSON value per line. */
export const NDJSON_TYPE = 'application/x-ndjson; charset=utf-8';

/** Resolves when `signal` aborts (never rejects), with a way to drop the listener. */
function abortedPromise(signal: AbortSignal): { promise: Promise<'aborted'>; dispose(): void } {
  let dispose = () => {};
  const promise = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) return resolve('aborted');
    const onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    dispose = () => signal.removeEventListener('abort', onAbort);
  });
  return { promise, dispose: () => dispose() };
}

/**
 * Stream `lines` as newline-delimited JSON with `status`. Headers go out at once, so a client
 * following an idle stream knows it is connected. Each item is written as soon as the iterable
 * yields it, waiting for `drain` when the client reads slowly. Ends when the iterable ends or
 * `signal` aborts (the client went away): then the iterator is told to `return` without waiting,
 * since an implementation that ignores the signal may never settle its pending `next`.
 *
 * An error from the iterable after the headers cannot change the status any more: it is sent as
 * a last line `{ "error": { code, message } }` (the shape of every error answer), which no data
 * line has, and the stream ends.
 */
export async function sendNdjson(
  res: ServerResponse,
  status: number,
  lines: AsyncIterable<unknown>,
  signal: AbortSignal,
  toApiError: (error: unknown) => ApiError,
): Promise<void> {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': NDJSON_TYPE, 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  res.flushHeaders();
  const iterator = lines[Symbol.asyncIterator]();
  const aborted = abortedPromise(signal);
  let finished = false;
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted.promise]);
      if (next === 'aborted') break;
      if (next.done === true) {
        finished = true;
        break;
      }
      if (!res.write(JSON.stringify(next.value ?? null) + '\n')) {
        const drained = new Promise<void>((resolve) => res.once('drain', resolve));
        if ((await Promise.race([drained, aborted.promise])) === 'aborted') break;
      }
    }
  } catch (error) {
    finished = true; // a generator that threw is done; return() would do nothing
    if (!signal.aborted) {
      const apiError = toApiError(error);
      const body: ErrorBody = { error: { code: apiError.code, message: apiError.message } };
      res.write(JSON.stringify(body) + '\n');
    }
  } finally {
    aborted.dispose();
    if (!finished) void Promise.resolve(iterator.return?.()).catch(() => undefined);
    if (!res.destroyed) res.end();
  }
}
