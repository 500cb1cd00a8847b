/**
 * Role changes and elections (§5.2, thesis §9.6 pre-vote, §3.10 transfer). Each `become*`
 * swaps the step and tick functions, like etcd's raft.go.
 */
import type { NodeId, VoteRequest } from '../types.js';
import { EntryType } from '../types.js';
import { stepCandidate } from './candidate.js';
import { encodeFoundingConf } from './conf.js';
import { stepFollower } from './follower.js';
import { bcastAppend, stepLeader, tickHeartbeat } from './leader.js';
import type { RaftNode } from './node.js';
import { voteResult } from './quorum.js';

const EMPTY = new Uint8Array(0);

export function becomeFollower(r: RaftNode, term: number, lead: NodeId | null): void {
  r.reset(term);
  r.lead = lead;
  r.role = 'follower';
  r.stepFn = stepFollower;
  r.tickFn = tickElection;
}

function becomePreCandidate(r: RaftNode): void {
  // Pre-vote changes no persistent state: term and vote stay as they are (thesis §9.6).
  r.votes.clear();
  r.abortReads();
  r.prs.clear();
  r.sender.clear();
  r.leadTransferee = null;
  r.lead = null;
  r.role = 'preCandidate';
  r.stepFn = stepCandidate;
  r.tickFn = tickElection;
}

function becomeCandidate(r: RaftNode): void {
  r.reset(r.term + 1);
  r.vote = r.id;
  r.role = 'candidate';
  r.stepFn = stepCandidate;
  r.tickFn = tickElection;
}

export function becomeLeader(r: RaftNode): void {
  r.reset(r.term);
  r.lead = r.id;
  r.role = 'leader';
  r.stepFn = stepLeader;
  r.tickFn = tickHeartbeat;
  r.syncProgress();
  for (const pr of r.prs.values()) pr.recentActive = true;
  // §5.4.2 / §8: an entry of our own term, so that earlier entries can commit through it.
  r.termStartIndex = r.log.lastIndex() + 1;
  // the first entry of a new cluster carries its founding configuration (see conf.ts)
  const data = r.termStartIndex === 1 ? encodeFoundingConf(r.conf) : EMPTY;
  r.appendToLog([{ index: r.termStartIndex, term: r.term, type: EntryType.Noop, data }]);
}

/** The election timer of followers and candidates. */
export function tickElection(r: RaftNode): void {
  r.electionElapsed++;
  if (r.promotable() && r.pastElectionTimeout()) {
    r.electionElapsed = 0;
    hup(r, false);
  }
}

/** Start an election (pre-vote first unless this is a leadership transfer). */
export function hup(r: RaftNode, transfer: boolean): void {
  if (r.role === 'leader' || !r.promotable()) return;
  if (r.cfg.preVote && !transfer) campaign(r, 'pre', false);
  else campaign(r, 'election', transfer);
}

export function campaign(r: RaftNode, kind: 'pre' | 'election', transfer: boolean): void {
  let voteTerm: number;
  if (kind === 'pre') {
    becomePreCandidate(r);
    voteTerm = r.term + 1;
  } else {
    becomeCandidate(r);
    voteTerm = r.term;
  }
  if (poll(r, r.id, true) === 'won') {
    // a single voter wins at once
    if (kind === 'pre') campaign(r, 'election', transfer);
    else becomeLeaderAndAnnounce(r);
    return;
  }
  const lastLogIndex = r.log.lastIndex();
  const lastLogTerm = r.log.lastTerm();
  for (const to of r.conf.voters) {
    if (to === r.id) continue;
    r.send({
      type: 'vote',
      from: r.id,
      to,
      term: voteTerm,
      preVote: kind === 'pre',
      lastLogIndex,
      lastLogTerm,
      transfer,
    });
  }
}

export function becomeLeaderAndAnnounce(r: RaftNode): void {
  becomeLeader(r);
  bcastAppend(r);
}

export function poll(r: RaftNode, from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
  if (!r.votes.has(from)) r.votes.set(from, granted);
  return voteResult(r.conf.voters, r.votes);
}

/**
 * A vote or pre-vote request at a term >= ours (the caller filtered stale ones and the leader
 * lease). §5.2: one vote per term, first come first served; §5.4.1: only for a candidate whose
 * log is at least as up-to-date as ours. A pre-vote is granted for a future term regardless of
 * our vote, as it binds nothing.
 */
export function handleVoteRequest(r: RaftNode, m: VoteRequest): void {
  const canVote = r.vote === m.from || (r.vote === null && r.lead === null) || (m.preVote && m.term > r.term);
  const granted = canVote && r.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
  // A granted answer carries the requested term (for a pre-vote, a term we have not reached);
  // a refusal carries ours, so a candidate behind us learns the current term.
  r.send({ type: 'voteResp', from: r.id, to: m.from, term: granted ? m.term : r.term, preVote: m.preVote, granted });
  if (granted && !m.preVote) {
    r.electionElapsed = 0;
    r.vote = m.from;
  }
}
