/**
 * A crash can cut the last write anywhere. For every byte offset in the last records of the WAL,
 * cut the file there and reopen: everything written before the cut comes back, the partial
 * record is truncated away, and appending afterwards works and survives another restart.
 */
import { readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileRaftStorage } from '../../../src/raft/storage/index.js';
import type { RestoredState } from '../../../src/raft/types.js';
import { entry, summarize, tempDir } from './helpers.js';
import { expectedAfter, makeOps, writeWal, type WrittenWal } from './wal-fixture.js';

/** Byte offsets cut per layout: the frames of the last `frames` saves. */
async function cutEveryOffset(wal: WrittenWal, dir: string, frames: number, segmentBytes: number): Promise<number> {
  const lastSegment = wal.segments.at(-1)!;
  const path = join(wal.walDir, lastSegment);
  const original = await readFile(path);
  const inLast = wal.ends.map((e, i) => ({ ...e, op: i })).filter((e) => e.segment === lastSegment);
  expect(inLast.length).toBeGreaterThan(frames);
  const from = inLast[inLast.length - frames - 1]!.end;
  const models = new Map<number, RestoredState>();
  let cuts = 0;
  for (let cut = from; cut < original.length; cut++) {
    await writeFile(path, original.subarray(0, cut));
    // An append in an earlier round may have rotated into a new segment: drop it.
    for (const name of await readdir(wal.walDir))
      if (!wal.segments.includes(name)) await unlink(join(wal.walDir, name));

    const complete = wal.ends.filter((e) => e.segment !== lastSegment || e.end <= cut).length;
    if (!models.has(complete)) models.set(complete, await expectedAfter(wal.ops, complete));
    const expected = models.get(complete)!;

    const warnings: string[] = [];
    const storage = await FileRaftStorage.open(dir, { segmentBytes, onWarning: (m) => warnings.push(m) });
    const restored = await storage.load();
    expect({ cut, restored: summarize(restored) }).toEqual({ cut, restored: summarize(expected) });
    const kept = wal.ends[complete - 1]!.end;
    expect({ cut, size: (await stat(path)).size }).toEqual({ cut, size: kept });
    expect(warnings.length).toBe(cut === kept ? 0 : 1);

    const next = entry((expected.entries.at(-1)?.index ?? 0) + 1, 9, 5);
    await storage.save({ entries: [next] }, false); // durability is not what this checks
    await storage.close();
    const again = await FileRaftStorage.open(dir, { segmentBytes });
    expect(summarize(await again.load())).toEqual(summarize({ ...expected, entries: [...expected.entries, next] }));
    await again.close();
    cuts++;
  }
  return cuts;
}

describe('FileRaftStorage torn tail', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  beforeEach(async () => {
    tmp = await tempDir();
  });
  afterEach(async () => {
    await tmp.remove();
  });

  it('open() recovers every record written before a cut at any byte of the last records (one segment)', async () => {
    const wal = await writeWal(tmp.dir, makeOps(60), 1 << 20);
    expect(wal.segments).toHaveLength(1);
    const cuts = await cutEveryOffset(wal, tmp.dir, 10, 1 << 20);
    expect(cuts).toBeGreaterThan(300);
  });

  it('open() recovers every record written before a cut in the last of several segments', async () => {
    const wal = await writeWal(tmp.dir, makeOps(60), 900);
    expect(wal.segments.length).toBeGreaterThan(2);
    const cuts = await cutEveryOffset(wal, tmp.dir, 5, 900);
    expect(cuts).toBeGreaterThan(150);
  });

  it('open() truncates a zero-filled tail (a crash after the file grew but before data landed)', async () => {
    const ops = makeOps(12);
    const wal = await writeWal(tmp.dir, ops, 1 << 20);
    const path = join(wal.walDir, wal.segments[0]!);
    const original = await readFile(path);
    await writeFile(path, Buffer.concat([original, Buffer.alloc(4096)]));
    const storage = await FileRaftStorage.open(tmp.dir);
    expect(await storage.load()).toEqual(await expectedAfter(ops, ops.length));
    expect((await stat(path)).size).toBe(original.length);
    await storage.close();
  });
});
