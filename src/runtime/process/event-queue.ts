/**
 * Events pushed from callbacks (a child's exit, a poll), read as an async iterable until a
 * signal aborts.
 * @module
 */

/**
 * A queue that a callback fills and one reader drains.
 *
 * @example
 * ```ts
 * const queue = new EventQueue<ContainerEvent>();
 * listeners.add((e) => queue.push(e));
 * for await (const e of queue.drain(signal)) handle(e);
 * ```
 */
export class EventQueue<T> {
  readonly #items: T[] = [];
  #wake: (() => void) | null = null;

  push(item: T): void {
    this.#items.push(item);
    this.#wake?.();
  }

  /** Yields every item pushed, in order, until `signal` aborts. */
  async *drain(signal: AbortSignal): AsyncIterable<T> {
    const onAbort = () => this.#wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        if (this.#items.length > 0) {
          yield this.#items.shift()!;
          continue;
        }
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = null;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
