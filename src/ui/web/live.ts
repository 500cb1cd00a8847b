/**
 * Keeps the UI current: follows the agent's event stream (`GET /v1/events?index=N&follow=true`)
 * and, while the stream is not there (an agent without it, a dropped connection), falls back to
 * refreshing the page on an interval and tries the stream again now and then.
 *
 * Events are numbered by the Raft index of the command they come from and their position
 * (`sub`) among its events. A reconnect asks from the last index seen (the agent sends that
 * index and after) and drops what was already delivered, so nothing is shown twice.
 * @module
 */

/** One event as the stream sends it: the fields the UI shows, more may come. */
export interface UiEvent {
  readonly index: number;
  /** Position among the events of one index (absent: 0). */
  readonly sub?: number;
  readonly time: number | string;
  readonly type: string;
  readonly action: string;
  readonly name: string;
  readonly message: string;
  /** What it belongs to, when it applies: the events page links there. */
  readonly service?: string;
  readonly stack?: string;
  readonly job?: string;
}

/** How the UI is kept current right now. */
export type LiveMode =
  { readonly kind: 'connecting' } | { readonly kind: 'live' } | { readonly kind: 'polling'; readonly reason: string };

/** A timer API (the browser's, or a test's). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What {@link LiveFeed} uses and tells. */
export interface LiveFeedDeps {
  /**
   * Follow the stream from `index`: call `onOpen` once the agent answered, `onEvent` per line;
   * resolve when the stream ends, reject when it cannot be opened or breaks.
   */
  stream(
    index: number,
    handlers: { onOpen(): void; onEvent(event: UiEvent): void },
    signal: AbortSignal,
  ): Promise<void>;
  /** A new event (each index once, in order). */
  onEvent(event: UiEvent): void;
  onMode(mode: LiveMode): void;
  /** Refresh what the page shows: on the polling interval, and once when the stream comes back. */
  poll(): void;
  readonly timers: Timers;
  /** Refresh interval while polling; default 3 s. */
  readonly pollMs?: number;
  /** Wait before trying the stream again; default 10 s. */
  readonly retryMs?: number;
}

/** Whether `value` is an event line (an object with a numeric index and string fields). */
export function isUiEvent(value: unknown): value is UiEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.index === 'number' &&
    typeof v.type === 'string' &&
    (typeof v.time === 'number' || typeof v.time === 'string')
  );
}

/** Follows the event stream, or polls while it is missing. `start()` once, `stop()` once. */
export class LiveFeed {
  readonly #deps: LiveFeedDeps;
  readonly #abort = new AbortController();
  #last: { index: number; sub: number } | undefined;
  #pollTimer: unknown;
  #mode: LiveMode = { kind: 'connecting' };

  constructor(deps: LiveFeedDeps) {
    this.#deps = deps;
  }

  /** The index of the last event delivered (-1: none yet). */
  get lastIndex(): number {
    return this.#last?.index ?? -1;
  }

  get mode(): LiveMode {
    return this.#mode;
  }

  start(): void {
    this.#setMode({ kind: 'connecting' });
    void this.#run();
  }

  stop(): void {
    this.#abort.abort();
    this.#stopPolling();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let wasPolling = false;
    while (!signal.aborted) {
      let reason: string;
      try {
        await this.#deps.stream(
          this.#last?.index ?? 0,
          {
            onOpen: () => {
              this.#stopPolling();
              this.#setMode({ kind: 'live' });
              if (wasPolling) this.#deps.poll(); // what changed while the stream was away
            },
            onEvent: (event) => {
              const sub = event.sub ?? 0;
              const last = this.#last;
              if (last && (event.index < last.index || (event.index === last.index && sub <= last.sub))) return;
              this.#last = { index: event.index, sub };
              this.#deps.onEvent(event);
            },
          },
          signal,
        );
        reason = 'the event stream ended';
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
      }
      if (signal.aborted) return;
      wasPolling = true;
      this.#setMode({ kind: 'polling', reason });
      this.#startPolling();
      await this.#sleep(this.#deps.retryMs ?? 10_000, signal);
    }
  }

  #setMode(mode: LiveMode): void {
    this.#mode = mode;
    this.#deps.onMode(mode);
  }

  #startPolling(): void {
    if (this.#pollTimer !== undefined) return;
    const tick = () => {
      this.#pollTimer = this.#deps.timers.setTimeout(tick, this.#deps.pollMs ?? 3_000);
      this.#deps.poll();
    };
    this.#pollTimer = this.#deps.timers.setTimeout(tick, this.#deps.pollMs ?? 3_000);
  }

  #stopPolling(): void {
    if (this.#pollTimer === undefined) return;
    this.#deps.timers.clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.#deps.timers.setTimeout(done, ms);
      function done() {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }
      const onAbort = () => {
        this.#deps.timers.clearTimeout(handle);
        done();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
