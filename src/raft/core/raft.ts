/**
 * `RaftCore`: the pure, deterministic Raft state machine (the public face of this folder).
 * Messages and ticks go in; a {@link Ready} comes out with what to persist, send and apply.
 * Role logic lives in election.ts, follower.ts and leader.ts as swapped step functions; this
 * file holds the term rules every message goes through, the Ready bookkeeping and restart.
 */
import type { RaftCoreApi } from '../interfaces.js';
import type {
  ConfChange,
  HardState,
  Message,
  NodeId,
  PeerProgress,
  ProposeResult,
  RaftConfig,
  RaftStatus,
  Ready,
  RequestResult,
  RestoredState,
  SoftState,
} from '../types.js';
import { EntryType } from '../types.js';
import { applyConfChange, encodeConfChange } from './conf.js';
import { becomeFollower, handleVoteRequest, hup } from './election.js';
import { RaftConfigError, ReadyContractError, RestoredStateError } from './errors.js';
import { afterCommit, leaderRead, maybeCommit, propose, transferLeader } from './leader.js';
import { RaftLog } from './log.js';
import { RaftNode, type Tunables } from './node.js';
import { isWellFormed } from './validate.js';

function tunables(config: RaftConfig): Tunables {
  const t: Tunables = {
    electionTick: config.electionTick ?? 10,
    heartbeatTick: config.heartbeatTick ?? 1,
    preVote: config.preVote ?? true,
    checkQuorum: config.checkQuorum ?? true,
    maxSizePerMsg: config.maxSizePerMsg ?? 1024 * 1024,
    maxInflightMsgs: config.maxInflightMsgs ?? 256,
    snapshotChunkSize: config.snapshotChunkSize ?? 256 * 1024,
    maxUncommittedBytes: config.maxUncommittedBytes ?? 64 * 1024 * 1024,
    random: config.random,
  };
  const positive = [
    'electionTick',
    'heartbeatTick',
    'maxSizePerMsg',
    'maxInflightMsgs',
    'snapshotChunkSize',
    'maxUncommittedBytes',
  ] as const;
  for (const k of positive) {
    if (!Number.isInteger(t[k]) || t[k] < 1)
      throw new RaftConfigError(`Cannot start Raft as ${k} must be an integer >= 1: got ${t[k]}`);
  }
  if (t.heartbeatTick >= t.electionTick) {
    throw new RaftConfigError(
      `Cannot start Raft as heartbeatTick (${t.heartbeatTick}) must be < electionTick (${t.electionTick})`,
    );
  }
  if (typeof t.random !== 'function')
    throw new RaftConfigError('Cannot start Raft without config.random: pass a seeded generator');
  if (!config.id) throw new RaftConfigError('Cannot start Raft without config.id');
  return t;
}

const sameHard = (a: HardState, b: HardState): boolean =>
  a.term === b.term && a.vote === b.vote && a.commit === b.commit;

/** The pure Raft core. See {@link RaftCoreApi} and {@link Ready} for the contract. */
export class RaftCore implements RaftCoreApi {
  readonly #r: RaftNode;
  #prevSoft: SoftState;
  #prevHard: HardState;
  #pending: Ready | undefined;

  /**
   * @example
   * const core = new RaftCore({ id: 'a', random: seeded(1) },
   *   { hardState: { term: 0, vote: null, commit: 0 }, entries: [], bootstrapConf: { voters: ['a', 'b', 'c'], learners: [] } });
   */
  constructor(config: RaftConfig, restored: RestoredState) {
    const cfg = tunables(config);
    const base = restored.snapshot?.meta.conf ?? restored.bootstrapConf ?? { voters: [], learners: [] };
    const log = new RaftLog(base, restored.snapshot, restored.entries);
    let expect = log.firstIndex();
    for (const e of restored.entries) {
      if (e.index <= log.snapIndex) continue;
      if (e.index !== expect)
        throw new RestoredStateError(
          `Cannot restore Raft as the log has a gap: expected index ${expect}, found ${e.index}`,
        );
      expect++;
    }
    const hs = restored.hardState;
    if (hs.commit > log.lastIndex()) {
      throw new RestoredStateError(
        `Cannot restore Raft as the hard state commit ${hs.commit} is beyond the last log index ${log.lastIndex()}: the log lost durable entries`,
      );
    }
    log.commitTo(hs.commit);
    this.#r = new RaftNode(config.id, cfg, log);
    const r = this.#r;
    // A snapshot file is written before the WAL frame of its Ready, so a crash between the two
    // can leave a log whose last term the persisted hard state never reached. Nothing was sent
    // in that term (messages wait for the write), so taking it now, with no vote, is what the
    // leader's message would have done; the next Ready persists it.
    const term = Math.max(hs.term, log.lastTerm());
    becomeFollower(r, term, null);
    r.vote = term === hs.term ? hs.vote : null;
    this.#prevSoft = { leader: null, role: 'follower' };
    this.#prevHard = { term: hs.term, vote: hs.vote, commit: log.committed };
  }

  tick(): void {
    this.#r.tickFn(this.#r);
  }

  campaign(): void {
    hup(this.#r, false);
  }

  /** Feeds a peer's message: the term rules of §5.1 first, then the role's step function. */
  step(m: Message): void {
    const r = this.#r;
    if (!isWellFormed(m) || m.to !== r.id || m.from === r.id) return;
    if (m.term > r.term) {
      if (m.type === 'vote') {
        // Thesis §4.2.3: a server that hears from a live leader ignores disruptive candidates.
        // With check-quorum this lease holds against anyone (a leader that lost its quorum
        // steps down, so it cannot hold the lease forever). Without it, it still holds against
        // a candidate outside our configuration: a voter removed while cut off never learns
        // it, and would otherwise depose every leader again and again, so that no leader
        // lasted long enough to finish a snapshot transfer (simulator seed 35666). (A candidate
        // of a newer configuration we lack waits at most until our leader falls silent.)
        const inLease = r.lead !== null && r.electionElapsed < r.cfg.electionTick;
        const outsider = !r.conf.voters.includes(m.from);
        if (inLease && !m.transfer && (r.cfg.checkQuorum || outsider)) return;
      }
      if (m.type === 'vote' && m.preVote) {
        // a pre-vote binds nothing: keep our term
      } else if (m.type === 'voteResp' && m.preVote && m.granted) {
        // the term of a granted pre-vote is the one we are about to campaign in
      } else if (m.type === 'readIndexResp') {
        // answers carry no authority over our term
      } else {
        const isLeaderMsg = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
        becomeFollower(r, m.term, isLeaderMsg ? m.from : null);
      }
    } else if (m.term < r.term) {
      this.#stepStale(m);
      return;
    }
    if (m.type === 'vote') {
      handleVoteRequest(r, m);
      return;
    }
    r.stepFn(r, m);
  }

  /** A message from an earlier term: answer where it helps the sender catch up, else drop it. */
  #stepStale(m: Message): void {
    const r = this.#r;
    switch (m.type) {
      case 'append':
      case 'heartbeat':
        // a deposed leader (or one cut off and back) learns our term from this and steps down
        r.send({
          type: 'appendResp',
          from: r.id,
          to: m.from,
          term: r.term,
          success: false,
          index: 0,
          hintIndex: 0,
          hintTerm: 0,
        });
        return;
      case 'vote':
        // §5.1 "If a server receives a request with a stale term number, it rejects the
        // request": the refusal carries our term, so a candidate that falls behind catches up.
        // Silence let a candidate that nobody else could elect keep raising the voters' terms
        // ahead of the only electable one, which never learnt them (simulator seed 14866).
        r.send({ type: 'voteResp', from: r.id, to: m.from, term: r.term, preVote: m.preVote, granted: false });
        return;
      case 'readIndex':
        r.send({ type: 'readIndexResp', from: r.id, to: m.from, term: r.term, context: m.context, index: -1 });
        return;
      case 'readIndexResp':
        // the old leader confirmed its leadership after our request arrived: the index is valid
        r.readStates.push({ context: m.context, index: m.index });
        return;
      default:
        return;
    }
  }

  propose(data: Uint8Array): ProposeResult {
    return propose(this.#r, EntryType.Normal, data);
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    const r = this.#r;
    if (r.role !== 'leader') return { ok: false, reason: 'notLeader', leader: r.lead };
    if (r.leadTransferee !== null) {
      return {
        ok: false,
        reason: 'transferring',
        leader: r.lead,
        detail: `Cannot change membership while leadership is being transferred to ${r.leadTransferee}: retry on the new leader`,
      };
    }
    if (!r.committedInTerm()) {
      return {
        ok: false,
        reason: 'noQuorumYet',
        leader: r.lead,
        detail: 'Cannot change membership before this new leader has committed an entry of its term: retry shortly',
      };
    }
    if (r.lastConfIndex > r.log.committed) {
      return {
        ok: false,
        reason: 'confChangePending',
        leader: r.lead,
        detail: `Cannot change membership while the change at index ${r.lastConfIndex} is uncommitted: retry once it commits`,
      };
    }
    const check = applyConfChange(r.conf, change);
    if (!check.ok) return { ok: false, reason: 'invalid', leader: r.lead, detail: check.detail };
    return propose(r, EntryType.ConfChange, encodeConfChange(change));
  }

  readIndex(context: Uint8Array): RequestResult {
    const r = this.#r;
    if (r.role === 'leader') return leaderRead(r, context, r.id);
    if (r.lead === null) {
      return {
        ok: false,
        reason: 'notLeader',
        leader: null,
        detail: 'Cannot serve a read as there is no leader right now: retry after an election',
      };
    }
    r.send({ type: 'readIndex', from: r.id, to: r.lead, term: r.term, context });
    return { ok: true };
  }

  transferLeader(to: NodeId): RequestResult {
    return transferLeader(this.#r, to);
  }

  /**
   * On a leader: stop pipelining to `peer`. On a follower whose *leader* became unreachable (its
   * connection closed, as when the leader's process dies): forget the leader, which also drops
   * this node's check-quorum lease, and campaign after a short random delay instead of a whole
   * election timeout. Pre-vote keeps this harmless when only this node lost the leader: voters
   * that still hear from it keep their lease and refuse. Timing never affects safety.
   */
  reportUnreachable(peer: NodeId): void {
    const r = this.#r;
    if (r.role === 'leader') {
      const pr = r.prs.get(peer);
      if (pr?.state === 'replicate') pr.becomeProbe();
      return;
    }
    if (r.role === 'follower' && peer === r.lead && r.cfg.checkQuorum && r.cfg.preVote) {
      r.lead = null;
      const soon = 1 + Math.floor(r.cfg.random() * Math.max(1, Math.floor(r.cfg.electionTick / 3)));
      r.electionElapsed = Math.max(r.electionElapsed, r.randomizedElectionTimeout - soon);
    }
  }

  /** Also allowed while a Ready is out, up to the last entry that Ready gave to apply. */
  compact(index: number, data: Uint8Array): void {
    const log = this.#r.log;
    if (index <= log.snapIndex) return;
    const applying = this.#pending?.committedEntries.at(-1)?.index ?? 0;
    const applied = Math.max(log.applied, applying);
    if (!Number.isSafeInteger(index) || index > applied) {
      throw new RangeError(
        `Cannot compact the log up to ${index} as only ${applied} entries are applied: snapshot at or below the applied index`,
      );
    }
    log.compact(index, data);
  }

  #softState(): SoftState {
    return { leader: this.#r.lead, role: this.#r.role };
  }

  #hardState(): HardState {
    return { term: this.#r.term, vote: this.#r.vote, commit: this.#r.log.committed };
  }

  /** False while a Ready is out (between ready() and advance()). */
  hasReady(): boolean {
    if (this.#pending) return false;
    const r = this.#r;
    const soft = this.#softState();
    return (
      soft.leader !== this.#prevSoft.leader ||
      soft.role !== this.#prevSoft.role ||
      !sameHard(this.#hardState(), this.#prevHard) ||
      r.log.pendingSnapshot !== undefined ||
      r.log.unstableFrom <= r.log.lastIndex() ||
      r.msgs.length > 0 ||
      r.log.hasNextCommitted() ||
      r.readStates.length > 0
    );
  }

  ready(): Ready {
    if (this.#pending) {
      throw new ReadyContractError(
        'Cannot call ready() again before advance(): persist, send and apply the previous Ready, then call advance(ready)',
      );
    }
    const r = this.#r;
    const soft = this.#softState();
    const hard = this.#hardState();
    const softChanged = soft.leader !== this.#prevSoft.leader || soft.role !== this.#prevSoft.role;
    const hardChanged = !sameHard(hard, this.#prevHard);
    const snapshot = r.log.pendingSnapshot;
    const entries = r.log.unstableEntries();
    const rd: Ready = {
      ...(softChanged ? { softState: soft } : {}),
      ...(hardChanged ? { hardState: hard } : {}),
      ...(snapshot ? { snapshot } : {}),
      entries,
      messages: r.msgs,
      committedEntries: r.log.nextCommitted(r.cfg.maxSizePerMsg),
      readStates: r.readStates,
      mustSync:
        snapshot !== undefined ||
        entries.length > 0 ||
        hard.term !== this.#prevHard.term ||
        hard.vote !== this.#prevHard.vote,
    };
    r.msgs = [];
    r.readStates = [];
    r.log.pendingSnapshot = undefined;
    r.log.markHandedOut();
    this.#pending = rd;
    return rd;
  }

  advance(ready: Ready): void {
    if (this.#pending !== ready) {
      throw new ReadyContractError(
        this.#pending
          ? 'Cannot advance() a Ready other than the last one returned by ready()'
          : 'Cannot advance() without a Ready: call ready() first',
      );
    }
    this.#pending = undefined;
    const r = this.#r;
    const log = r.log;
    if (ready.softState) this.#prevSoft = ready.softState;
    if (ready.hardState) this.#prevHard = ready.hardState;
    if (ready.snapshot) {
      log.persisted = Math.max(log.persisted, ready.snapshot.meta.index);
      log.applied = Math.max(log.applied, ready.snapshot.meta.index);
    }
    const last = ready.entries[ready.entries.length - 1];
    if (last) log.stableTo(last.index, last.term);
    const applied = ready.committedEntries[ready.committedEntries.length - 1];
    if (applied) log.applied = Math.max(log.applied, applied.index);
    // the leader acknowledges its own entries once durable (etcd's self-ack on advance)
    if (r.role === 'leader' && maybeCommit(r)) afterCommit(r);
  }

  status(): RaftStatus {
    const r = this.#r;
    const log = r.log;
    const base = {
      id: r.id,
      term: r.term,
      vote: r.vote,
      role: r.role,
      leader: r.lead,
      commit: log.committed,
      applied: log.applied,
      firstIndex: log.firstIndex(),
      lastIndex: log.lastIndex(),
      conf: { voters: [...r.conf.voters], learners: [...r.conf.learners] },
    };
    if (r.role !== 'leader') return base;
    const progress: PeerProgress[] = [];
    const member = r.conf.voters.includes(r.id) || r.conf.learners.includes(r.id);
    if (member) {
      const match = r.selfMatch();
      progress.push({
        id: r.id,
        voter: r.conf.voters.includes(r.id),
        match,
        next: log.lastIndex() + 1,
        state: 'replicate',
        recentActive: true,
        inflight: 0,
      });
    }
    for (const [id, pr] of r.prs) {
      progress.push({
        id,
        voter: pr.voter,
        match: pr.match,
        next: pr.next,
        state: pr.state,
        recentActive: pr.recentActive,
        inflight: pr.inflights.count(),
      });
    }
    return { ...base, progress, transferee: r.leadTransferee };
  }
}
