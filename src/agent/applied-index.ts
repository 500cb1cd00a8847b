/**
 * How far this node's state machine has applied the log, and a way to wait until it reaches an
 * index: a write through a follower answers only once the follower has applied it, so that the
 * reply (built from local state) shows the write.
 */

interface Waiter {
  readonly index: number;
  readonly resolve: () => void;
}

export class AppliedIndex {
  #index = 0;
  /** Waiting callers, unordered: there are few at a time (one per write in flight). */
  #waiters: Waiter[] = [];

  get index(): number {
    return this.#index;
  }

  /** The state machine applied (or restored a snapshot) up to `index`. */
  advance(index: number): void {
    if (index <= this.#index) return;
    this.#index = index;
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.index <= index) waiter.resolve();
      else still.push(waiter);
    }
    this.#waiters = still;
  }

  /**
   * Resolves once `index` is applied; rejects with a timeout error at `deadline` (ms since the
   * epoch) or with the signal's reason.
   */
  reach(index: number, options: { readonly signal?: AbortSignal; readonly deadline: number }): Promise<void> {
    if (index <= this.#index) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        index,
        resolve: () => {
          done();
          resolve();
        },
      };
      const drop = () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        done();
      };
      const onAbort = () => {
        drop();
        reject(options.signal!.reason);
      };
      const timer = setTimeout(
        () => {
          drop();
          reject(
            new AppliedIndexTimeoutError(
              `The write was committed at index ${index}, but this node had applied only ${this.#index} by the deadline: ` +
                'it is behind the leader (check `shoal status`); the write itself is done',
            ),
          );
        },
        Math.max(0, options.deadline - Date.now()),
      );
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }
}

/** A committed write that this node did not apply in time. */
export class AppliedIndexTimeoutError extends Error {
  override readonly name = 'AppliedIndexTimeoutError';
}
