/**
 * Damage that is not a torn tail must stop the member with an error naming the file, the byte
 * offset and what to do; it must never be skipped or "repaired" away.
 */
import { readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Encoder } from 'cbor-x';
import { FileRaftStorage, StorageCorruptError, StorageVersionError } from '../../../src/raft/storage/index.js';
import { encodeFrame } from '../../../src/raft/storage/frame.js';
import { entries, summarize, snapshot, tempDir } from './helpers.js';
import { expectedAfter, makeOps, writeWal } from './wal-fixture.js';

const cbor = new Encoder({ useRecords: false });

async function openError(dir: string): Promise<unknown> {
  try {
    const storage = await FileRaftStorage.open(dir);
    await storage.close();
  } catch (e) {
    return e;
  }
  throw new Error('open() succeeded on a damaged store');
}

describe('FileRaftStorage corruption', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  beforeEach(async () => {
    tmp = await tempDir();
  });
  afterEach(async () => {
    await tmp.remove();
  });

  it('open() rejects a flipped bit anywhere in an earlier record, naming file and offset, and changes nothing', async () => {
    const ops = makeOps(30);
    const wal = await writeWal(tmp.dir, ops, 1 << 20);
    const path = join(wal.walDir, wal.segments[0]!);
    const original = await readFile(path);
    const start = wal.ends[9]!.end; // record 10 starts here
    const end = wal.ends[10]!.end;
    for (let at = start; at < end; at++) {
      const damaged = Buffer.from(original);
      damaged[at]! ^= 0x10;
      await writeFile(path, damaged);
      const error = await openError(tmp.dir);
      expect(error).toBeInstanceOf(StorageCorruptError);
      const corrupt = error as StorageCorruptError;
      expect({ at, file: corrupt.file, offset: corrupt.offset }).toEqual({ at, file: path, offset: start });
      expect(corrupt.message).toContain(path);
      expect(corrupt.message).toContain(`at byte ${start}`);
      expect(corrupt.message).toMatch(/rejoin/);
      expect(Buffer.compare(await readFile(path), damaged)).toBe(0);
    }
  });

  it('open() rejects a bad final frame of an earlier segment even with nothing after it in that file', async () => {
    const wal = await writeWal(tmp.dir, makeOps(40), 600);
    expect(wal.segments.length).toBeGreaterThan(2);
    const first = join(wal.walDir, wal.segments[0]!);
    const bytes = await readFile(first);
    bytes[bytes.length - 3]! ^= 0xff;
    await writeFile(first, bytes);
    const error = (await openError(tmp.dir)) as StorageCorruptError;
    expect(error).toBeInstanceOf(StorageCorruptError);
    expect(error.file).toBe(first);
    expect(error.message).toMatch(/checksum mismatch.*not the last/);
  });

  it('open() rejects an earlier segment cut short', async () => {
    const wal = await writeWal(tmp.dir, makeOps(40), 600);
    const first = join(wal.walDir, wal.segments[0]!);
    const bytes = await readFile(first);
    await writeFile(first, bytes.subarray(0, bytes.length - 5));
    const error = (await openError(tmp.dir)) as StorageCorruptError;
    expect(error).toBeInstanceOf(StorageCorruptError);
    expect(error.message).toMatch(/runs past the end of the file/);
  });

  it('open() rejects a damaged length field that hides valid records after it', async () => {
    const ops = makeOps(20);
    const wal = await writeWal(tmp.dir, ops, 1 << 20);
    const path = join(wal.walDir, wal.segments[0]!);
    const bytes = await readFile(path);
    const at = wal.ends[14]!.end;
    bytes.writeUInt32LE(100_000, at); // now claims to run past the end of the file
    await writeFile(path, bytes);
    const error = (await openError(tmp.dir)) as StorageCorruptError;
    expect(error).toBeInstanceOf(StorageCorruptError);
    expect(error.offset).toBe(at);
    expect(error.message).toMatch(/a valid frame follows at byte \d+/);
  });

  it('open() treats a bad checksum in the very last record as a torn write and drops only that record', async () => {
    const ops = makeOps(20);
    const wal = await writeWal(tmp.dir, ops, 1 << 20);
    const path = join(wal.walDir, wal.segments[0]!);
    const bytes = await readFile(path);
    bytes[bytes.length - 2]! ^= 0x01;
    await writeFile(path, bytes);
    const storage = await FileRaftStorage.open(tmp.dir);
    expect(summarize(await storage.load())).toEqual(summarize(await expectedAfter(ops, ops.length - 1)));
    await storage.close();
  });

  it('open() rejects a frame with a valid checksum whose payload is not a known record', async () => {
    const wal = await writeWal(tmp.dir, makeOps(8), 1 << 20);
    const path = join(wal.walDir, wal.segments[0]!);
    const bytes = await readFile(path);
    await writeFile(path, Buffer.concat([bytes, encodeFrame(cbor.encode([99, 'what']))]));
    const error = (await openError(tmp.dir)) as StorageCorruptError;
    expect(error).toBeInstanceOf(StorageCorruptError);
    expect(error.offset).toBe(bytes.length);
    expect(error.message).toMatch(/checksum is valid but record tag 99 is unknown/);
  });

  it('open() rejects segments of a newer format version with a StorageVersionError', async () => {
    const wal = await writeWal(tmp.dir, makeOps(4), 1 << 20);
    const header = encodeFrame(cbor.encode([1, 2, 2, 0, null, 0, 0, 0]));
    await writeFile(join(wal.walDir, '0000000000000002-0000000000000004.wal'), header);
    await expect(FileRaftStorage.open(tmp.dir)).rejects.toThrow(StorageVersionError);
    await expect(FileRaftStorage.open(tmp.dir)).rejects.toThrow(/format version 2.*supports version 1/);
  });

  it('open() rejects a WAL with a segment missing in the middle', async () => {
    const wal = await writeWal(tmp.dir, makeOps(40), 600);
    expect(wal.segments.length).toBeGreaterThan(2);
    await unlink(join(wal.walDir, wal.segments[1]!));
    const error = (await openError(tmp.dir)) as StorageCorruptError;
    expect(error).toBeInstanceOf(StorageCorruptError);
    expect(error.message).toMatch(/a segment file is missing/);
  });

  it('open() rejects a log with a hole after the snapshot (a segment lost at the start)', async () => {
    const storage = await FileRaftStorage.open(tmp.dir, { segmentBytes: 300 });
    for (let i = 1; i <= 30; i++) await storage.save({ entries: entries(i, i, 1, 30) }, true);
    await storage.close();
    const segments = (await readdir(join(tmp.dir, 'wal'))).sort();
    // Drop the first segment and renumber nothing: the survivors start mid-log with no snapshot.
    await unlink(join(tmp.dir, 'wal', segments[0]!));
    const error = (await openError(tmp.dir)) as StorageCorruptError;
    expect(error).toBeInstanceOf(StorageCorruptError);
    expect(error.message).toMatch(/entries 1\.\.\d+ are missing/);
  });

  it('open() rejects a damaged newest snapshot file instead of falling back past compacted entries', async () => {
    const storage = await FileRaftStorage.open(tmp.dir, { segmentBytes: 300 });
    await storage.save({ entries: entries(1, 20, 1, 30) }, true);
    await storage.saveSnapshot(snapshot(10, 1));
    await storage.saveSnapshot(snapshot(18, 1));
    await storage.close();
    const file = join(tmp.dir, 'snap', '0000000000000018-0000000000000001.snap');
    const bytes = await readFile(file);
    bytes[bytes.length - 1]! ^= 0x04;
    await writeFile(file, bytes);
    const error = (await openError(tmp.dir)) as StorageCorruptError;
    expect(error).toBeInstanceOf(StorageCorruptError);
    expect(error.file).toBe(file);
    expect(error.message).toMatch(/snapshot file: checksum mismatch/);
  });

  it('open() rejects a snapshot file whose content does not match its name', async () => {
    const storage = await FileRaftStorage.open(tmp.dir);
    await storage.save({ entries: entries(1, 10, 1) }, true);
    await storage.saveSnapshot(snapshot(5, 1));
    await storage.close();
    await rename(
      join(tmp.dir, 'snap', '0000000000000005-0000000000000001.snap'),
      join(tmp.dir, 'snap', '0000000000000007-0000000000000001.snap'),
    );
    await expect(FileRaftStorage.open(tmp.dir)).rejects.toThrow(/does not match its name/);
  });
});
