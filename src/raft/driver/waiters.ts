/**
 * The promises callers wait on: proposals resolved when their entry is applied, and
 * linearizable reads resolved when the state machine has caught up with their read index.
 */
import { OutcomeUnknownError, ProposalDroppedError } from '../errors.js';

interface ProposalWaiter {
  readonly term: number;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/** Proposals keyed by log index; settled as entries at those indexes are applied. */
export class ProposalWaiters {
  readonly #byIndex = new Map<number, ProposalWaiter>();

  get size(): number {
    return this.#byIndex.size;
  }

  add(index: number, term: number): Promise<unknown> {
    return new Promise((resolve, reject) => this.#byIndex.set(index, { term, resolve, reject }));
  }

  /** An entry was applied: settle the proposal at its index (ours if the term matches). */
  applied(index: number, term: number, result: unknown): void {
    const waiter = this.#byIndex.get(index);
    if (!waiter) return;
    this.#byIndex.delete(index);
    if (waiter.term === term) waiter.resolve(result);
    else waiter.reject(new ProposalDroppedError(index));
  }

  /** A snapshot covered indexes up to `index`: we cannot tell whether our entries were among them. */
  coveredBySnapshot(index: number): void {
    for (const [i, waiter] of this.#byIndex) {
      if (i <= index) {
        this.#byIndex.delete(i);
        waiter.reject(new OutcomeUnknownError(i));
      }
    }
  }

  /** Leadership moved away: in-flight proposals may or may not commit. */
  rejectAll(makeError: (index: number) => Error): void {
    const all = [...this.#byIndex];
    this.#byIndex.clear();
    for (const [i, waiter] of all) waiter.reject(makeError(i));
  }
}

interface ReadWaiter {
  index: number;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Reads go through two stages: waiting for the core's ReadState (keyed by context),
 * then waiting for the state machine to reach the read index.
 */
export class ReadWaiters {
  readonly #pendingByContext = new Map<string, ReadWaiter>();
  readonly #waitingForApply: ReadWaiter[] = [];

  add(context: string): Promise<void> {
    return new Promise((resolve, reject) => this.#pendingByContext.set(context, { index: -1, resolve, reject }));
  }

  /** The core answered a read: `index` -1 means it could not be served. */
  readState(context: string, index: number, applied: number, makeError: () => Error): void {
    const waiter = this.#pendingByContext.get(context);
    if (!waiter) return;
    this.#pendingByContext.delete(context);
    if (index < 0) return waiter.reject(makeError());
    if (index <= applied) return waiter.resolve();
    waiter.index = index;
    this.#waitingForApply.push(waiter);
  }

  applied(applied: number): void {
    if (this.#waitingForApply.length === 0) return;
    let kept = 0;
    for (const waiter of this.#waitingForApply) {
      if (waiter.index <= applied) waiter.resolve();
      else this.#waitingForApply[kept++] = waiter;
    }
    this.#waitingForApply.length = kept;
  }

  cancel(context: string, error: Error): void {
    const waiter = this.#pendingByContext.get(context);
    if (!waiter) return;
    this.#pendingByContext.delete(context);
    waiter.reject(error);
  }

  /** Reads not yet confirmed by a leader are abandoned (leadership moved or the node stops). */
  rejectPending(error: Error): void {
    const all = [...this.#pendingByContext.values()];
    this.#pendingByContext.clear();
    for (const waiter of all) waiter.reject(error);
  }

  rejectAll(error: Error): void {
    this.rejectPending(error);
    const all = this.#waitingForApply.splice(0);
    for (const waiter of all) waiter.reject(error);
  }
}
