/**
 * The simulator's virtual clock: a priority queue of events ordered by (time, insertion order).
 * Ties break by insertion order so a run is a pure function of its seed.
 */

export interface SimEvent {
  readonly time: number;
  readonly seq: number;
  /** Short text for the trace. */
  readonly label: string;
  readonly run: () => void;
}

/**
 * A binary min-heap of events.
 *
 * @example
 * ```ts
 * const q = new EventQueue();
 * q.at(5, 'tick n1', () => core.tick());
 * q.pop()?.run();
 * ```
 */
export class EventQueue {
  #heap: SimEvent[] = [];
  #seq = 0;
  #now = 0;

  /** Virtual time of the event being run (ms). */
  get now(): number {
    return this.#now;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Schedule `run` at absolute virtual time `time` (never in the past). */
  at(time: number, label: string, run: () => void): void {
    const event: SimEvent = { time: Math.max(time, this.#now), seq: this.#seq++, label, run };
    const heap = this.#heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** Schedule `run` after `delay` ms of virtual time. */
  after(delay: number, label: string, run: () => void): void {
    this.at(this.#now + delay, label, run);
  }

  /** Take the earliest event and move the clock to its time. */
  pop(): SimEvent | undefined {
    const heap = this.#heap;
    if (heap.length === 0) return undefined;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    this.#now = top.time;
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
