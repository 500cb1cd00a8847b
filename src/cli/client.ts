/**
 * A tiny JSON client for the admin API over a unix socket or TCP (optionally TLS). It uses only
 * `node:http`/`node:https` so a CLI call starts fast.
 * @module
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import type { ApiErrorCode } from '../api/types.js';
import { formatAddress, type AgentAddress } from './address.js';
import { codeForStatus, describeConnectError, parseAgentAnswer } from './agent-errors.js';
import { AgentTimeoutError, AgentUnreachableError, ApiRequestError } from './errors.js';
import { newRequestId, REQUEST_ID_HEADER, UNKNOWN_OUTCOME_RETRIES } from './request-id.js';

/** The default time to wait for an answer. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Answers above this are refused (nothing the admin API sends comes close). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  readonly address: AgentAddress;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly timeoutMs?: number;
  /** CA certificate(s) to trust for an https address with a private certificate. */
  readonly ca?: string | Buffer;
  /** Told when a write whose outcome is unknown is sent again (e.g. to say so on stderr). */
  readonly onRetry?: (message: string) => void;
}

/** One request. */
export interface ApiCallOptions {
  readonly query?: Readonly<Record<string, string | boolean | undefined>>;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /** This call's own bound, for requests that wait on purpose (`stack rm`); else the client's. */
  readonly timeoutMs?: number;
}

const KNOWN_CODES: ReadonlySet<string> = new Set([
  'bad_request',
  'unauthorized',
  'not_found',
  'conflict',
  'not_initialized',
  'unavailable',
  'outcome_unknown',
  'timeout',
  'internal',
]);

/** Builds `?a=1&b=x` from defined values; `true` becomes `1`, `false` and undefined are left out. */
function queryString(query: ApiCallOptions['query']): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === false) continue;
    params.set(name, value === true ? '1' : value);
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * Calls the admin API and returns the parsed JSON answer.
 * @example
 * const client = new ApiClient({ address: parseAddress('unix:///var/lib/shoal/shoal.sock') });
 * const status = await client.call<StatusView>('GET', '/v1/status');
 */
export class ApiClient {
  readonly #options: ApiClientOptions;

  constructor(options: ApiClientOptions) {
    this.#options = options;
  }

  /** The address in `--addr` form. */
  get address(): string {
    return formatAddress(this.#options.address);
  }

  /**
   * Send one request. Throws {@link ApiRequestError} when the agent answers with an error,
   * {@link AgentUnreachableError} when nothing answers, {@link AgentTimeoutError} on timeout.
   */
  async call<T>(method: string, path: string, options: ApiCallOptions = {}): Promise<T> {
    // A write carries a request id, the same on every try: the cluster applies it at most once,
    // so an answer lost with a dying leader can be asked for again.
    const requestId = method === 'GET' ? undefined : newRequestId();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#request(
          method,
          path,
          options,
          'answer',
          (res, where) => readAnswer<T>(res, where),
          requestId,
        );
      } catch (error) {
        const unknown = error instanceof ApiRequestError && error.code === 'outcome_unknown';
        if (!unknown || attempt >= UNKNOWN_OUTCOME_RETRIES || options.signal?.aborted === true) throw error;
        this.#options.onRetry?.(
          `the outcome of ${method} ${path} is unknown (${error.message.split(':')[0]}); sending it again with the same request id`,
        );
      }
    }
  }

  /**
   * Send one request whose answer is newline-delimited JSON and call `onItem` for each line as it
   * arrives, in order. The timeout covers the connection and the answer's head only: a followed
   * stream may stay idle for hours. Resolves when the agent ends the stream; an error line
   * (`{ "error": { code, message } }`) becomes an {@link ApiRequestError}.
   * @example await client.stream('GET', '/v1/services/web_api/logs', { query: { follow: true } }, (line) => print(line));
   */
  async stream<T>(
    method: string,
    path: string,
    options: ApiCallOptions,
    onItem: (item: T) => void | Promise<void>,
  ): Promise<void> {
    return this.#request(method, path, options, 'head', (res, where) =>
      (res.statusCode ?? 0) >= 300 ? readAnswer<void>(res, where) : readLines(res, where, onItem),
    );
  }

  async #request<R>(
    method: string,
    path: string,
    options: ApiCallOptions,
    timeoutCovers: 'answer' | 'head',
    onResponse: (res: IncomingMessage, where: string) => Promise<R>,
    requestId?: string,
  ): Promise<R> {
    const { address, token, ca } = this.#options;
    // node:https pulls in tls and crypto: load it only for https addresses, to keep plain calls fast.
    const send = address.kind === 'tcp' && address.tls ? (await import('node:https')).request : httpRequest;
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (requestId !== undefined) headers[REQUEST_ID_HEADER] = requestId;
    // agent: false → one connection, closed after the answer: nothing keeps the process alive.
    const base: RequestOptions = { method, path: path + queryString(options.query), headers, agent: false };
    const target: RequestOptions =
      address.kind === 'unix'
        ? { ...base, socketPath: address.path }
        : { ...base, host: address.host, port: address.port, ...(address.tls && ca !== undefined ? { ca } : {}) };
    const where = this.address;

    return new Promise<R>((resolve, reject) => {
      let connected = false;
      let settled = false;
      const finish = (error: Error | undefined, value?: R) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(value as R);
      };
      const req: ClientRequest = send(target, (res) => {
        if (timeoutCovers === 'head') clearTimeout(timer);
        onResponse(res, where).then(
          (value) => finish(undefined, value),
          (error: Error) => {
            finish(error);
            req.destroy(); // stop reading a stream whose consumer failed
          },
        );
      });
      const timer = setTimeout(() => {
        finish(new AgentTimeoutError(where, timeoutMs, connected));
        req.destroy();
      }, timeoutMs);
      const onAbort = () => {
        finish(options.signal?.reason instanceof Error ? options.signal.reason : new Error('request aborted'));
        req.destroy();
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      req.once('socket', (socket) => {
        if (!socket.connecting) connected = true;
        socket.once('connect', () => (connected = true));
      });
      req.once('error', (error: NodeJS.ErrnoException) => {
        const reason = describeConnectError(error, address);
        finish(new AgentUnreachableError(where, reason, { cause: error }));
      });
      req.end(body);
    });
  }
}

/** The longest line a stream may send; a log line is far shorter. */
const MAX_LINE_BYTES = 4 * 1024 * 1024;

async function readLines<T>(
  res: IncomingMessage,
  where: string,
  onItem: (item: T) => void | Promise<void>,
): Promise<void> {
  let buffer = '';
  const cut = () => new ApiRequestError(res.statusCode ?? 0, 'unavailable', `the stream from ${where} was cut off`);
  res.setEncoding('utf8');
  try {
    for await (const chunk of res as AsyncIterable<string>) {
      buffer += chunk;
      let at: number;
      while ((at = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 1);
        if (line.trim() !== '') await onItem(parseLine<T>(line, res.statusCode ?? 0, where));
      }
      if (buffer.length > MAX_LINE_BYTES) {
        throw new ApiRequestError(
          res.statusCode ?? 0,
          'internal',
          `${where} sent a line longer than ${MAX_LINE_BYTES} bytes`,
        );
      }
    }
  } catch (error) {
    if (error instanceof ApiRequestError) throw error;
    throw cut(); // the agent went away mid-stream ("aborted", ECONNRESET)
  }
  if (!res.complete) throw cut();
  if (buffer.trim() !== '') await onItem(parseLine<T>(buffer, res.statusCode ?? 0, where));
}

function parseLine<T>(line: string, status: number, where: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new ApiRequestError(status, 'internal', `${where} streamed a line that is not JSON: ${line.slice(0, 80)}`);
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (error !== undefined && typeof error === 'object' && error !== null && typeof error.message === 'string') {
    const code =
      typeof error.code === 'string' && KNOWN_CODES.has(error.code) ? (error.code as ApiErrorCode) : 'internal';
    throw new ApiRequestError(status, code, error.message);
  }
  return parsed as T;
}

async function readAnswer<T>(res: IncomingMessage, where: string): Promise<T> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      res.destroy();
      throw new ApiRequestError(
        res.statusCode ?? 0,
        'internal',
        `the answer from ${where} is larger than ${MAX_RESPONSE_BYTES} bytes`,
      );
    }
    chunks.push(chunk);
  }
  const status = res.statusCode ?? 0;
  const parsed = parseAgentAnswer(status, Buffer.concat(chunks).toString('utf8'), where);
  if (status >= 200 && status < 300) return parsed as T;
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code =
    typeof error?.code === 'string' && KNOWN_CODES.has(error.code)
      ? (error.code as ApiErrorCode)
      : codeForStatus(status);
  const message =
    typeof error?.message === 'string' ? error.message : `HTTP ${status} ${res.statusMessage ?? ''}`.trim();
  throw new ApiRequestError(status, code, message);
}
