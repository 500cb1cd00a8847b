/**
 * The records inside frames, encoded with cbor-x as small tagged arrays, and their strict
 * decoders: a frame whose checksum is fine but whose payload is not a record we know is
 * corruption too, so every field is checked.
 * @internal
 */
import { Encoder } from 'cbor-x';
import type { ConfState, Entry, EntryType, HardState, Snapshot } from '../types.js';

/** The WAL and snapshot format this build writes and reads. */
export const FORMAT_VERSION = 1;

const TAG_HEADER = 1;
const TAG_ENTRIES = 2;
const TAG_HARD_STATE = 3;
const TAG_SNAPSHOT_MARKER = 4;
const TAG_SNAPSHOT_FILE = 5;
const TAG_BATCH = 6;

/** A log position; `index` 0 means none. */
export interface Position {
  readonly index: number;
  readonly term: number;
}

/**
 * The first record of every segment: all replay needs when the segments before it are gone.
 * `reset` is the newest snapshot marker written before this segment was created.
 */
export interface HeaderRecord {
  readonly kind: 'header';
  readonly seq: number;
  readonly hardState: HardState;
  readonly reset: Position;
}
/**
 * Entries; on replay they replace every entry at or after `entries[0].index`. Read from WALs of
 * earlier builds only: this build writes a {@link BatchRecord}.
 */
export interface EntriesRecord {
  readonly kind: 'entries';
  readonly entries: readonly Entry[];
}
/**
 * A Ready's entries and hard state in one frame: a crash keeps both or neither, so the log can
 * never hold entries of a term that the persisted hard state has not reached.
 */
export interface BatchRecord {
  readonly kind: 'batch';
  readonly entries: readonly Entry[];
  readonly hardState: HardState | undefined;
}
export interface HardStateRecord {
  readonly kind: 'hardState';
  readonly hardState: HardState;
}
/** A snapshot installed through `save()`: the log is reset to it (all earlier entries dropped). */
export interface SnapshotMarkerRecord {
  readonly kind: 'snapshot';
  readonly position: Position;
}
export type WalRecord = HeaderRecord | EntriesRecord | BatchRecord | HardStateRecord | SnapshotMarkerRecord;

/** The content of a snapshot file. `reset` is true for a snapshot installed through `save()`. */
export interface SnapshotFileRecord {
  readonly snapshot: Snapshot;
  readonly reset: boolean;
}

/** A payload that decodes but is not a valid record. */
export class RecordError extends Error {}
/** A header or snapshot file of another format version. */
export class RecordVersionError extends Error {
  constructor(readonly found: unknown) {
    super(`format version ${String(found)}`);
  }
}

// Plain arrays and no shared structures: every frame must decode on its own.
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });

function hardStateFields(hs: HardState): unknown[] {
  return [hs.term, hs.vote, hs.commit];
}

/** Encode a WAL record. The result may share the encoder's buffer: frame it before the next encode. */
export function encodeWalRecord(record: WalRecord): Uint8Array {
  let value: unknown[];
  switch (record.kind) {
    case 'header':
      value = [
        TAG_HEADER,
        FORMAT_VERSION,
        record.seq,
        ...hardStateFields(record.hardState),
        record.reset.index,
        record.reset.term,
      ];
      break;
    case 'entries':
      value = [TAG_ENTRIES, record.entries.map((e) => [e.index, e.term, e.type, e.data])];
      break;
    case 'batch':
      value = [
        TAG_BATCH,
        record.entries.map((e) => [e.index, e.term, e.type, e.data]),
        ...(record.hardState ? hardStateFields(record.hardState) : [null, null, null]),
      ];
      break;
    case 'hardState':
      value = [TAG_HARD_STATE, ...hardStateFields(record.hardState)];
      break;
    case 'snapshot':
      value = [TAG_SNAPSHOT_MARKER, record.position.index, record.position.term];
      break;
  }
  return cbor.encode(value);
}

/** Encode a snapshot file's content. Same buffer caveat as {@link encodeWalRecord}. */
export function encodeSnapshotFile(record: SnapshotFileRecord): Uint8Array {
  const { meta, data } = record.snapshot;
  const value = [
    TAG_SNAPSHOT_FILE,
    FORMAT_VERSION,
    meta.index,
    meta.term,
    [...meta.conf.voters],
    [...meta.conf.learners],
    data,
    record.reset,
  ];
  return cbor.encode(value);
}

function decodeCbor(payload: Uint8Array): unknown[] {
  let value: unknown;
  try {
    value = cbor.decode(payload);
  } catch (e) {
    throw new RecordError(`payload is not valid cbor (${(e as Error).message})`);
  }
  if (!Array.isArray(value) || value.length === 0)
    throw new RecordError('payload is not a record (expected a tagged array)');
  return value;
}

function expectLength(value: unknown[], length: number, what: string): void {
  if (value.length !== length) throw new RecordError(`${what} record has ${value.length} fields, expected ${length}`);
}

function num(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RecordError(`${what} is not a non-negative integer: ${String(value)}`);
  }
  return value;
}

function bytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new RecordError(`${what} is not a byte string`);
  // A plain copy: detaches it from the file buffer and compares equal to a Uint8Array.
  return new Uint8Array(value);
}

function nodeIds(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new RecordError(`${what} is not a list of node ids`);
  return value as string[];
}

function hardState(value: unknown[], at: number): HardState {
  const vote = value[at + 1];
  if (vote !== null && typeof vote !== 'string')
    throw new RecordError(`vote is neither null nor a node id: ${String(vote)}`);
  return { term: num(value[at], 'term'), vote, commit: num(value[at + 2], 'commit') };
}

function entry(value: unknown): Entry {
  if (!Array.isArray(value) || value.length !== 4) throw new RecordError('entry is not a 4-field array');
  const type = num(value[2], 'entry type');
  if (type > 2) throw new RecordError(`entry type ${type} is unknown`);
  return {
    index: num(value[0], 'entry index'),
    term: num(value[1], 'entry term'),
    type: type as EntryType,
    data: bytes(value[3], 'entry data'),
  };
}

function entryList(values: unknown[], what: string): Entry[] {
  const entries = values.map(entry);
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.index !== entries[i - 1]!.index + 1)
      throw new RecordError(`${what} record is not contiguous at index ${entries[i]!.index}`);
  }
  return entries;
}

/** Decode and validate a WAL record; throws RecordError or RecordVersionError. */
export function decodeWalRecord(payload: Uint8Array): WalRecord {
  const value = decodeCbor(payload);
  switch (value[0]) {
    case TAG_HEADER: {
      if (value[1] !== FORMAT_VERSION) throw new RecordVersionError(value[1]);
      expectLength(value, 8, 'header');
      return {
        kind: 'header',
        seq: num(value[2], 'segment sequence'),
        hardState: hardState(value, 3),
        reset: { index: num(value[6], 'reset index'), term: num(value[7], 'reset term') },
      };
    }
    case TAG_ENTRIES: {
      expectLength(value, 2, 'entries');
      if (!Array.isArray(value[1]) || value[1].length === 0) throw new RecordError('entries record holds no entries');
      return { kind: 'entries', entries: entryList(value[1], 'entries') };
    }
    case TAG_BATCH: {
      expectLength(value, 5, 'batch');
      if (!Array.isArray(value[1])) throw new RecordError('batch record has no entry list');
      const entries = entryList(value[1], 'batch');
      const noHardState = value[2] === null && value[3] === null && value[4] === null;
      if (entries.length === 0 && noHardState)
        throw new RecordError('batch record holds neither entries nor a hard state');
      return { kind: 'batch', entries, hardState: noHardState ? undefined : hardState(value, 2) };
    }
    case TAG_HARD_STATE:
      expectLength(value, 4, 'hard state');
      return { kind: 'hardState', hardState: hardState(value, 1) };
    case TAG_SNAPSHOT_MARKER:
      expectLength(value, 3, 'snapshot marker');
      return {
        kind: 'snapshot',
        position: { index: num(value[1], 'snapshot index'), term: num(value[2], 'snapshot term') },
      };
    default:
      throw new RecordError(`record tag ${String(value[0])} is unknown`);
  }
}

/** Decode and validate a snapshot file's content; throws RecordError or RecordVersionError. */
export function decodeSnapshotFile(payload: Uint8Array): SnapshotFileRecord {
  const value = decodeCbor(payload);
  if (value[0] !== TAG_SNAPSHOT_FILE) throw new RecordError(`record tag ${String(value[0])} is not a snapshot`);
  if (value[1] !== FORMAT_VERSION) throw new RecordVersionError(value[1]);
  expectLength(value, 8, 'snapshot');
  if (typeof value[7] !== 'boolean') throw new RecordError('snapshot reset flag is not a boolean');
  const conf: ConfState = { voters: nodeIds(value[4], 'voters'), learners: nodeIds(value[5], 'learners') };
  return {
    snapshot: {
      meta: { index: num(value[2], 'snapshot index'), term: num(value[3], 'snapshot term'), conf },
      data: bytes(value[6], 'snapshot data'),
    },
    reset: value[7],
  };
}
