/**
 * The pipelining window of one peer (etcd's `tracker.Inflights`): the last index of every
 * append message sent and not yet acknowledged, oldest first. Plain numbers, no Raft types.
 */
export class Inflights {
  readonly #capacity: number;
  #items: number[] = [];

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Records a message whose last entry is `index` (indexes only increase). */
  add(index: number): void {
    this.#items.push(index);
  }

  /** Frees every message whose last index is <= `index` (they are acknowledged). */
  freeLE(index: number): void {
    let i = 0;
    while (i < this.#items.length && this.#items[i]! <= index) i++;
    if (i > 0) this.#items.splice(0, i);
  }

  /** Frees the oldest message (a heartbeat answered: let one more through). */
  freeFirstOne(): void {
    this.#items.shift();
  }

  full(): boolean {
    return this.#items.length >= this.#capacity;
  }

  count(): number {
    return this.#items.length;
  }

  reset(): void {
    this.#items = [];
  }
}
