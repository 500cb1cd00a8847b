/**
 * One JSON POST over a bare `node:net` socket, for `shoal job submit`: a benchmark (and a user's
 * shell loop) submits thousands of jobs one process each, and `node:http` costs more to load and
 * set up (its module, an agent, the IPv6 check of the host name) than the rest of the call.
 * Plain HTTP/1.1 with `Connection: close`, over a unix socket or TCP; https goes through the full
 * {@link ApiClient}. Errors are the same classes, with the same meaning, as the client's.
 * @module
 */
import { createConnection, type Socket } from 'node:net';
import type { ApiErrorCode } from '../../api/types.js';
import { formatAddress } from '../address.js';
import type { ApiClientOptions } from '../client.js';
import { codeForStatus, describeConnectError, parseAgentAnswer } from '../agent-errors.js';
import { AgentTimeoutError, AgentUnreachableError, ApiRequestError, NotShoalAgentError } from '../errors.js';
import { newRequestId, REQUEST_ID_HEADER, UNKNOWN_OUTCOME_RETRIES } from '../request-id.js';

/** The client's default wait (client.ts's DEFAULT_TIMEOUT_MS, not imported: that loads node:http). */
const DEFAULT_TIMEOUT_MS = 10_000;
/** An answer to a POST is small; anything past this is not a shoal agent talking. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** Whether {@link fastPost} can carry a request to this address (not https). */
export function canFastPost(options: ApiClientOptions): boolean {
  return options.address.kind === 'unix' || !options.address.tls;
}

/** A parsed HTTP/1.1 answer, once all of its body is in. */
interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * Parse what has arrived so far: the answer when complete (by Content-Length, chunked encoding,
 * or the connection's end), else undefined.
 * @throws {Error} when the bytes are not an HTTP answer.
 */
export function parseAnswer(data: Buffer, ended: boolean): Answer | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    if (ended) throw new Error('the connection closed before an HTTP answer');
    return undefined;
  }
  const [statusLine = '', ...lines] = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!status) throw new Error(`not an HTTP answer: ${JSON.stringify(statusLine.slice(0, 40))}`);
  const headers = new Map(
    lines.map((line) => {
      const at = line.indexOf(':');
      return [line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim()] as const;
    }),
  );
  const rest = data.subarray(headEnd + 4);
  const length = headers.get('content-length');
  if (length !== undefined) {
    if (rest.length < Number(length)) {
      if (ended) throw new Error('the connection closed in the middle of the answer');
      return undefined;
    }
    return { status: Number(status[1]), body: rest.subarray(0, Number(length)).toString('utf8') };
  }
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
    const body = dechunk(rest);
    if (body === undefined) {
      if (ended) throw new Error('the connection closed in the middle of the answer');
      return undefined;
    }
    return { status: Number(status[1]), body };
  }
  return ended ? { status: Number(status[1]), body: rest.toString('utf8') } : undefined;
}

/** The body of a chunked answer, or undefined until its last chunk is in. */
function dechunk(data: Buffer): string | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) throw new Error('a malformed chunked answer');
    if (size === 0) return Buffer.concat(parts).toString('utf8');
    if (data.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** The JSON answer, or the agent's error as an {@link ApiRequestError}. */
function resultOf<T>(answer: Answer, where: string): T {
  const parsed = parseAgentAnswer(answer.status, answer.body, where);
  if (answer.status >= 200 && answer.status < 300) return parsed as T;
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  // exitCodeForApiError reads codes it does not know as a plain failure, so an unknown one passes.
  const code = typeof error?.code === 'string' ? (error.code as ApiErrorCode) : codeForStatus(answer.status);
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${answer.status}`;
  throw new ApiRequestError(answer.status, code, message);
}

/**
 * POST `body` as JSON to `path` and return the parsed answer. The timeout covers the whole call.
 * @example const { jobId } = await fastPost<JobSubmitResult>(options, '/v1/jobs', request);
 */
export async function fastPost<T>(options: ApiClientOptions, path: string, body: unknown): Promise<T> {
  // the same request id on every try: the cluster applies the write at most once
  const requestId = newRequestId();
  for (let attempt = 0; ; attempt++) {
    try {
      return await postOnce<T>(options, path, body, requestId);
    } catch (error) {
      const unknown = error instanceof ApiRequestError && error.code === 'outcome_unknown';
      if (!unknown || attempt >= UNKNOWN_OUTCOME_RETRIES) throw error;
      options.onRetry?.(`the outcome of POST ${path} is unknown; sending it again with the same request id`);
    }
  }
}

function postOnce<T>(options: ApiClientOptions, path: string, body: unknown, requestId: string): Promise<T> {
  const { address, token } = options;
  const where = formatAddress(address);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const text = JSON.stringify(body);
  const host = address.kind === 'unix' ? 'localhost' : `${address.host}:${address.port}`;
  const head =
    `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\nAccept: application/json\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
    (token === undefined ? '' : `Authorization: Bearer ${token}\r\n`) +
    `${REQUEST_ID_HEADER}: ${requestId}\r\n` +
    '\r\n';
  return new Promise<T>((resolve, reject) => {
    const socket: Socket =
      address.kind === 'unix'
        ? createConnection({ path: address.path })
        : createConnection({ host: address.host, port: address.port });
    let connected = false;
    let settled = false;
    let data = Buffer.alloc(0);
    const finish = (error: Error | undefined, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value as T);
    };
    const timer = setTimeout(() => finish(new AgentTimeoutError(where, timeoutMs, connected)), timeoutMs);
    const check = (ended: boolean) => {
      let answer: Answer | undefined;
      try {
        answer = parseAnswer(data, ended);
      } catch (error) {
        finish(new NotShoalAgentError(where, `it sent ${(error as Error).message}`));
        return;
      }
      if (answer === undefined) return;
      try {
        finish(undefined, resultOf<T>(answer, where));
      } catch (error) {
        finish(error as Error);
      }
    };
    socket.once('connect', () => (connected = true));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length > MAX_ANSWER_BYTES) {
        finish(new ApiRequestError(0, 'internal', `the answer from ${where} is larger than ${MAX_ANSWER_BYTES} bytes`));
      } else check(false);
    });
    socket.once('end', () => check(true));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      finish(
        connected
          ? new ApiRequestError(0, 'unavailable', `the connection to ${where} broke: ${error.message}`)
          : new AgentUnreachableError(where, describeConnectError(error, options.address), { cause: error }),
      );
    });
    // write, not end: a server that sees the request's side close may abort the request
    // (node:http does, unless httpAllowHalfOpen), and the agent's answer waits for a Raft commit.
    socket.write(head + text);
  });
}
