/**
 * The behaviour every RaftStorage must have, run against each implementation (the js-libp2p
 * "interface compliance suite" idea). Each check looks at the live storage and again after a
 * restart, since a storage that only remembers in memory is not one.
 */
import type { RaftStorage } from '../../../src/raft/interfaces.js';
import { StorageError } from '../../../src/raft/storage/index.js';
import { EntryType, type RestoredState } from '../../../src/raft/types.js';
import { entries, entry, hardState, snapshot } from './helpers.js';

export interface StorageHarness {
  /** A fresh, empty storage. */
  create(): Promise<RaftStorage>;
  /** A clean restart: close `storage` and open what it left behind. */
  reopen(storage: RaftStorage): Promise<RaftStorage>;
  /** Remove whatever create() made. */
  cleanup(): Promise<void>;
}

export function runStorageCompliance(name: string, harness: StorageHarness): void {
  describe(`${name} (RaftStorage compliance)`, () => {
    let storage: RaftStorage;

    beforeEach(async () => {
      storage = await harness.create();
    });
    afterEach(async () => {
      await storage.close();
      await harness.cleanup();
    });

    /** Check `expect` on the live storage, then after a restart (which becomes `storage`). */
    async function both(check: (restored: RestoredState) => void): Promise<void> {
      check(await storage.load());
      storage = await harness.reopen(storage);
      check(await storage.load());
    }

    it('load() of a new storage is empty', async () => {
      await both((r) => {
        expect(r.hardState).toEqual({ term: 0, vote: null, commit: 0 });
        expect(r.snapshot).toBeUndefined();
        expect(r.entries).toEqual([]);
      });
    });

    it('save() round-trips entries and hard state', async () => {
      const confData = new Uint8Array([9, 8, 7, 6]).subarray(1, 3);
      const batch = [
        ...entries(1, 3, 1),
        { index: 4, term: 1, type: EntryType.ConfChange, data: confData },
        { index: 5, term: 2, type: EntryType.Noop, data: new Uint8Array() },
      ];
      await storage.save({ entries: batch, hardState: hardState(2, 'b', 3) }, true);
      await both((r) => {
        expect(r.entries).toEqual(batch);
        expect(r.entries[3]!.data).toEqual(new Uint8Array([8, 7]));
        expect(r.hardState).toEqual(hardState(2, 'b', 3));
      });
    });

    it('save() of entries from index i discards the stored entries from i on', async () => {
      await storage.save({ entries: entries(1, 6, 1) }, true);
      await storage.save({ entries: entries(4, 5, 2) }, true);
      await both((r) => expect(r.entries).toEqual([...entries(1, 3, 1), ...entries(4, 5, 2)]));
      await storage.save({ entries: entries(6, 6, 2) }, true);
      await both((r) =>
        expect(r.entries.map((e) => [e.index, e.term])).toEqual([
          [1, 1],
          [2, 1],
          [3, 1],
          [4, 2],
          [5, 2],
          [6, 2],
        ]),
      );
    });

    it('save() keeps the newest hard state and leaves it alone when none is given', async () => {
      await storage.save({ entries: [], hardState: hardState(1, 'a', 0) }, true);
      await storage.save({ entries: entries(1, 2, 1) }, false);
      await storage.save({ entries: [], hardState: hardState(3, null, 2) }, true);
      await storage.save({ entries: entries(3, 3, 3) }, true);
      await both((r) => {
        expect(r.hardState).toEqual(hardState(3, null, 2));
        expect(r.entries).toHaveLength(3);
      });
    });

    it('save() with a snapshot replaces the whole log with it', async () => {
      await storage.save({ entries: entries(1, 10, 1), hardState: hardState(1, 'a', 4) }, true);
      const snap = snapshot(6, 2);
      await storage.save({ snapshot: snap, entries: entries(7, 8, 2), hardState: hardState(2, 'a', 6) }, true);
      await both((r) => {
        expect(r.snapshot).toEqual(snap);
        expect(r.entries).toEqual(entries(7, 8, 2));
        expect(r.hardState).toEqual(hardState(2, 'a', 6));
      });
    });

    it('save() with a snapshot beyond the log drops every entry', async () => {
      await storage.save({ entries: entries(1, 3, 1) }, true);
      await storage.save({ snapshot: snapshot(50, 4), entries: [] }, true);
      await both((r) => {
        expect(r.snapshot?.meta.index).toBe(50);
        expect(r.entries).toEqual([]);
      });
      await storage.save({ entries: entries(51, 52, 4) }, true);
      await both((r) => expect(r.entries).toEqual(entries(51, 52, 4)));
    });

    it('saveSnapshot() keeps the snapshot and only the entries after it', async () => {
      await storage.save({ entries: entries(1, 10, 1), hardState: hardState(1, 'a', 10) }, true);
      const snap = snapshot(6, 1);
      await storage.saveSnapshot(snap);
      await both((r) => {
        expect(r.snapshot).toEqual(snap);
        expect(r.entries).toEqual(entries(7, 10, 1));
      });
      await storage.save({ entries: entries(11, 12, 1) }, true);
      await both((r) => expect(r.entries).toEqual(entries(7, 12, 1)));
    });

    it('saveSnapshot() of a snapshot not newer than the stored one changes nothing', async () => {
      await storage.save({ entries: entries(1, 10, 1) }, true);
      await storage.saveSnapshot(snapshot(6, 1, 1));
      await storage.saveSnapshot(snapshot(4, 1, 2));
      await storage.saveSnapshot(snapshot(6, 1, 3));
      await both((r) => {
        expect(r.snapshot).toEqual(snapshot(6, 1, 1));
        expect(r.entries).toEqual(entries(7, 10, 1));
      });
    });

    it('saveSnapshot() past the last entry leaves an empty log that continues after it', async () => {
      await storage.save({ entries: entries(1, 3, 1) }, true);
      await storage.saveSnapshot(snapshot(5, 1));
      await storage.save({ entries: entries(6, 6, 2) }, true);
      await both((r) => {
        expect(r.snapshot?.meta.index).toBe(5);
        expect(r.entries).toEqual(entries(6, 6, 2));
      });
    });

    it('save() ignores entries the snapshot already covers', async () => {
      await storage.save({ entries: entries(1, 10, 1) }, true);
      await storage.saveSnapshot(snapshot(6, 1));
      await storage.save({ entries: entries(3, 5, 1) }, true);
      await both((r) => expect(r.entries).toEqual(entries(7, 10, 1)));
      await storage.save({ entries: entries(5, 8, 2) }, true);
      await both((r) => expect(r.entries).toEqual(entries(7, 8, 2)));
    });

    it('save() rejects entries that leave a gap or are not contiguous, and stores nothing of them', async () => {
      await storage.save({ entries: entries(1, 3, 1) }, true);
      await expect(storage.save({ entries: entries(5, 6, 1) }, true)).rejects.toThrow(RangeError);
      await expect(storage.save({ entries: [entry(4, 1), entry(6, 1)] }, true)).rejects.toThrow(/not contiguous/);
      await expect(storage.save({ entries: [], hardState: hardState(1, null, 0) }, true)).resolves.toBeUndefined();
      await both((r) => expect(r.entries).toEqual(entries(1, 3, 1)));
    });

    it('save() rejects a snapshot older than the stored one', async () => {
      await storage.save({ entries: entries(1, 10, 1) }, true);
      await storage.saveSnapshot(snapshot(8, 1));
      await expect(storage.save({ snapshot: snapshot(5, 1), entries: [] }, true)).rejects.toThrow(
        /older than the stored snapshot/,
      );
      await both((r) => expect(r.snapshot?.meta.index).toBe(8));
    });

    it('save() without sync followed by one with sync keeps everything', async () => {
      for (let i = 1; i <= 20; i++)
        await storage.save({ entries: [entry(i, 1)], hardState: hardState(1, 'a', i - 1) }, false);
      await storage.save({ entries: [], hardState: hardState(1, 'a', 20) }, true);
      await both((r) => {
        expect(r.entries).toEqual(entries(1, 20, 1));
        expect(r.hardState.commit).toBe(20);
      });
    });

    it('calls after close() reject with StorageError', async () => {
      await storage.save({ entries: entries(1, 1, 1) }, true);
      await storage.close();
      await expect(storage.load()).rejects.toThrow(StorageError);
      await expect(storage.save({ entries: entries(2, 2, 1) }, true)).rejects.toThrow(/closed/);
      storage = await harness.reopen(storage);
      expect((await storage.load()).entries).toEqual(entries(1, 1, 1));
    });
  });
}
