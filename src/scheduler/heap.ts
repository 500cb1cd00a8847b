/**
 * A binary heap whose items know their position, so an item whose key changed can be moved
 * (`update`) or taken out (`remove`) in O(log n): after a placement only the chosen node's key
 * changes, and re-sorting all nodes per task would cost O(n log n).
 */

/** An item that can sit in one {@link IndexedHeap} at a time; `heapIndex` is -1 when in none. */
export interface HeapItem {
  heapIndex: number;
}

export class IndexedHeap<T extends HeapItem> {
  readonly #items: T[] = [];
  /** True when `a` should come out before `b`. */
  readonly #before: (a: T, b: T) => boolean;

  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  get size(): number {
    return this.#items.length;
  }

  /** The first item, without removing it. */
  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    if (item.heapIndex !== -1)
      throw new RangeError(`Cannot push a heap item that is already in a heap (at index ${item.heapIndex})`);
    item.heapIndex = this.#items.length;
    this.#items.push(item);
    this.#up(item.heapIndex);
  }

  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Take an item out; no-op if it is not in this heap. */
  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.#items[i] !== item) return;
    const last = this.#items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    this.#items[i] = last;
    last.heapIndex = i;
    this.#fix(i);
  }

  /** Restore the order after `item`'s key changed. */
  update(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.#items[i] !== item) throw new RangeError('Cannot update a heap item that is not in this heap');
    this.#fix(i);
  }

  #fix(i: number): void {
    if (i > 0 && this.#before(this.#items[i]!, this.#items[(i - 1) >> 1]!)) this.#up(i);
    else this.#down(i);
  }

  #up(i: number): void {
    const items = this.#items;
    const item = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (!this.#before(item, parent)) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.#before(items[r]!, items[l]!) ? r : l;
      const child = items[c]!;
      if (!this.#before(child, item)) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
