/**
 * A light shape check of peer messages: the core drops what it cannot interpret instead of
 * throwing (a peer's bug or a decoder's must never crash this node). The wire decoder is
 * expected to validate more thoroughly; this guards the invariants the core relies on.
 */
import type { Entry, Message } from '../types.js';

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function isEntry(e: unknown): e is Entry {
  if (!e || typeof e !== 'object') return false;
  const x = e as Entry;
  return (
    isIndex(x.index) &&
    x.index > 0 &&
    isIndex(x.term) &&
    (x.type === 0 || x.type === 1 || x.type === 2) &&
    isBytes(x.data)
  );
}

/** Whether `m` has the fields its type promises, with sane values. */
export function isWellFormed(m: Message): boolean {
  if (!m || typeof m !== 'object' || !isId(m.from) || !isId(m.to) || !isIndex(m.term)) return false;
  switch (m.type) {
    case 'vote':
      return (
        typeof m.preVote === 'boolean' &&
        isIndex(m.lastLogIndex) &&
        isIndex(m.lastLogTerm) &&
        typeof m.transfer === 'boolean'
      );
    case 'voteResp':
      return typeof m.preVote === 'boolean' && typeof m.granted === 'boolean';
    case 'append': {
      if (!isIndex(m.prevLogIndex) || !isIndex(m.prevLogTerm) || !isIndex(m.commit) || !Array.isArray(m.entries))
        return false;
      let expect = m.prevLogIndex + 1;
      for (const e of m.entries) {
        if (!isEntry(e) || e.index !== expect++) return false;
      }
      return true;
    }
    case 'appendResp':
      return typeof m.success === 'boolean' && isIndex(m.index) && isIndex(m.hintIndex) && isIndex(m.hintTerm);
    case 'heartbeat':
      return isIndex(m.commit) && (m.context === undefined || isBytes(m.context));
    case 'heartbeatResp':
      return m.context === undefined || isBytes(m.context);
    case 'snapshot': {
      const meta = m.meta;
      const conf = meta?.conf;
      return (
        !!meta &&
        isIndex(meta.index) &&
        isIndex(meta.term) &&
        !!conf &&
        Array.isArray(conf.voters) &&
        Array.isArray(conf.learners) &&
        isIndex(m.offset) &&
        isBytes(m.chunk) &&
        typeof m.done === 'boolean'
      );
    }
    case 'snapshotResp':
      return (
        !!m.meta &&
        isIndex(m.meta.index) &&
        isIndex(m.meta.term) &&
        isIndex(m.received) &&
        typeof m.done === 'boolean' &&
        typeof m.reject === 'boolean'
      );
    case 'timeoutNow':
      return true;
    case 'readIndex':
      return isBytes(m.context);
    case 'readIndexResp':
      return isBytes(m.context) && typeof m.index === 'number' && Number.isSafeInteger(m.index) && m.index >= -1;
    default:
      return false;
  }
}
