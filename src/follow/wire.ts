/**
 * Wire format of the state feed and presence protocols, and the schema check of every frame
 * received. Frames are cbor-x values in the length-prefixed framing of `src/p2p/frames.ts`.
 *
 * Feed (`/shoal/feed/1.0.0`): the observer sends one {@link FeedRequest} and half-closes; the
 * member answers with {@link FeedFrame}s until either side ends the stream. Every member frame
 * carries the leader and the configuration as the member knows them, so an observer learns both
 * without being a Raft member.
 *
 * Presence (`/shoal/presence/1.0.0`): the observer sends a {@link PresenceFrame} each second.
 */
import { describeWireValue, MAX_NODE_ID_LENGTH } from '../p2p/raft-wire.js';
import { EntryType } from '../raft/types.js';
import type { ConfState, Entry, NodeId } from '../raft/types.js';
import { FeedProtocolError } from './errors.js';

export const FEED_PROTOCOL = '/shoal/feed/1.0.0';
export const PRESENCE_PROTOCOL = '/shoal/presence/1.0.0';
/** The RPC method (src/p2p/rpc.ts) an observer calls on the leader for a read index. */
export const READ_INDEX_METHOD = 'follow.readIndex';

/** Most voters plus learners a frame may name: far above any sane configuration. */
export const MAX_CONF_MEMBERS = 1_000;
/** Most entries in one `entries` frame. */
export const MAX_FRAME_ENTRIES = 10_000;

/** Observer → member, once: "send me what comes after `from`" (0: everything, by snapshot). */
export interface FeedRequest {
  readonly from: number;
}

/** What every member frame says about the cluster. */
export interface FeedView {
  readonly leader: NodeId | null;
  readonly conf: ConfState;
}

/** One chunk of a state-machine snapshot; chunks come in order, `offset` 0 first. */
export interface SnapshotChunkFrame extends FeedView {
  readonly t: 'snapshot';
  readonly index: number;
  readonly term: number;
  /** Bytes of the whole snapshot. */
  readonly size: number;
  readonly offset: number;
  readonly chunk: Uint8Array;
}

/** Committed entries, contiguous, right after what the observer has. */
export interface EntriesFrame extends FeedView {
  readonly t: 'entries';
  readonly entries: readonly Entry[];
}

/** Sent when nothing else was for a second; `index` is the member's own applied index. */
export interface KeepaliveFrame extends FeedView {
  readonly t: 'keepalive';
  readonly index: number;
}

export type FeedFrame = SnapshotChunkFrame | EntriesFrame | KeepaliveFrame;

/** Observer → leader, each second. `index` is the observer's applied index (how far behind it is). */
export interface PresenceFrame {
  readonly t: 'here';
  readonly index: number;
}

type Obj = Record<string, unknown>;

function fail(what: string, path: string, expected: string, got: unknown): never {
  throw new FeedProtocolError(`Cannot accept ${what}: ${path}: expected ${expected}, got ${describeWireValue(got)}`);
}

/** A small typed reader over one decoded frame; every failure names the frame and the field. */
class Reader {
  constructor(
    readonly what: string,
    readonly o: Obj,
  ) {}

  static of(what: string, value: unknown, path = 'frame'): Reader {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
      fail(what, path, 'an object', value);
    }
    return new Reader(what, value as Obj);
  }

  /** Own property only, so a value smuggled in through a decoded `__proto__` key is never read. */
  get(key: string): unknown {
    return Object.hasOwn(this.o, key) ? this.o[key] : undefined;
  }

  int(key: string, min = 0): number {
    const v = this.get(key);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(this.what, key, `an integer >= ${min}`, v);
    return v;
  }

  bytes(key: string): Uint8Array {
    const v = this.get(key);
    if (!(v instanceof Uint8Array)) fail(this.what, key, 'a byte string', v);
    return v;
  }
}

function nodeId(what: string, value: unknown, path: string): NodeId {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NODE_ID_LENGTH) {
    fail(what, path, `a node id (a string of 1..${MAX_NODE_ID_LENGTH} characters)`, value);
  }
  return value;
}

function nodeIds(what: string, value: unknown, path: string, limit: number): NodeId[] {
  if (!Array.isArray(value) || value.length > limit) fail(what, path, `an array of at most ${limit} node ids`, value);
  return value.map((id, i) => nodeId(what, id, `${path}[${i}]`));
}

function view(r: Reader): FeedView {
  const leader = r.get('leader');
  const conf = Reader.of(r.what, r.get('conf'), 'conf');
  const voters = nodeIds(r.what, conf.get('voters'), 'conf.voters', MAX_CONF_MEMBERS);
  const learners = nodeIds(r.what, conf.get('learners'), 'conf.learners', MAX_CONF_MEMBERS - voters.length);
  return { leader: leader === null ? null : nodeId(r.what, leader, 'leader'), conf: { voters, learners } };
}

const ENTRY_TYPES: readonly EntryType[] = Object.values(EntryType);

function isEntryType(value: unknown): value is EntryType {
  return ENTRY_TYPES.some((t) => t === value);
}

function entry(what: string, value: unknown, path: string): Entry {
  const r = Reader.of(what, value, path);
  const type = r.get('type');
  if (!isEntryType(type)) fail(what, `${path}.type`, `one of ${ENTRY_TYPES.join(', ')}`, type);
  return { index: r.int('index', 1), term: r.int('term', 0), type, data: r.bytes('data') };
}

/** Check an observer's request. @throws FeedProtocolError naming the bad field. */
export function parseFeedRequest(value: unknown): FeedRequest {
  return { from: Reader.of('feed request', value).int('from') };
}

/**
 * Check a member's frame and return a fresh object with only the known fields.
 * Structure only: whether entries follow on from what the observer has is the cursor's check.
 *
 * @throws FeedProtocolError naming the bad field, the expectation and what came.
 */
export function parseFeedFrame(value: unknown): FeedFrame {
  const head = Reader.of('feed frame', value);
  const t = head.get('t');
  if (t === 'entries') {
    const r = new Reader('entries frame', head.o);
    const list = r.get('entries');
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_FRAME_ENTRIES) {
      fail(r.what, 'entries', `an array of 1..${MAX_FRAME_ENTRIES} entries`, list);
    }
    const entries = list.map((e, i) => entry(r.what, e, `entries[${i}]`));
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.index !== entries[i - 1]!.index + 1) {
        fail(r.what, `entries[${i}].index`, `${entries[i - 1]!.index + 1} (contiguous)`, entries[i]!.index);
      }
    }
    return { t, entries, ...view(r) };
  }
  if (t === 'snapshot') {
    const r = new Reader('snapshot frame', head.o);
    const size = r.int('size', 1);
    const offset = r.int('offset');
    const chunk = r.bytes('chunk');
    if (offset + chunk.byteLength > size) {
      fail(r.what, 'chunk', `at most ${size - offset} bytes (size ${size}, offset ${offset})`, chunk);
    }
    if (chunk.byteLength === 0) fail(r.what, 'chunk', 'at least 1 byte', chunk);
    return { t, index: r.int('index', 1), term: r.int('term'), size, offset, chunk, ...view(r) };
  }
  if (t === 'keepalive') {
    const r = new Reader('keepalive frame', head.o);
    return { t, index: r.int('index'), ...view(r) };
  }
  return fail('feed frame', 't', '"entries", "snapshot" or "keepalive"', t);
}

/** Check a presence frame. @throws FeedProtocolError naming the bad field. */
export function parsePresenceFrame(value: unknown): PresenceFrame {
  const r = Reader.of('presence frame', value);
  if (r.get('t') !== 'here') fail(r.what, 't', '"here"', r.get('t'));
  return { t: 'here', index: r.int('index') };
}

/** Bytes an entry costs in memory and on the wire, roughly: its data plus a fixed overhead. */
export function entryBytes(e: Entry): number {
  return e.data.byteLength + 32;
}
