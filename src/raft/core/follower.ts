/**
 * The follower's step function and the handlers of a leader's append, heartbeat and snapshot
 * chunks (§5.3, §7), shared with candidates that learn of a leader of their term.
 */
import type { AppendRequest, HeartbeatRequest, Message, Snapshot, SnapshotRequest } from '../types.js';
import { hup } from './election.js';
import type { RaftNode } from './node.js';

export function stepFollower(r: RaftNode, m: Message): void {
  switch (m.type) {
    case 'append':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppend(r, m);
      return;
    case 'heartbeat':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case 'snapshot':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshotChunk(r, m);
      return;
    case 'timeoutNow':
      // leadership transfer: campaign at once, skipping pre-vote and the leases of others
      hup(r, true);
      return;
    case 'readIndex':
      // someone thinks we lead; we do not
      r.send({ type: 'readIndexResp', from: r.id, to: m.from, term: r.term, context: m.context, index: -1 });
      return;
    case 'readIndexResp':
      r.readStates.push({ context: m.context, index: m.index });
      return;
    default:
      return;
  }
}

function reply(r: RaftNode, m: AppendRequest, success: boolean, index: number, hintIndex = 0, hintTerm = 0): void {
  r.send({ type: 'appendResp', from: r.id, to: m.from, term: r.term, success, index, hintIndex, hintTerm });
}

/**
 * §5.3: accept the entries if our log has an entry at prevLogIndex with prevLogTerm, deleting
 * any conflicting suffix; learn the leader's commit (up to the last entry this message
 * vouches for). The answer goes in the same Ready as the entries, which the caller persists
 * before sending it.
 */
export function handleAppend(r: RaftNode, m: AppendRequest): void {
  const log = r.log;
  if (m.prevLogIndex < log.committed) {
    // already committed here (a late or duplicated message): tell the leader how far we are
    reply(r, m, true, log.committed);
    return;
  }
  if (!log.matchTerm(m.prevLogIndex, m.prevLogTerm)) {
    const last = log.lastIndex();
    if (m.prevLogIndex > last) {
      reply(r, m, false, m.prevLogIndex, last, 0);
    } else {
      const t = log.term(m.prevLogIndex) ?? 0;
      reply(r, m, false, m.prevLogIndex, log.firstIndexOfTermAt(m.prevLogIndex, log.committed + 1), t);
    }
    return;
  }
  const conflict = log.findConflict(m.entries);
  if (conflict) {
    if (conflict.index <= log.committed) {
      // a leader contradicting a committed entry would break safety: refuse the message whole
      return;
    }
    r.appendToLog(m.entries.slice(conflict.index - m.entries[0]!.index));
  }
  const lastNew = m.prevLogIndex + m.entries.length;
  log.commitTo(Math.min(m.commit, lastNew));
  reply(r, m, true, lastNew);
}

export function handleHeartbeat(r: RaftNode, m: HeartbeatRequest): void {
  // the leader caps commit at our match, so it is safe to take (and we cap at our end)
  r.log.commitTo(Math.min(m.commit, r.log.lastIndex()));
  r.send({ type: 'heartbeatResp', from: r.id, to: m.from, term: r.term, ...(m.context ? { context: m.context } : {}) });
}

function snapReply(r: RaftNode, m: SnapshotRequest, received: number, done: boolean, reject: boolean): void {
  r.send({
    type: 'snapshotResp',
    from: r.id,
    to: m.from,
    term: r.term,
    meta: { index: m.meta.index, term: m.meta.term },
    received,
    done,
    reject,
  });
}

/**
 * One chunk of InstallSnapshot (§7). Chunks must arrive in order; offset 0 (re)starts a
 * transfer; a chunk of another snapshot or another leader's term mid-transfer is refused so
 * the leader restarts from 0. With the last chunk, install: keep our log if it already has
 * the snapshot's last entry (§7 "If existing log entry has same index and term as snapshot's
 * last included entry, retain log entries following it"), else replace it by the snapshot.
 */
export function handleSnapshotChunk(r: RaftNode, m: SnapshotRequest): void {
  const log = r.log;
  if (m.meta.index <= log.committed) {
    // we already have everything it covers
    r.incoming = undefined;
    snapReply(r, m, m.offset + m.chunk.length, true, false);
    return;
  }
  let inc = r.incoming;
  const sameTransfer =
    inc !== undefined && inc.meta.index === m.meta.index && inc.meta.term === m.meta.term && inc.term === m.term;
  if (m.offset === 0 && !sameTransfer) {
    inc = r.incoming = { meta: m.meta, term: m.term, chunks: [], received: 0 };
  } else if (!inc || !sameTransfer) {
    r.incoming = undefined;
    snapReply(r, m, 0, false, true);
    return;
  }
  // (a late duplicate of chunk 0 of the transfer under way must not reset it: the leader
  // only moves forward from what we acknowledged, so we would never catch up again)
  if (m.offset !== inc.received) {
    // a lost or duplicated chunk: say how far we are, the leader resends from there
    snapReply(r, m, inc.received, false, false);
    return;
  }
  inc.chunks.push(m.chunk);
  inc.received += m.chunk.length;
  if (!m.done) {
    snapReply(r, m, inc.received, false, false);
    return;
  }
  r.incoming = undefined;
  const data = new Uint8Array(inc.received);
  let at = 0;
  for (const c of inc.chunks) {
    data.set(c, at);
    at += c.length;
  }
  installSnapshot(r, { meta: m.meta, data });
  snapReply(r, m, inc.received, true, false);
}

function installSnapshot(r: RaftNode, snapshot: Snapshot): void {
  const { index, term } = snapshot.meta;
  if (r.log.matchTerm(index, term)) {
    // we have the entry: the snapshot is committed, so just commit up to it and replay our log
    r.log.commitTo(index);
    return;
  }
  r.log.restore(snapshot);
  // the whole log is replaced: acknowledgements given to an earlier leader named entries of it
  r.retractAcks(index + 1, true);
  r.recomputeConf();
}
