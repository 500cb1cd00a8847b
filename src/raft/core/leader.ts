/**
 * The leader: replication with probing, pipelining and fast back-off (§5.3), commitment by
 * counting replicas of current-term entries (§5.4.2), heartbeats and check-quorum (thesis
 * §6.2), snapshot transfers (§7), ReadIndex (§6.4), leadership transfer (§3.10) and stepping
 * down once its own removal is committed (§4.2.2).
 */
import type {
  AppendResponse,
  EntryType,
  HeartbeatResponse,
  Message,
  NodeId,
  ProposeResult,
  RequestResult,
  SnapshotResponse,
} from '../types.js';
import { becomeFollower } from './election.js';
import type { RaftNode } from './node.js';
import { committedIndex, hasQuorum } from './quorum.js';
import type { Chunk } from './snapshot-sender.js';

export function stepLeader(r: RaftNode, m: Message): void {
  switch (m.type) {
    case 'appendResp':
      handleAppendResp(r, m);
      return;
    case 'heartbeatResp':
      handleHeartbeatResp(r, m);
      return;
    case 'snapshotResp':
      handleSnapshotResp(r, m);
      return;
    case 'readIndex':
      leaderRead(r, m.context, m.from);
      return;
    default:
      return; // appends of our own term cannot come from anyone else; the rest is not for a leader
  }
}

export function tickHeartbeat(r: RaftNode): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.leadTransferee !== null && ++r.transferElapsed >= r.cfg.electionTick) {
    r.leadTransferee = null; // the target did not take over within an election timeout: abort
  }
  if (r.electionElapsed >= r.cfg.electionTick) {
    r.electionElapsed = 0;
    if (r.cfg.checkQuorum) {
      const active = hasQuorum(r.conf.voters, (id) => id === r.id || r.prs.get(id)?.recentActive === true);
      if (!active) {
        becomeFollower(r, r.term, null);
        return;
      }
      for (const pr of r.prs.values()) pr.recentActive = false;
    }
  }
  if (r.heartbeatElapsed >= r.cfg.heartbeatTick) {
    r.heartbeatElapsed = 0;
    bcastHeartbeat(r, r.readOnly.lastContext());
  }
}

/** Sends `to` the entries it lacks from `next` (or a snapshot when they are compacted). */
export function sendAppend(r: RaftNode, to: NodeId, sendIfEmpty = true): boolean {
  const pr = r.prs.get(to);
  if (!pr || pr.isPaused()) return false;
  const prevLogIndex = pr.next - 1;
  const prevLogTerm = r.log.term(prevLogIndex);
  const entries = r.log.entriesFrom(pr.next, r.cfg.maxSizePerMsg);
  if (prevLogTerm === undefined || entries === undefined) return sendSnapshot(r, to);
  if (entries.length === 0 && !sendIfEmpty) return false;
  r.send({ type: 'append', from: r.id, to, term: r.term, prevLogIndex, prevLogTerm, entries, commit: r.log.committed });
  if (entries.length > 0) pr.sentEntries(entries[entries.length - 1]!.index);
  else if (pr.state === 'probe') pr.probeSent = true;
  return true;
}

export function bcastAppend(r: RaftNode): void {
  for (const id of r.prs.keys()) sendAppend(r, id);
}

export function bcastHeartbeat(r: RaftNode, context?: Uint8Array): void {
  for (const [to, pr] of r.prs) {
    // never tell a follower of a commit beyond what it is known to hold
    const commit = Math.min(pr.match, r.log.committed);
    r.send({ type: 'heartbeat', from: r.id, to, term: r.term, commit, ...(context ? { context } : {}) });
  }
}

function sendSnapshot(r: RaftNode, to: NodeId): boolean {
  const pr = r.prs.get(to)!;
  const snapshot = r.log.snapshot;
  if (!snapshot) return false;
  pr.becomeSnapshot(snapshot.meta.index);
  sendChunks(r, to, r.sender.start(to, snapshot));
  return true;
}

function sendChunks(r: RaftNode, to: NodeId, chunks: readonly Chunk[]): void {
  const snapshot = r.sender.snapshotOf(to);
  if (!snapshot) return;
  for (const c of chunks) {
    r.send({
      type: 'snapshot',
      from: r.id,
      to,
      term: r.term,
      meta: snapshot.meta,
      offset: c.offset,
      chunk: c.chunk,
      done: c.done,
    });
  }
}

/**
 * §5.4.2: commit the largest index a majority of voters hold, but only if it is of our term
 * (entries of earlier terms commit indirectly through it). The leader counts itself with what
 * it has persisted, so a single voter commits on advance().
 */
export function maybeCommit(r: RaftNode): boolean {
  const mci = committedIndex(r.conf.voters, (id) => (id === r.id ? r.selfMatch() : (r.prs.get(id)?.match ?? 0)));
  if (mci <= r.log.committed || r.log.term(mci) !== r.term) return false;
  const old = r.log.committed;
  r.log.commitTo(mci);
  for (let i = Math.max(old + 1, r.termStartIndex); i <= mci; i++)
    r.uncommittedSize -= r.log.entry(i)?.data.length ?? 0;
  r.uncommittedSize = Math.max(0, r.uncommittedSize);
  return true;
}

/** After the commit index moved: tell followers, and leave if we removed ourselves. */
export function afterCommit(r: RaftNode): void {
  bcastAppend(r);
  if (r.lastConfIndex <= r.log.committed && !r.conf.voters.includes(r.id)) {
    // thesis §4.2.2: a leader not in the committed configuration steps down. Hand over to an
    // up-to-date voter at once rather than letting the cluster wait for an election timeout.
    const last = r.log.lastIndex();
    const heir = [...r.prs].find(([id, pr]) => pr.voter && pr.match === last && id !== r.id)?.[0];
    if (heir) r.send({ type: 'timeoutNow', from: r.id, to: heir, term: r.term });
    becomeFollower(r, r.term, null);
  }
}

/** The leader's fast back-off (§5.3): skip every entry of the follower's conflicting term. */
function hintedNext(r: RaftNode, m: AppendResponse): number {
  if (m.hintTerm === 0) return m.hintIndex + 1; // the follower's log ends at hintIndex
  const j = r.log.lastIndexWithTermAtMost(m.index, m.hintTerm);
  if (j > r.log.snapIndex && r.log.term(j) === m.hintTerm) return j + 1; // we share that term up to j
  return m.hintIndex; // we have none of that term: none of the follower's entries from hintIndex match
}

function handleAppendResp(r: RaftNode, m: AppendResponse): void {
  const pr = r.prs.get(m.from);
  if (!pr) return;
  pr.recentActive = true;
  if (!m.success) {
    const hinted = hintedNext(r, m);
    if (pr.maybeDecrTo(m.index, hinted)) {
      if (pr.state === 'replicate') {
        pr.becomeProbe();
        pr.next = Math.max(pr.match + 1, Math.min(m.index, hinted));
      }
      sendAppend(r, m.from);
    }
    return;
  }
  const wasPaused = pr.isPaused();
  const updated = pr.maybeUpdate(m.index);
  // a successful probe that matched what we already knew still ends probing (etcd does the same)
  if (!updated && !(pr.state === 'probe' && pr.match === m.index)) return;
  if (pr.state === 'probe') pr.becomeReplicate();
  else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
    r.sender.stop(m.from);
    pr.becomeProbe();
  } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);

  if (maybeCommit(r)) afterCommit(r);
  else if (wasPaused) sendAppend(r, m.from);
  if (r.role !== 'leader') return;
  // fill the pipelining window
  for (let n = 0; n < r.cfg.maxInflightMsgs && sendAppend(r, m.from, false); n++);
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
}

function handleHeartbeatResp(r: RaftNode, m: HeartbeatResponse): void {
  const pr = r.prs.get(m.from);
  if (!pr) return;
  pr.recentActive = true;
  pr.probeSent = false;
  if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.state === 'snapshot') sendChunks(r, m.from, r.sender.retransmitIfStalled(m.from));
  else if (pr.match < r.log.lastIndex()) sendAppend(r, m.from);
  if (!m.context) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (!acks || !hasQuorum(r.conf.voters, (id) => acks.has(id))) return;
  for (const req of r.readOnly.advance(m.context)) {
    for (const who of req.requesters) r.answerRead(who, req.context, req.index);
  }
}

function handleSnapshotResp(r: RaftNode, m: SnapshotResponse): void {
  const pr = r.prs.get(m.from);
  if (!pr) return;
  pr.recentActive = true;
  if (pr.state !== 'snapshot') return;
  if (m.done) {
    r.sender.stop(m.from);
    pr.maybeUpdate(m.meta.index);
    pr.becomeProbe();
    if (maybeCommit(r)) afterCommit(r);
    else sendAppend(r, m.from);
    return;
  }
  const chunks = m.reject
    ? r.sender.reject(m.from, m.meta.index, m.meta.term)
    : r.sender.ack(m.from, m.meta.index, m.meta.term, m.received);
  sendChunks(r, m.from, chunks);
}

function sendTimeoutNow(r: RaftNode, to: NodeId): void {
  r.send({ type: 'timeoutNow', from: r.id, to, term: r.term });
}

function refuse(
  r: RaftNode,
  reason: 'notLeader' | 'transferring' | 'confChangePending' | 'noQuorumYet' | 'invalid',
  detail?: string,
) {
  return { ok: false as const, reason, leader: r.lead, ...(detail ? { detail } : {}) };
}

/** Appends a proposal on the leader and starts replicating it. */
export function propose(r: RaftNode, type: EntryType, data: Uint8Array): ProposeResult {
  if (r.role !== 'leader') return refuse(r, 'notLeader');
  if (r.leadTransferee !== null) {
    return refuse(
      r,
      'transferring',
      `Cannot accept a proposal as leadership is being transferred to ${r.leadTransferee}: retry on the new leader`,
    );
  }
  const max = r.cfg.maxUncommittedBytes;
  if (r.uncommittedSize > 0 && r.uncommittedSize + data.length > max) {
    // Named 'invalid' for lack of an 'overloaded' reason in the shared types; the detail says why.
    return refuse(
      r,
      'invalid',
      `Cannot accept a proposal of ${data.length} bytes as ${r.uncommittedSize} bytes are uncommitted (limit ${max}): retry once entries commit`,
    );
  }
  const entry = { index: r.log.lastIndex() + 1, term: r.term, type, data };
  r.appendToLog([entry]);
  r.uncommittedSize += data.length;
  bcastAppend(r);
  return { ok: true, index: entry.index, term: entry.term };
}

/**
 * ReadIndex (thesis §6.4) for a local reader or a follower: remember the commit index, then
 * confirm leadership with a heartbeat round carrying `context`.
 */
export function leaderRead(r: RaftNode, context: Uint8Array, requester: NodeId): RequestResult {
  if (!r.committedInTerm()) {
    // we do not know the latest commit index until our Noop commits
    if (requester !== r.id) r.answerRead(requester, context, -1);
    return refuse(
      r,
      'noQuorumYet',
      'Cannot serve a read before this new leader has committed an entry of its term: retry shortly',
    );
  }
  if (hasQuorum(r.conf.voters, (id) => id === r.id)) {
    r.answerRead(requester, context, r.log.committed); // the only voter: nobody can depose us
    return { ok: true };
  }
  r.readOnly.add(context, r.log.committed, requester, r.id);
  bcastHeartbeat(r, context);
  return { ok: true };
}

/** Leadership transfer (thesis §3.10). */
export function transferLeader(r: RaftNode, to: NodeId): RequestResult {
  if (r.role !== 'leader') return refuse(r, 'notLeader');
  if (to === r.id) {
    r.leadTransferee = null;
    return { ok: true };
  }
  if (!r.conf.voters.includes(to)) {
    return refuse(r, 'invalid', `Cannot transfer leadership to ${to} as it is not a voter: promote it first`);
  }
  if (r.leadTransferee === to) return { ok: true };
  r.leadTransferee = to;
  r.transferElapsed = 0;
  const pr = r.prs.get(to)!;
  if (pr.match === r.log.lastIndex()) sendTimeoutNow(r, to);
  else sendAppend(r, to);
  return { ok: true };
}
