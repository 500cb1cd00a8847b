/**
 * Open connections per task, and who waits for a task's count to reach zero. The balancer
 * counts the connections its proxy opened; the mesh stream server counts the streams other
 * nodes opened to its tasks. A task may be stopped once both say zero.
 */
export class OpenCounts {
  readonly #counts = new Map<string, number>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #total = 0;

  /** Count one more connection to `key`; the returned release is idempotent. */
  open(key: string): () => void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = this.#counts.get(key)! - 1;
      if (left > 0) return void this.#counts.set(key, left);
      this.#counts.delete(key);
      const waiters = this.#waiters.get(key);
      this.#waiters.delete(key);
      for (const wake of waiters ?? []) wake();
    };
  }

  count(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  get total(): number {
    return this.#total;
  }

  /** Resolves when `key` has no open connection (at once if it has none); rejects when `signal` aborts. */
  whenIdle(key: string, options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    if (this.count(key) === 0) return Promise.resolve();
    const { signal } = options;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiters = this.#waiters.get(key) ?? new Set<() => void>();
      this.#waiters.set(key, waiters);
      const onAbort = (): void => {
        waiters.delete(wake);
        reject(signal!.reason);
      };
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      waiters.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
