/**
 * Reading the WAL back: the segments in order, on top of the newest snapshot, with the torn-tail
 * rule and strict corruption checks.
 *
 * - Torn tail: in the LAST segment, a frame that is incomplete or fails its checksum, with no
 *   valid frame anywhere after it, is a write cut short by a crash. With `repair` the file is
 *   truncated there (and fsynced); the caller may then append.
 * - Anything else that is wrong (a bad frame in an earlier segment, a bad frame followed by valid
 *   frames, a payload that is not a known record, a hole in the log) throws StorageCorruptError.
 * @internal
 */
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HardState } from '../types.js';
import { StorageCorruptError, StorageVersionError } from './errors.js';
import { FRAME_HEADER_BYTES, findValidFrameAfter, scanFrames, type Frame } from './frame.js';
import { EMPTY_HARD_STATE, LogGapError, LogState } from './log-state.js';
import { decodeWalRecord, FORMAT_VERSION, RecordVersionError, type Position, type WalRecord } from './records.js';
import { listSegments, type SegmentInfo } from './segments.js';

/** The snapshot replay starts from. */
export interface ReplayBase {
  readonly index: number;
  readonly term: number;
  /** The snapshot was installed through save() and resets the log. */
  readonly reset: boolean;
}

export interface ReplayedSegment {
  readonly info: SegmentInfo;
  /** Bytes of valid frames (the file size after any repair). */
  size: number;
  /** The highest entry index written in it whose entry is still live (0: none). */
  maxIndex: number;
}

export interface ReplayResult {
  readonly hardState: HardState;
  readonly log: LogState;
  readonly segments: ReplayedSegment[];
  /** The newest snapshot marker seen (index 0: none). */
  readonly reset: Position;
  /**
   * The base snapshot is a reset snapshot whose marker never reached the WAL (crash between the
   * two writes). The entries were dropped; the caller must write the marker before appending.
   */
  readonly markerMissing: boolean;
  /** Where a torn tail was cut off, if one was. */
  readonly torn?: { readonly file: string; readonly offset: number; readonly reason: string };
}

interface ReplayContext {
  readonly base: ReplayBase | undefined;
  readonly log: LogState;
  readonly segments: ReplayedSegment[];
  hardState: HardState;
  reset: Position;
  markerSeen: boolean;
}

/** Frames of one segment, after applying the torn-tail rule. */
async function readSegment(
  file: string,
  isLast: boolean,
  repair: boolean,
): Promise<{ frames: readonly Frame[]; torn?: ReplayResult['torn'] }> {
  const buf = await readFile(file);
  const { frames, problem } = scanFrames(buf);
  if (problem === undefined) return { frames };
  const validAfter = findValidFrameAfter(buf, problem.offset);
  if (!isLast || validAfter >= 0) {
    const where =
      validAfter >= 0 ? `, yet a valid frame follows at byte ${validAfter}` : ', in a segment that is not the last';
    throw new StorageCorruptError(file, problem.offset, `${problem.reason}${where}`);
  }
  if (repair) {
    const handle = await open(file, 'r+');
    try {
      await handle.truncate(problem.offset);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  return { frames, torn: { file, offset: problem.offset, reason: problem.reason } };
}

function decode(file: string, frame: Frame): WalRecord {
  try {
    return decodeWalRecord(frame.payload);
  } catch (e) {
    if (e instanceof RecordVersionError) throw new StorageVersionError(file, e.found, FORMAT_VERSION);
    throw new StorageCorruptError(file, frame.offset, `frame checksum is valid but ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** Drop every live entry written so far (a snapshot replaced the log). */
function resetTo(ctx: ReplayContext, position: Position): void {
  ctx.log.reset(position.index);
  for (const segment of ctx.segments) segment.maxIndex = 0;
  ctx.reset = position;
  if (ctx.base?.reset && position.index === ctx.base.index) ctx.markerSeen = true;
}

function checkReset(ctx: ReplayContext, file: string, offset: number, position: Position): void {
  const baseIndex = ctx.base?.index ?? 0;
  if (position.index > baseIndex) {
    throw new StorageCorruptError(
      file,
      offset,
      `the log was reset to a snapshot at index ${position.index} but the newest snapshot file is at index ${baseIndex}: a snapshot file is missing`,
    );
  }
}

function applyRecord(
  ctx: ReplayContext,
  file: string,
  frame: Frame,
  record: WalRecord,
  segment: ReplayedSegment,
): void {
  switch (record.kind) {
    case 'header':
      throw new StorageCorruptError(file, frame.offset, 'a segment header appears after the start of the segment');
    case 'entries':
    case 'batch':
      if (record.entries.length > 0) {
        try {
          ctx.log.append(record.entries);
        } catch (e) {
          if (e instanceof LogGapError) throw new StorageCorruptError(file, frame.offset, e.message, { cause: e });
          throw e;
        }
        segment.maxIndex = Math.max(segment.maxIndex, record.entries[record.entries.length - 1]!.index);
      }
      if (record.kind === 'batch' && record.hardState) ctx.hardState = record.hardState;
      return;
    case 'hardState':
      ctx.hardState = record.hardState;
      return;
    case 'snapshot':
      checkReset(ctx, file, frame.offset, record.position);
      resetTo(ctx, record.position);
      return;
  }
}

/**
 * Replay every segment in `walDir` on top of `base`. With `repair`, a torn tail is truncated
 * away on disk; without, it is only skipped.
 */
export async function replayWal(walDir: string, base: ReplayBase | undefined, repair: boolean): Promise<ReplayResult> {
  const infos = await listSegments(walDir);
  const ctx: ReplayContext = {
    base,
    log: new LogState({ floor: base?.index ?? 0, lastIndex: null }),
    segments: [],
    hardState: EMPTY_HARD_STATE,
    reset: { index: 0, term: 0 },
    markerSeen: false,
  };
  let torn: ReplayResult['torn'];
  for (const [i, info] of infos.entries()) {
    const file = join(walDir, info.name);
    const read = await readSegment(file, i === infos.length - 1, repair);
    torn = read.torn;
    const [first, ...rest] = read.frames;
    if (first === undefined) throw new StorageCorruptError(file, 0, 'segment has no valid header frame');
    const header = decode(file, first);
    if (header.kind !== 'header')
      throw new StorageCorruptError(file, 0, `segment starts with a ${header.kind} record instead of a header`);
    if (header.seq !== info.seq)
      throw new StorageCorruptError(
        file,
        0,
        `segment header says sequence ${header.seq} but the file name says ${info.seq}`,
      );
    const segment: ReplayedSegment = { info, size: 0, maxIndex: 0 };
    ctx.segments.push(segment);
    ctx.hardState = header.hardState;
    if (header.reset.index > 0) {
      checkReset(ctx, file, 0, header.reset);
      // The marker itself sat in a segment that compaction deleted: the header stands in for it.
      if (!ctx.markerSeen && ctx.base?.reset && header.reset.index === ctx.base.index) resetTo(ctx, header.reset);
    }
    let end = first.offset + first.payload.length + FRAME_HEADER_BYTES;
    for (const frame of rest) {
      applyRecord(ctx, file, frame, decode(file, frame), segment);
      end = frame.offset + frame.payload.length + FRAME_HEADER_BYTES;
    }
    segment.size = end;
  }
  const markerMissing = base?.reset === true && !ctx.markerSeen;
  if (markerMissing) resetTo(ctx, { index: base.index, term: base.term });
  const gap = ctx.log.gapAfterFloor();
  if (gap !== undefined) {
    throw new StorageCorruptError(
      walDir,
      0,
      `the log skips from index ${gap - 1} to ${ctx.log.entries[0]!.index}: entries ${gap}..${ctx.log.entries[0]!.index - 1} are missing (a segment or snapshot file was lost)`,
    );
  }
  return {
    hardState: ctx.hardState,
    log: ctx.log,
    segments: ctx.segments,
    reset: ctx.reset,
    markerMissing,
    ...(torn ? { torn } : {}),
  };
}
