/**
 * A WAL written by a known sequence of saves, each producing exactly one frame, with the byte
 * where each save's frame ends: what the torn-tail and corruption tests cut and flip.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RaftStorage } from '../../../src/raft/interfaces.js';
import { FileRaftStorage, MemoryRaftStorage } from '../../../src/raft/storage/index.js';
import type { RestoredState } from '../../../src/raft/types.js';
import { entry, hardState } from './helpers.js';

export type SaveOp = Parameters<RaftStorage['save']>[0];

export interface WrittenWal {
  readonly ops: readonly SaveOp[];
  /** After op i: the segment it went to and the byte offset where its frame ends. */
  readonly ends: readonly { readonly segment: string; readonly end: number }[];
  /** Segment file names, oldest first. */
  readonly segments: readonly string[];
  readonly walDir: string;
}

/**
 * `count` single-frame saves: mostly one entry each (sizes vary), a hard state every 4th, an
 * entry with its hard state every 8th (a Ready's: one frame, so a cut keeps both or neither),
 * and an overwrite of the last entry near the end so the tail exercises overwrite semantics.
 */
export function makeOps(count: number): SaveOp[] {
  const ops: SaveOp[] = [];
  let last = 0;
  for (let j = 0; j < count; j++) {
    if (j % 4 === 3) ops.push({ entries: [], hardState: hardState(1 + (j >> 4), 'n1', last) });
    else if (j % 8 === 5) {
      last += 1;
      ops.push({ entries: [entry(last, 1, 10 + ((j * 5) % 40))], hardState: hardState(1 + (j >> 4), 'n1', last - 1) });
    } else if (j === count - 3 && last > 1) {
      ops.push({ entries: [entry(last, 2, 20)] }); // replaces the last entry
    } else {
      last += 1;
      ops.push({ entries: [entry(last, 1, 10 + ((j * 7) % 40))] });
    }
  }
  return ops;
}

/** Write `ops` to a fresh storage in `dir`, one sync save each, and close it. */
export async function writeWal(dir: string, ops: readonly SaveOp[], segmentBytes: number): Promise<WrittenWal> {
  const storage = await FileRaftStorage.open(dir, { segmentBytes });
  const walDir = join(dir, 'wal');
  const ends: { segment: string; end: number }[] = [];
  for (const op of ops) {
    await storage.save(op, true);
    const segment = storage.segments.at(-1)!;
    ends.push({ segment, end: (await stat(join(walDir, segment))).size });
  }
  const segments = [...storage.segments];
  await storage.close();
  return { ops, ends, segments, walDir };
}

/** What a storage that received the first `count` ops must load (the memory storage is the model). */
export async function expectedAfter(ops: readonly SaveOp[], count: number): Promise<RestoredState> {
  const model = new MemoryRaftStorage();
  for (const op of ops.slice(0, count)) await model.save(op, true);
  return model.load();
}
