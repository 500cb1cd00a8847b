/**
 * The admin API from the page: same origin, JSON, the admin token as a bearer token when the
 * agent asks for it (401). The token is kept in the tab's sessionStorage only: it is gone when the
 * tab closes and no other site can read it.
 * @module
 */
import { NdjsonSplitter, streamError } from './ndjson.js';

/** An error answer of the admin API (`{ error: { code, message } }`), or a failure to reach it. */
export class ApiFailure extends Error {
  override readonly name = 'ApiFailure';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Where the token comes from. */
export interface TokenSource {
  get(): string | null;
  set(token: string | null): void;
  /** Ask the person for it; null when they decline. */
  ask(reason: string): Promise<string | null>;
}

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === false) continue;
    params.set(key, value === true ? '1' : String(value));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

async function failureOf(response: Response): Promise<ApiFailure> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return new ApiFailure(response.status, body.error.code ?? 'internal', body.error.message);
  } catch {
    // not JSON: a proxy's page, say
  }
  return new ApiFailure(
    response.status,
    'internal',
    `HTTP ${response.status}: ${text.slice(0, 200) || response.statusText}`,
  );
}

export class Api {
  readonly #tokens: TokenSource;

  constructor(tokens: TokenSource) {
    this.#tokens = tokens;
  }

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.#json<T>('GET', withQuery(path, query), undefined, signal);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.#json<T>('POST', path, body);
  }

  /**
   * Follow a newline-delimited JSON stream: `onOpen` once the agent answered, `onLine` per line.
   * Resolves when the stream ends; rejects with an {@link ApiFailure} when it could not be opened
   * or ended with an error line.
   */
  async stream(
    path: string,
    query: Query,
    handlers: { onOpen?(): void; onLine(value: unknown): void },
    signal: AbortSignal,
  ): Promise<void> {
    const response = await this.#fetch('GET', withQuery(path, query), undefined, signal, 'application/x-ndjson');
    if (!response.ok) throw await failureOf(response);
    handlers.onOpen?.();
    if (response.body === null) return;
    const reader = response.body.getReader();
    const splitter = new NdjsonSplitter();
    const deliver = (values: unknown[]) => {
      for (const value of values) {
        const failed = streamError(value);
        if (failed) throw new ApiFailure(200, failed.code, failed.message);
        handlers.onLine(value);
      }
    };
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        deliver(splitter.push(value));
      }
      deliver(splitter.end());
    } finally {
      reader.cancel().catch(() => undefined);
    }
  }

  async #json<T>(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.#fetch(method, path, body, signal, 'application/json');
    if (!response.ok) throw await failureOf(response);
    return (await response.json()) as T;
  }

  /** One request; on 401 asks for the token and tries again until it works or the person declines. */
  async #fetch(method: string, path: string, body: unknown, signal: AbortSignal | undefined, accept: string) {
    for (;;) {
      const headers: Record<string, string> = { accept };
      const token = this.#tokens.get();
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await fetch(path, {
          method,
          headers,
          signal,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (error) {
        if (signal?.aborted) throw error;
        throw new ApiFailure(0, 'unavailable', `Cannot reach the agent: ${(error as Error).message}`);
      }
      if (response.status !== 401) return response;
      const failure = await failureOf(response);
      const next = await this.#tokens.ask(
        token === null ? 'This agent requires its admin token.' : 'The admin token was refused.',
      );
      if (next === null) throw failure;
      this.#tokens.set(next);
    }
  }
}
