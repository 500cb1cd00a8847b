import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileRaftStorage, measureFsyncLatency, StorageError } from '../../../src/raft/storage/index.js';
import { SnapshotStore } from '../../../src/raft/storage/snapshot-store.js';
import { runStorageCompliance } from './compliance.js';
import { entries, entry, hardState, snapshot, tempDir } from './helpers.js';

let current: { dir: string; remove(): Promise<void> } | undefined;

runStorageCompliance('FileRaftStorage', {
  create: async () => {
    current = await tempDir();
    // Tiny segments so the compliance suite also crosses segment boundaries.
    return FileRaftStorage.open(current.dir, { segmentBytes: 200 });
  },
  reopen: async (storage) => {
    await storage.close();
    return FileRaftStorage.open((storage as FileRaftStorage).dir, { segmentBytes: 200 });
  },
  cleanup: async () => {
    await current?.remove();
  },
});

describe('FileRaftStorage', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  const open: FileRaftStorage[] = [];

  async function openStorage(
    options: Parameters<typeof FileRaftStorage.open>[1] = {},
    dir = tmp.dir,
  ): Promise<FileRaftStorage> {
    const storage = await FileRaftStorage.open(dir, options);
    open.push(storage);
    return storage;
  }

  beforeEach(async () => {
    tmp = await tempDir();
  });
  afterEach(async () => {
    for (const storage of open.splice(0)) await storage.close();
    await tmp.remove();
  });

  const walFiles = async (): Promise<string[]> => (await readdir(join(tmp.dir, 'wal'))).sort();
  const snapFiles = async (): Promise<string[]> => (await readdir(join(tmp.dir, 'snap'))).sort();

  it('open() creates a missing data directory, nested', async () => {
    const dir = join(tmp.dir, 'a', 'b', 'raft');
    const storage = await openStorage({}, dir);
    expect((await storage.load()).entries).toEqual([]);
    expect(await readdir(dir)).toEqual(expect.arrayContaining(['wal', 'snap']));
  });

  it('open() refuses a data directory that is a file, saying so', async () => {
    const file = join(tmp.dir, 'not-a-dir');
    await writeFile(file, 'x');
    await expect(FileRaftStorage.open(file)).rejects.toThrow(StorageError);
    await expect(FileRaftStorage.open(file)).rejects.toThrow(/not-a-dir.*(not a directory|a file is in the way)/);
  });

  it('save() rotates to a new segment past segmentBytes and each segment name sorts by sequence', async () => {
    const storage = await openStorage({ segmentBytes: 300 });
    for (let i = 1; i <= 40; i++)
      await storage.save({ entries: [entry(i, 1, 32)], hardState: hardState(1, 'a', i) }, true);
    const names = await walFiles();
    expect(names.length).toBeGreaterThan(5);
    expect(names).toEqual([...storage.segments]);
    const seqs = names.map((n) => Number(n.slice(0, 16)));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    await storage.close();
    const reopened = await openStorage({ segmentBytes: 300 });
    const r = await reopened.load();
    expect(r.entries).toEqual(entries(1, 40, 1, 32));
    expect(r.hardState).toEqual(hardState(1, 'a', 40));
    await reopened.save({ entries: [entry(41, 2, 32)] }, true);
    expect((await reopened.load()).entries).toHaveLength(41);
  });

  it('saveSnapshot() deletes whole segments below the snapshot, never the current one', async () => {
    const storage = await openStorage({ segmentBytes: 300 });
    for (let i = 1; i <= 40; i++) await storage.save({ entries: [entry(i, 1, 32)] }, true);
    const before = await walFiles();
    await storage.saveSnapshot(snapshot(30, 1));
    const after = await walFiles();
    expect(after.length).toBeLessThan(before.length);
    expect(after.at(-1)).toBe(before.at(-1));
    // Only a prefix goes: what is left is the tail of what was there.
    expect(before.slice(before.length - after.length)).toEqual(after);
    await storage.saveSnapshot(snapshot(40, 1));
    expect(await walFiles()).toEqual([before.at(-1)]);
    await storage.close();
    const r = await (await openStorage({ segmentBytes: 300 })).load();
    expect(r.snapshot?.meta.index).toBe(40);
    expect(r.entries).toEqual([]);
  });

  it('the hard state survives compaction of every segment that held it (segment headers carry it)', async () => {
    const storage = await openStorage({ segmentBytes: 200 });
    await storage.save({ entries: entries(1, 2, 3), hardState: hardState(3, 'c', 2) }, true);
    for (let i = 3; i <= 30; i++) await storage.save({ entries: [entry(i, 3, 40)] }, true);
    await storage.saveSnapshot(snapshot(29, 3));
    expect((await walFiles())[0]).not.toMatch(/^0000000000000001-/);
    await storage.close();
    const r = await (await openStorage({ segmentBytes: 200 })).load();
    expect(r.hardState).toEqual(hardState(3, 'c', 2));
    expect(r.entries).toEqual([entry(30, 3, 40)]);
  });

  it('save() with a snapshot deletes every older segment', async () => {
    const storage = await openStorage({ segmentBytes: 200 });
    for (let i = 1; i <= 20; i++) await storage.save({ entries: [entry(i, 1, 40)] }, true);
    expect((await walFiles()).length).toBeGreaterThan(3);
    await storage.save(
      { snapshot: snapshot(15, 2), entries: entries(16, 17, 2), hardState: hardState(2, null, 15) },
      true,
    );
    expect(await walFiles()).toHaveLength(1);
    await storage.close();
    const r = await (await openStorage({ segmentBytes: 200 })).load();
    expect(r.snapshot?.meta).toEqual(snapshot(15, 2).meta);
    expect(r.entries).toEqual(entries(16, 17, 2));
  });

  it('an installed snapshot stays in force after the segment holding its marker is deleted', async () => {
    // segmentBytes 1: every save starts a new segment, so the marker gets a segment of its own.
    let storage = await openStorage({ segmentBytes: 1 });
    await storage.save({ entries: entries(1, 5, 1), hardState: hardState(1, 'a', 2) }, true);
    await storage.save({ snapshot: snapshot(10, 2), entries: [], hardState: hardState(2, 'b', 10) }, true);
    await storage.save({ entries: entries(11, 12, 2) }, true);
    await storage.close();
    storage = await openStorage({ segmentBytes: 1 });
    // open() compacted away the marker's segment; the next segment's header carries the reset.
    expect(await walFiles()).toHaveLength(1);
    await storage.close();
    for (let round = 0; round < 2; round++) {
      const reopened = await openStorage({ segmentBytes: 1 });
      const r = await reopened.load();
      expect(r.snapshot).toEqual(snapshot(10, 2));
      expect(r.entries).toEqual(entries(11, 12, 2));
      expect(r.hardState).toEqual(hardState(2, 'b', 10));
      await reopened.close();
    }
  });

  it('saveSnapshot() keeps the newest two snapshot files', async () => {
    const storage = await openStorage();
    await storage.save({ entries: entries(1, 10, 1) }, true);
    for (const index of [2, 4, 6, 8]) await storage.saveSnapshot(snapshot(index, 1));
    expect(await snapFiles()).toEqual([
      '0000000000000006-0000000000000001.snap',
      '0000000000000008-0000000000000001.snap',
    ]);
  });

  it('open() ignores and removes a snapshot temp file left by a crash, using the old snapshot', async () => {
    const storage = await openStorage();
    await storage.save({ entries: entries(1, 10, 1) }, true);
    await storage.saveSnapshot(snapshot(4, 1));
    await storage.close();
    // A crash while writing the snapshot at 9: a partial temp file, never renamed.
    const temp = join(tmp.dir, 'snap', '0000000000000009-0000000000000001.snap.tmp');
    await writeFile(temp, Buffer.from([1, 2, 3, 4, 5]));
    await writeFile(join(tmp.dir, 'wal', '0000000000000009-0000000000000001.wal.tmp'), 'partial');
    const r = await (await openStorage()).load();
    expect(r.snapshot).toEqual(snapshot(4, 1));
    expect(r.entries).toEqual(entries(5, 10, 1));
    expect(await snapFiles()).toEqual(['0000000000000004-0000000000000001.snap']);
    expect((await walFiles()).some((n) => n.endsWith('.tmp'))).toBe(false);
  });

  it('open() recovers from a crash between an installed snapshot file and its WAL marker', async () => {
    const storage = await openStorage();
    await storage.save({ entries: entries(1, 30, 1), hardState: hardState(1, 'a', 5) }, true);
    await storage.close();
    // What save({ snapshot }) writes first; the crash comes before the WAL record.
    const snaps = await SnapshotStore.open(join(tmp.dir, 'snap'));
    await snaps.write(snapshot(12, 2), true);
    const warnings: string[] = [];
    const reopened = await openStorage({ onWarning: (m) => warnings.push(m) });
    const r = await reopened.load();
    expect(r.snapshot).toEqual(snapshot(12, 2));
    expect(r.entries).toEqual([]);
    expect(warnings.join()).toMatch(/marker/);
    // Entries appended now must survive the next replay (the marker was rewritten).
    await reopened.save({ entries: entries(13, 14, 2) }, true);
    await reopened.close();
    expect((await (await openStorage()).load()).entries).toEqual(entries(13, 14, 2));
  });

  it('load() after saves reads the files again and matches what was saved', async () => {
    const storage = await openStorage({ segmentBytes: 250 });
    await storage.load();
    await storage.save({ entries: entries(1, 12, 1, 30), hardState: hardState(1, 'a', 3) }, true);
    await storage.saveSnapshot(snapshot(5, 1));
    await storage.save({ entries: entries(10, 11, 2) }, false);
    const r = await storage.load();
    expect(r.snapshot?.meta.index).toBe(5);
    expect(r.entries).toEqual([...entries(6, 9, 1, 30), ...entries(10, 11, 2)]);
  });

  it('save() calls made without awaiting run in call order', async () => {
    const storage = await openStorage({ segmentBytes: 500 });
    const done: Promise<void>[] = [];
    for (let i = 1; i <= 30; i++)
      done.push(storage.save({ entries: [entry(i, 1)], hardState: hardState(1, null, i) }, i % 5 === 0));
    await Promise.all(done);
    const raw = await readFile(join(tmp.dir, 'wal', (await walFiles())[0]!));
    expect(raw.length).toBeGreaterThan(0);
    await storage.close();
    const r = await (await openStorage()).load();
    expect(r.entries).toEqual(entries(1, 30, 1));
    expect(r.hardState.commit).toBe(30);
  });

  it('a failed write makes every later call reject until the member restarts', async () => {
    const storage = await openStorage({ segmentBytes: 1 }); // every save creates a segment
    await storage.save({ entries: entries(1, 1, 1) }, true);
    await rm(join(tmp.dir, 'wal'), { recursive: true }); // the disk "fails" under it
    await expect(storage.save({ entries: entries(2, 2, 1) }, true)).rejects.toThrow(
      /Cannot write Raft storage.*restart/,
    );
    await expect(storage.save({ entries: [], hardState: hardState(1, null, 1) }, true)).rejects.toThrow(
      /an earlier write .* failed/,
    );
    await expect(storage.load()).rejects.toThrow(StorageError);
  });

  it('open() ignores files it does not know in its directories', async () => {
    await mkdir(join(tmp.dir, 'wal'), { recursive: true });
    await writeFile(join(tmp.dir, 'wal', 'README'), 'hello');
    const storage = await openStorage();
    await storage.save({ entries: entries(1, 2, 1) }, true);
    await storage.close();
    expect((await (await openStorage()).load()).entries).toEqual(entries(1, 2, 1));
  });
});

describe('measureFsyncLatency()', () => {
  it('reports percentiles of the requested number of samples and leaves no file behind', async () => {
    const tmp = await tempDir();
    try {
      const result = await measureFsyncLatency(tmp.dir, { samples: 5 });
      expect(result.samples).toBe(5);
      expect(result.p50Micros).toBeGreaterThan(0);
      expect(result.p99Micros).toBeGreaterThanOrEqual(result.p50Micros);
      expect(await readdir(tmp.dir)).toEqual([]);
    } finally {
      await tmp.remove();
    }
  });
});
