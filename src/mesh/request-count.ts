/**
 * Requests through a service address, counted by the proxy for the `rps` autoscaling target
 * (issue 16). A heuristic, cheap by design (no HTTP parser in the byte path):
 *
 * - every accepted connection counts one request (the proxy counts it at accept);
 * - a connection whose first client chunk starts with an HTTP/1.x request line
 *   (`GET /path HTTP/1.1\r\n`) is watched further: each later client→server chunk that starts with
 *   a request line counts one more (a keep-alive client's next request);
 * - any other connection (HTTP/2, TLS, a database protocol) counts once: its listener is removed
 *   after the first chunk.
 *
 * Miscounted, knowingly: a request split so that a chunk starts mid-request-line (not counted), a
 * body chunk that happens to begin with a request line (counted), several pipelined requests in
 * one chunk (counted once), a request line longer than {@link MAX_REQUEST_LINE} bytes.
 *
 * @module
 */
import type { Readable } from 'node:stream';

/** How much of a chunk is read to find its request line: the rest of the chunk is never looked at. */
export const MAX_REQUEST_LINE = 8_192;
const REQUEST_LINE = /^[A-Z]{3,7} \S+ HTTP\/1\.[01]\r\n/;
const A = 0x41;
const Z = 0x5a;
const SPACE = 0x20;

/**
 * Whether `chunk` starts with an HTTP/1.x request line. The first bytes are checked first (3 to 7
 * capitals and a space), so a body chunk costs a few byte comparisons.
 *
 * @example
 * ```ts
 * startsWithRequestLine(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')); // true
 * ```
 */
export function startsWithRequestLine(chunk: Uint8Array): boolean {
  let i = 0;
  while (i < 8 && i < chunk.length && chunk[i]! >= A && chunk[i]! <= Z) i++;
  if (i < 3 || i > 7 || chunk[i] !== SPACE) return false;
  const head = Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.length, MAX_REQUEST_LINE));
  const end = head.indexOf(0x0a); // only the first line is decoded, not the whole 8 KiB
  return end > 0 && REQUEST_LINE.test(head.toString('latin1', 0, end + 1));
}

/**
 * Watch the client side of a spliced connection and call `onRequest` for each keep-alive request
 * after the first (the first is the connection, counted at accept).
 *
 * Call it only once `client` is piped: a 'data' listener on a stream that is not flowing yet
 * would start it flowing, and bytes emitted before the pipe is attached would be lost. Once piped,
 * it only observes (a paused pipe stays paused).
 *
 * @example
 * ```ts
 * splice(socket, upstream, done);
 * countKeepAliveRequests(socket, () => activity.requests++);
 * ```
 */
export function countKeepAliveRequests(client: Readable, onRequest: () => void): void {
  let first = true;
  const onData = (chunk: unknown): void => {
    if (!(chunk instanceof Uint8Array)) return void client.off('data', onData);
    if (first) {
      first = false;
      if (!startsWithRequestLine(chunk)) client.off('data', onData);
      return;
    }
    if (startsWithRequestLine(chunk)) onRequest();
  };
  client.on('data', onData);
}
