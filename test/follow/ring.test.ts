import { EntryRing } from '../../src/follow/index.js';
import { entryBytes } from '../../src/follow/index.js';
import { span } from './helpers.js';

describe('EntryRing', () => {
  it('push() keeps at most maxEntries, evicting the oldest', () => {
    const ring = new EntryRing({ maxEntries: 3 });
    ring.reset(10);
    ring.push(span(11, 15));
    expect([ring.base, ring.last, ring.size]).toEqual([12, 15, 3]);
    expect(ring.after(12, 10, 1 << 20).map((e) => e.index)).toEqual([13, 14, 15]);
  });

  it('push() keeps at most maxBytes, but always the newest entry', () => {
    const one = entryBytes(span(1, 1, 100)[0]!);
    const ring = new EntryRing({ maxBytes: one * 2 });
    ring.reset(0);
    ring.push(span(1, 4, 100));
    expect([ring.base, ring.last, ring.bytes]).toEqual([2, 4, one * 2]);
    ring.push(span(5, 5, 10_000));
    expect([ring.base, ring.last, ring.size]).toEqual([4, 5, 1]);
  });

  it('push() refuses entries that do not follow on', () => {
    const ring = new EntryRing();
    ring.reset(5);
    expect(() => ring.push(span(7, 7))).toThrow('Cannot add entry 7 to the feed ring: expected 6');
  });

  it('bytesAfter() counts what a subscriber still has to receive', () => {
    const ring = new EntryRing({ maxEntries: 4 });
    ring.reset(0);
    ring.push(span(1, 6, 68)); // 100 bytes each with the overhead; keeps 3..6
    expect(ring.bytesAfter(2)).toBe(400);
    expect(ring.bytesAfter(4)).toBe(200);
    expect(ring.bytesAfter(6)).toBe(0);
    expect(ring.bytesAfter(9)).toBe(0);
  });

  it('after() batches by count and bytes, at least one entry, and refuses evicted positions', () => {
    const ring = new EntryRing({ maxEntries: 100 });
    ring.reset(0);
    ring.push(span(1, 10, 68));
    expect(ring.after(0, 4, 1 << 20).map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(ring.after(3, 100, 250).map((e) => e.index)).toEqual([4, 5]);
    expect(ring.after(3, 100, 1).map((e) => e.index)).toEqual([4]);
    ring.push(span(11, 200, 68));
    expect(() => ring.after(50, 1, 1)).toThrow('it starts after 100');
  });

  it('stays correct across internal compaction (many pushes)', () => {
    const ring = new EntryRing({ maxEntries: 10 });
    ring.reset(0);
    for (let i = 1; i <= 5_000; i++) ring.push(span(i, i, 68));
    expect([ring.base, ring.last]).toEqual([4_990, 5_000]);
    expect(ring.bytesAfter(4_995)).toBe(500);
    expect(ring.after(4_998, 10, 1 << 20).map((e) => e.index)).toEqual([4_999, 5_000]);
  });
});
