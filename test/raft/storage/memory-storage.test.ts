import { MemoryRaftStorage } from '../../../src/raft/storage/index.js';
import { runStorageCompliance } from './compliance.js';
import { entries, hardState, snapshot } from './helpers.js';

runStorageCompliance('MemoryRaftStorage', {
  create: async () => new MemoryRaftStorage(),
  reopen: async (storage) => {
    await storage.close();
    return (storage as MemoryRaftStorage).clone();
  },
  cleanup: async () => {},
});

describe('MemoryRaftStorage', () => {
  it('cloneDurable() keeps only what was synced', async () => {
    const storage = new MemoryRaftStorage();
    await storage.save({ entries: entries(1, 3, 1), hardState: hardState(1, 'a', 0) }, true);
    await storage.save({ entries: entries(4, 5, 1), hardState: hardState(1, 'a', 3) }, false);
    const crashed = await storage.cloneDurable().load();
    expect(crashed.entries).toEqual(entries(1, 3, 1));
    expect(crashed.hardState).toEqual(hardState(1, 'a', 0));
    expect((await storage.clone().load()).entries).toEqual(entries(1, 5, 1));
    await storage.save({ entries: entries(3, 3, 2) }, true);
    expect((await storage.cloneDurable().load()).entries).toEqual([...entries(1, 2, 1), ...entries(3, 3, 2)]);
  });

  it('saveSnapshot() is a sync point for cloneDurable()', async () => {
    const storage = new MemoryRaftStorage();
    await storage.save({ entries: entries(1, 8, 1) }, false);
    await storage.saveSnapshot(snapshot(5, 1));
    const durable = await storage.cloneDurable().load();
    expect(durable.snapshot?.meta.index).toBe(5);
    expect(durable.entries).toEqual(entries(6, 8, 1));
  });

  it('clones are independent of the original', async () => {
    const storage = new MemoryRaftStorage();
    await storage.save({ entries: entries(1, 3, 1) }, true);
    const copy = storage.clone();
    await storage.save({ entries: entries(2, 2, 5) }, true);
    await copy.save({ entries: entries(4, 4, 1) }, true);
    expect((await copy.load()).entries).toEqual(entries(1, 4, 1));
    expect(storage.entries()).toEqual([...entries(1, 1, 1), ...entries(2, 2, 5)]);
  });

  it('new MemoryRaftStorage(restored) starts from a restored state', async () => {
    const storage = new MemoryRaftStorage({
      hardState: hardState(4, 'c', 7),
      snapshot: snapshot(5, 2),
      entries: entries(6, 9, 3),
    });
    await storage.save({ entries: entries(10, 10, 4) }, true);
    const r = await storage.load();
    expect(r.hardState).toEqual(hardState(4, 'c', 7));
    expect(r.snapshot?.meta.index).toBe(5);
    expect(r.entries).toEqual([...entries(6, 9, 3), ...entries(10, 10, 4)]);
  });
});

describe('MemoryRaftStorage.cloneCrashed()', () => {
  it('keeps the synced state plus a prefix of the unsynced steps, in write order', async () => {
    const storage = new MemoryRaftStorage();
    await storage.save({ entries: entries(1, 2, 1), hardState: hardState(1, 'a', 0) }, true);
    await storage.save({ entries: entries(3, 3, 1), hardState: hardState(1, 'a', 2) }, false);
    await storage.save({ snapshot: snapshot(10, 2), entries: entries(11, 11, 2) }, false);
    // entries and hard state are one step (one frame in the file storage): never separated
    expect(storage.unsyncedSteps).toBe(3);
    const loaded = await Promise.all([0, 1, 2, 3].map((k) => storage.cloneCrashed(k).load()));
    expect(loaded.map((r) => [r.snapshot?.meta.index ?? 0, r.entries.map((e) => e.index), r.hardState.commit])).toEqual(
      [
        [0, [1, 2], 0],
        [0, [1, 2, 3], 2],
        [10, [], 2],
        [10, [11], 2],
      ],
    );
    expect(() => storage.cloneCrashed(4)).toThrow(RangeError);
  });
});
