/**
 * WAL segment files: `wal/<sequence>-<first index>.wal`, zero-padded so names sort in write
 * order. The sequence numbers of the files present are contiguous: compaction only deletes a
 * prefix, so a hole means a file was lost.
 * @internal
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageCorruptError } from './errors.js';

const NAME = /^(\d{16})-(\d{16})\.wal$/;

export interface SegmentInfo {
  readonly name: string;
  readonly seq: number;
  /** The index the log was expected to continue at when the segment was created (informative). */
  readonly firstIndex: number;
}

function pad(n: number): string {
  return String(n).padStart(16, '0');
}

export function segmentFileName(seq: number, firstIndex: number): string {
  return `${pad(seq)}-${pad(firstIndex)}.wal`;
}

/** The segments in `walDir` in sequence order; throws StorageCorruptError on a missing one. */
export async function listSegments(walDir: string): Promise<SegmentInfo[]> {
  const segments: SegmentInfo[] = [];
  for (const name of await readdir(walDir)) {
    const match = NAME.exec(name);
    if (match) segments.push({ name, seq: Number(match[1]), firstIndex: Number(match[2]) });
  }
  segments.sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!;
    const next = segments[i]!;
    if (next.seq !== prev.seq + 1) {
      const reason =
        next.seq === prev.seq
          ? `two segments have sequence ${next.seq} (${prev.name})`
          : `segment sequence jumps from ${prev.seq} (${prev.name}) to ${next.seq}: a segment file is missing`;
      throw new StorageCorruptError(join(walDir, next.name), 0, reason);
    }
  }
  return segments;
}
