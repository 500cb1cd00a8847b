/**
 * A per-peer concurrency limit. libp2p resets streams past a protocol's per-connection stream
 * limit, which a caller would see as a failed call; queueing past the limit turns a burst into
 * a short wait instead. Private to the p2p layer.
 */

interface Slot {
  active: number;
  readonly waiters: Array<() => void>;
}

export class PeerLimiter {
  readonly #limit: number;
  readonly #slots = new Map<string, Slot>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`Cannot use a concurrency limit of ${limit}: expected an integer >= 1`);
    this.#limit = limit;
  }

  /**
   * Wait for a slot for `peerId` (aborting with `signal`) and return the function that frees
   * it; calling that function more than once frees the slot once.
   */
  async acquire(peerId: string, signal?: AbortSignal): Promise<() => void> {
    await this.#acquire(peerId, signal);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release(peerId);
    };
  }

  async #acquire(peerId: string, signal: AbortSignal | undefined): Promise<void> {
    let slot = this.#slots.get(peerId);
    if (slot === undefined) {
      slot = { active: 0, waiters: [] };
      this.#slots.set(peerId, slot);
    }
    if (slot.active < this.#limit) {
      slot.active++;
      return;
    }
    signal?.throwIfAborted();
    const waiting = slot;
    await new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const i = waiting.waiters.indexOf(wake);
        if (i >= 0) waiting.waiters.splice(i, 1);
        reject(signal!.reason);
      };
      waiting.waiters.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #release(peerId: string): void {
    const slot = this.#slots.get(peerId)!;
    const next = slot.waiters.shift();
    // Hand the slot straight to the next waiter (active stays the same).
    if (next !== undefined) next();
    else if (--slot.active === 0) this.#slots.delete(peerId);
  }
}
