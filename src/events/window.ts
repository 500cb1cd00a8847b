/**
 * The events this agent keeps: the most recent ones, bounded by count and by bytes, in log
 * order. Readers hold a position (a sequence number), not a copy, so a slow reader costs
 * nothing: when the window moves past its position, the reader has lagged and is told so.
 * @module
 */
import type { ClusterEvent, EventDraft } from './types.js';

export interface EventWindowOptions {
  /** Most events kept; default 10,000. */
  readonly maxEvents?: number;
  /** Most bytes kept (their JSON); default 4 MiB. */
  readonly maxBytes?: number;
}

interface Stored {
  readonly event: ClusterEvent;
  readonly bytes: number;
}

export const DEFAULT_MAX_EVENTS = 10_000;
export const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

/**
 * A bounded window of events, ordered by (index, sub).
 * @example
 * const window = new EventWindow({ maxEvents: 1000 });
 * window.append({ index: 7, sub: 0, time, type: 'node', action: 'down', name: 'beta', message });
 * window.get(window.seqAt(7)); // that event
 */
export class EventWindow {
  readonly maxEvents: number;
  readonly maxBytes: number;
  /** Evicted slots are cleared (undefined) until the array is compacted. */
  #stored: (Stored | undefined)[] = [];
  /** Position in #stored of the oldest event kept (evicted ones are cut off in batches). */
  #head = 0;
  /** Sequence number of the oldest event kept. */
  #firstSeq = 0;
  #bytes = 0;
  /** The lowest log index from which every event is here (raised by eviction and by a restore). */
  #completeFrom = 1;
  #waiters = new Set<() => void>();

  constructor(options: EventWindowOptions = {}) {
    this.maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!Number.isSafeInteger(this.maxEvents) || this.maxEvents < 1)
      throw new RangeError(`Cannot keep ${this.maxEvents} events: expected an integer >= 1`);
    if (!(this.maxBytes >= 1024))
      throw new RangeError(`Cannot keep ${this.maxBytes} bytes of events: expected >= 1024`);
  }

  get size(): number {
    return this.#stored.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Sequence number of the oldest event kept. */
  get firstSeq(): number {
    return this.#firstSeq;
  }

  /** Sequence number the next event will get. */
  get nextSeq(): number {
    return this.#firstSeq + this.size;
  }

  /** The lowest log index from which this agent has every event. */
  get completeFrom(): number {
    return this.#completeFrom;
  }

  /** The newest event, if any. */
  last(): ClusterEvent | undefined {
    return this.#stored[this.#stored.length - 1]?.event;
  }

  /** Add an event; it must come after the last one in (index, sub) order. Wakes waiting readers. */
  append(event: ClusterEvent): void {
    const last = this.last();
    if (last !== undefined && (event.index < last.index || (event.index === last.index && event.sub <= last.sub)))
      throw new RangeError(
        `Cannot append event ${event.index}.${event.sub}: the window ends at ${last.index}.${last.sub} (events go in log order)`,
      );
    const bytes = JSON.stringify(event).length + 1;
    this.#stored.push({ event, bytes });
    this.#bytes += bytes;
    while (this.size > this.maxEvents || (this.#bytes > this.maxBytes && this.size > 1)) this.#evictOne();
    if (this.#head > 1024 && this.#head * 2 > this.#stored.length) {
      this.#stored = this.#stored.slice(this.#head);
      this.#head = 0;
    }
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const wake of waiters) wake();
  }

  /**
   * Append a local observation (not from the log) after the last event: at log index `index`
   * (the agent's applied index when it saw it), numbered after that index's events.
   */
  appendLocal(draft: EventDraft, time: number, index: number): ClusterEvent {
    const last = this.last();
    const at = Math.max(index, last?.index ?? 0);
    const sub = last !== undefined && last.index === at ? last.sub + 1 : 0;
    const event: ClusterEvent = { index: at, sub, time, local: true, ...draft };
    this.append(event);
    return event;
  }

  /** A snapshot replaced the state at `index`: the events up to it were never seen here. */
  markRestored(index: number): void {
    this.#completeFrom = Math.max(this.#completeFrom, index + 1);
  }

  /** The event with sequence number `seq`, or undefined when it was evicted or is not there yet. */
  get(seq: number): ClusterEvent | undefined {
    if (seq < this.#firstSeq || seq >= this.nextSeq) return undefined;
    return this.#stored[this.#head + (seq - this.#firstSeq)]!.event;
  }

  /** The sequence number of the first event kept at log index `index` or later (`nextSeq` when none). */
  seqAt(index: number): number {
    let lo = this.#head;
    let hi = this.#stored.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#stored[mid]!.event.index < index) lo = mid + 1;
      else hi = mid;
    }
    return this.#firstSeq + (lo - this.#head);
  }

  /** Resolves once an event with sequence number `seq` or later exists, or `signal` aborts. */
  wait(seq: number, signal?: AbortSignal): Promise<void> {
    if (seq < this.nextSeq || signal?.aborted === true) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #evictOne(): void {
    const gone = this.#stored[this.#head]!;
    this.#stored[this.#head] = undefined;
    this.#head++;
    this.#firstSeq++;
    this.#bytes -= gone.bytes;
    this.#completeFrom = Math.max(this.#completeFrom, gone.event.index + 1);
  }
}
