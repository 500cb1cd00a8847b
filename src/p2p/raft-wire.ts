/**
 * Schema check of Raft messages received from the wire. The core trusts its inputs, so every
 * field a peer sends is checked here: presence, type, integer range, byte arrays, entry shape.
 * The result is a fresh object holding only the known fields (unknown fields from a newer peer
 * are dropped, which keeps mixed-version clusters talking).
 */
import { EntryType } from '../raft/types.js';
import type { ConfState, Entry, Message, MessageType, NodeId, SnapshotMeta } from '../raft/types.js';
import { MalformedFrameError } from './errors.js';

/** Longest node id accepted (a libp2p Ed25519 peer id is 52 characters). */
export const MAX_NODE_ID_LENGTH = 256;

type Obj = Record<string, unknown>;

/** A received value as an error message names it: its kind, a short string, never a dump. */
export function describeWireValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function fail(path: string, expected: string, got: unknown): never {
  throw new MalformedFrameError(
    `Cannot accept raft message: ${path}: expected ${expected}, got ${describeWireValue(got)}`,
  );
}

function obj(value: unknown, path: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    fail(path, 'an object', value);
  }
  return value as Obj;
}

/** Own property only, so a value smuggled in through a decoded `__proto__` key is never read. */
function field(o: Obj, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

function int(o: Obj, key: string, path: string, min = 0): number {
  const v = field(o, key);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(`${path}.${key}`, `an integer >= ${min}`, v);
  return v;
}

function bool(o: Obj, key: string, path: string): boolean {
  const v = field(o, key);
  if (typeof v !== 'boolean') fail(`${path}.${key}`, 'a boolean', v);
  return v;
}

function nodeId(value: unknown, path: string): NodeId {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NODE_ID_LENGTH) {
    fail(path, `a node id (a string of 1..${MAX_NODE_ID_LENGTH} characters)`, value);
  }
  return value;
}

/** Uint8Array (a Buffer is re-viewed as a plain Uint8Array so messages compare structurally). */
function bytesOf(value: unknown, path: string): Uint8Array {
  if (!(value instanceof Uint8Array)) fail(path, 'a Uint8Array', value);
  return Object.getPrototypeOf(value) === Uint8Array.prototype
    ? value
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function bytes(o: Obj, key: string, path: string): Uint8Array {
  return bytesOf(field(o, key), `${path}.${key}`);
}

function optionalBytes(o: Obj, key: string, path: string): { context?: Uint8Array } {
  const v = field(o, key);
  return v === undefined ? {} : { context: bytesOf(v, `${path}.${key}`) };
}

function nodeIds(value: unknown, path: string): NodeId[] {
  if (!Array.isArray(value)) fail(path, 'an array of node ids', value);
  return value.map((v, i) => nodeId(v, `${path}[${i}]`));
}

function confState(value: unknown, path: string): ConfState {
  const o = obj(value, path);
  return {
    voters: nodeIds(field(o, 'voters'), `${path}.voters`),
    learners: nodeIds(field(o, 'learners'), `${path}.learners`),
  };
}

function snapshotMeta(value: unknown, path: string): SnapshotMeta {
  const o = obj(value, path);
  return {
    index: int(o, 'index', path),
    term: int(o, 'term', path),
    conf: confState(field(o, 'conf'), `${path}.conf`),
  };
}

const ENTRY_TYPES: ReadonlySet<unknown> = new Set(Object.values(EntryType));

function entry(value: unknown, path: string): Entry {
  const o = obj(value, path);
  const type = field(o, 'type');
  if (!ENTRY_TYPES.has(type)) fail(`${path}.type`, `one of ${[...ENTRY_TYPES].join(', ')}`, type);
  return {
    index: int(o, 'index', path, 1),
    term: int(o, 'term', path),
    type: type as EntryType,
    data: bytes(o, 'data', path),
  };
}

function entries(o: Obj, path: string, prevLogIndex: number): Entry[] {
  const v = field(o, 'entries');
  if (!Array.isArray(v)) fail(`${path}.entries`, 'an array of entries', v);
  return v.map((e, i) => {
    const p = `${path}.entries[${i}]`;
    const checked = entry(e, p);
    // Entries of an append are consecutive from prevLogIndex + 1 (Raft §5.3).
    if (checked.index !== prevLogIndex + 1 + i)
      fail(`${p}.index`, `${prevLogIndex + 1 + i} (prevLogIndex + 1 + position)`, checked.index);
    return checked;
  });
}

type Body<T extends MessageType> = Omit<Extract<Message, { type: T }>, 'type' | 'from' | 'to' | 'term'>;

/** One reader per message type: it checks and copies the fields beyond the common ones. */
const readers: { [T in MessageType]: (o: Obj, path: string) => Body<T> } = {
  vote: (o, p) => ({
    preVote: bool(o, 'preVote', p),
    lastLogIndex: int(o, 'lastLogIndex', p),
    lastLogTerm: int(o, 'lastLogTerm', p),
    transfer: bool(o, 'transfer', p),
  }),
  voteResp: (o, p) => ({ preVote: bool(o, 'preVote', p), granted: bool(o, 'granted', p) }),
  append: (o, p) => {
    const prevLogIndex = int(o, 'prevLogIndex', p);
    return {
      prevLogIndex,
      prevLogTerm: int(o, 'prevLogTerm', p),
      entries: entries(o, p, prevLogIndex),
      commit: int(o, 'commit', p),
    };
  },
  appendResp: (o, p) => ({
    success: bool(o, 'success', p),
    index: int(o, 'index', p),
    hintIndex: int(o, 'hintIndex', p),
    hintTerm: int(o, 'hintTerm', p),
  }),
  heartbeat: (o, p) => ({ commit: int(o, 'commit', p), ...optionalBytes(o, 'context', p) }),
  heartbeatResp: (o, p) => ({ ...optionalBytes(o, 'context', p) }),
  snapshot: (o, p) => ({
    meta: snapshotMeta(field(o, 'meta'), `${p}.meta`),
    offset: int(o, 'offset', p),
    chunk: bytes(o, 'chunk', p),
    done: bool(o, 'done', p),
  }),
  snapshotResp: (o, p) => {
    const meta = obj(field(o, 'meta'), `${p}.meta`);
    return {
      meta: { index: int(meta, 'index', `${p}.meta`), term: int(meta, 'term', `${p}.meta`) },
      received: int(o, 'received', p),
      done: bool(o, 'done', p),
      reject: bool(o, 'reject', p),
    };
  },
  timeoutNow: () => ({}),
  readIndex: (o, p) => ({ context: bytes(o, 'context', p) }),
  readIndexResp: (o, p) => ({ context: bytes(o, 'context', p), index: int(o, 'index', p, -1) }),
};

/** The message types this check knows, in the order of `src/raft/types.ts`. */
export const RAFT_MESSAGE_TYPES: readonly MessageType[] = Object.keys(readers) as MessageType[];

/**
 * Check that a decoded value is a well-formed Raft {@link Message} and return a clean copy of it.
 *
 * @throws MalformedFrameError naming the first wrong field, e.g.
 *   `Cannot accept raft message: append.entries[2].data: expected a Uint8Array, got string "x"`.
 * @example
 * const message = validateRaftMessage(decoded);
 */
export function validateRaftMessage(value: unknown): Message {
  const o = obj(value, 'message');
  const type = field(o, 'type');
  if (typeof type !== 'string' || !Object.hasOwn(readers, type)) {
    fail('message.type', `one of ${RAFT_MESSAGE_TYPES.join(', ')}`, type);
  }
  const t = type as MessageType;
  const base = {
    type: t,
    from: nodeId(field(o, 'from'), `${t}.from`),
    to: nodeId(field(o, 'to'), `${t}.to`),
    term: int(o, 'term', t),
  };
  const body = (readers[t] as (o: Obj, path: string) => object)(o, t);
  return { ...base, ...body } as Message;
}
