/**
 * Snapshot files: `snap/<index>-<term>.snap`, each one frame (length, CRC, cbor record), written
 * atomically. The newest is what load uses; the previous one is kept as a spare for an operator.
 * @internal
 */
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Snapshot } from '../types.js';
import { StorageCorruptError, StorageVersionError } from './errors.js';
import { encodeFrame, scanFrames } from './frame.js';
import { ensureDir, fsyncDir, removeTempFiles, writeFileAtomic } from './fs-util.js';
import {
  decodeSnapshotFile,
  encodeSnapshotFile,
  FORMAT_VERSION,
  RecordVersionError,
  type SnapshotFileRecord,
} from './records.js';

const NAME = /^(\d{16})-(\d{16})\.snap$/;

export interface SnapshotFileInfo {
  readonly name: string;
  readonly index: number;
  readonly term: number;
}

function pad(n: number): string {
  return String(n).padStart(16, '0');
}

/** The file name of the snapshot at (index, term); names sort in log order. */
export function snapshotFileName(index: number, term: number): string {
  return `${pad(index)}-${pad(term)}.snap`;
}

export class SnapshotStore {
  readonly dir: string;
  readonly #keep: number;

  private constructor(dir: string, keep: number) {
    this.dir = dir;
    this.#keep = keep;
  }

  /** Open (creating if needed) and delete temp files left by a crash mid-write. */
  static async open(dir: string, keep = 2): Promise<SnapshotStore> {
    await ensureDir(dir, 'snapshot directory');
    await removeTempFiles(dir);
    return new SnapshotStore(dir, Math.max(1, keep));
  }

  /** Snapshot files, oldest first. Other files are ignored. */
  async list(): Promise<SnapshotFileInfo[]> {
    const files: SnapshotFileInfo[] = [];
    for (const name of await readdir(this.dir)) {
      const match = NAME.exec(name);
      if (match) files.push({ name, index: Number(match[1]), term: Number(match[2]) });
    }
    return files.sort((a, b) => a.index - b.index || a.term - b.term);
  }

  /** Write a snapshot durably and atomically. `reset`: installed through save(), replacing the log. */
  async write(snapshot: Snapshot, reset: boolean): Promise<void> {
    const frame = encodeFrame(encodeSnapshotFile({ snapshot, reset }));
    await writeFileAtomic(this.dir, snapshotFileName(snapshot.meta.index, snapshot.meta.term), frame);
  }

  /**
   * The newest snapshot, or undefined when there is none. A damaged newest file throws rather
   * than falling back to an older one: the WAL may already have been compacted past it.
   */
  async loadNewest(): Promise<SnapshotFileRecord | undefined> {
    const newest = (await this.list()).at(-1);
    return newest === undefined ? undefined : this.read(newest);
  }

  /** Read and check one snapshot file. */
  async read(info: SnapshotFileInfo): Promise<SnapshotFileRecord> {
    const file = join(this.dir, info.name);
    const buf = await readFile(file);
    const { frames, problem } = scanFrames(buf);
    if (problem !== undefined) throw new StorageCorruptError(file, problem.offset, `snapshot file: ${problem.reason}`);
    if (frames.length !== 1)
      throw new StorageCorruptError(
        file,
        frames[1]?.offset ?? 0,
        `snapshot file holds ${frames.length} frames, expected 1`,
      );
    let record: SnapshotFileRecord;
    try {
      record = decodeSnapshotFile(frames[0]!.payload);
    } catch (e) {
      if (e instanceof RecordVersionError) throw new StorageVersionError(file, e.found, FORMAT_VERSION);
      throw new StorageCorruptError(file, 0, `snapshot file: ${(e as Error).message}`, { cause: e });
    }
    const { index, term } = record.snapshot.meta;
    if (index !== info.index || term !== info.term) {
      throw new StorageCorruptError(
        file,
        0,
        `snapshot file holds index ${index} term ${term}, which does not match its name`,
      );
    }
    return record;
  }

  /** Delete all but the newest `keep` snapshot files. */
  async prune(): Promise<void> {
    const files = await this.list();
    const old = files.slice(0, Math.max(0, files.length - this.#keep));
    for (const { name } of old) await unlink(join(this.dir, name));
    if (old.length > 0) await fsyncDir(this.dir);
  }
}
