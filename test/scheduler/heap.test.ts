import { IndexedHeap } from '../../src/scheduler/heap.js';
import { seededRandom } from '../../src/scheduler/index.js';

interface Item {
  heapIndex: number;
  key: number;
  id: number;
}

const before = (a: Item, b: Item) => a.key > b.key || (a.key === b.key && a.id < b.id);

describe('IndexedHeap', () => {
  it('pops items in order after random pushes, updates and removals (seeded)', () => {
    const random = seededRandom(7);
    const heap = new IndexedHeap<Item>(before);
    const live = new Set<Item>();
    for (let step = 0; step < 3000; step++) {
      const r = random();
      const items = [...live];
      if (r < 0.4 || items.length === 0) {
        const item = { heapIndex: -1, key: Math.floor(random() * 50), id: step };
        heap.push(item);
        live.add(item);
      } else if (r < 0.7) {
        const item = items[Math.floor(random() * items.length)]!;
        item.key = Math.floor(random() * 50);
        heap.update(item);
      } else if (r < 0.85) {
        const item = items[Math.floor(random() * items.length)]!;
        heap.remove(item);
        live.delete(item);
        expect(item.heapIndex).toBe(-1);
      } else {
        const expected = [...live].sort((a, b) => (before(a, b) ? -1 : 1))[0];
        const top = heap.pop();
        expect(top).toBe(expected);
        live.delete(top!);
      }
      expect(heap.size).toBe(live.size);
    }
    const drained: Item[] = [];
    for (let item = heap.pop(); item !== undefined; item = heap.pop()) drained.push(item);
    expect(drained).toEqual([...live].sort((a, b) => (before(a, b) ? -1 : 1)));
  });

  it('refuses to push an item twice or update one it does not hold', () => {
    const heap = new IndexedHeap<Item>(before);
    const item = { heapIndex: -1, key: 1, id: 1 };
    heap.push(item);
    expect(() => heap.push(item)).toThrow('already in a heap');
    expect(() => heap.update({ heapIndex: -1, key: 1, id: 2 })).toThrow('not in this heap');
    heap.remove({ heapIndex: 0, key: 9, id: 9 }); // not ours: ignored
    expect(heap.peek()).toBe(item);
  });
});
