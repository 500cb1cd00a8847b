/**
 * The append side of the WAL: one open segment, written with one write (and one fdatasync when
 * asked) per batch, rotated past `segmentBytes`, and whole-segment compaction.
 * @internal
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { HardState } from '../types.js';
import { encodeFrame } from './frame.js';
import { fsyncDir, writeAll, writeFileAtomic } from './fs-util.js';
import { encodeWalRecord, type Position } from './records.js';
import { segmentFileName } from './segments.js';
import type { ReplayedSegment } from './wal-replay.js';

/** What a new segment's header must carry: the state as of its creation. */
export interface HeaderState {
  readonly hardState: HardState;
  readonly reset: Position;
  /** The index the log continues at (goes into the file name). */
  readonly nextIndex: number;
}

export interface AppendInfo {
  /** Highest entry index in the batch (0: no entries). */
  readonly maxIndex: number;
  /** The batch starts with a snapshot marker: every earlier entry is dead. */
  readonly reset: boolean;
}

export class Wal {
  readonly #dir: string;
  readonly #segmentBytes: number;
  readonly #segments: ReplayedSegment[];
  #handle: FileHandle;

  private constructor(dir: string, segmentBytes: number, segments: ReplayedSegment[], handle: FileHandle) {
    this.#dir = dir;
    this.#segmentBytes = segmentBytes;
    this.#segments = segments;
    this.#handle = handle;
  }

  /** Continue the replayed segments, or start the first one. */
  static async open(dir: string, segmentBytes: number, segments: ReplayedSegment[], header: HeaderState): Promise<Wal> {
    const last = segments.at(-1);
    if (last === undefined) {
      const created = await Wal.#create(dir, 1, header);
      return new Wal(dir, segmentBytes, [created.segment], created.handle);
    }
    const handle = await open(join(dir, last.info.name), 'r+');
    return new Wal(dir, segmentBytes, [...segments], handle);
  }

  static async #create(
    dir: string,
    seq: number,
    header: HeaderState,
  ): Promise<{ segment: ReplayedSegment; handle: FileHandle }> {
    const name = segmentFileName(seq, header.nextIndex);
    const frame = encodeFrame(
      encodeWalRecord({ kind: 'header', seq, hardState: header.hardState, reset: header.reset }),
    );
    // Created whole under a temp name, so a segment file always starts with a complete header.
    await writeFileAtomic(dir, name, frame);
    const handle = await open(join(dir, name), 'r+');
    return { segment: { info: { name, seq, firstIndex: header.nextIndex }, size: frame.length, maxIndex: 0 }, handle };
  }

  /** The segment files, oldest first (for tests and status). */
  get segmentNames(): string[] {
    return this.#segments.map((s) => s.info.name);
  }

  get #current(): ReplayedSegment {
    return this.#segments[this.#segments.length - 1]!;
  }

  /** Append one batch of frames with a single write; fdatasync when `sync`. */
  async append(frames: Uint8Array, info: AppendInfo, sync: boolean, header: () => HeaderState): Promise<void> {
    if (this.#current.size >= this.#segmentBytes) await this.#rotate(header());
    const current = this.#current;
    await writeAll(this.#handle, frames, current.size);
    current.size += frames.length;
    if (info.reset) for (const segment of this.#segments) segment.maxIndex = 0;
    current.maxIndex = Math.max(current.maxIndex, info.maxIndex);
    if (sync) await this.#handle.datasync();
  }

  async sync(): Promise<void> {
    await this.#handle.datasync();
  }

  async #rotate(header: HeaderState): Promise<void> {
    // The old segment must be complete on disk before a newer one exists: replay treats a bad
    // frame in any segment but the last as corruption.
    await this.#handle.datasync();
    const created = await Wal.#create(this.#dir, this.#current.info.seq + 1, header);
    await this.#handle.close();
    this.#handle = created.handle;
    this.#segments.push(created.segment);
  }

  /** Delete the oldest segments whose entries are all at or below `index`, never the current one. */
  async compact(index: number): Promise<string[]> {
    const deleted: string[] = [];
    while (this.#segments.length > 1 && this.#segments[0]!.maxIndex <= index) {
      const segment = this.#segments.shift()!;
      await unlink(join(this.#dir, segment.info.name));
      deleted.push(segment.info.name);
    }
    if (deleted.length > 0) await fsyncDir(this.#dir);
    return deleted;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}
