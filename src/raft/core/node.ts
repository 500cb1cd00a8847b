/**
 * The mutable state of one Raft peer and the helpers every role uses. Internal to the core:
 * `RaftCore` (raft.ts) is the public face; the role step functions (follower.ts, candidate
 * in election.ts, leader.ts) operate on this object, swapped in by the `become*` functions.
 */
import type { ConfState, Message, NodeId, ReadState, Role, SnapshotMeta } from '../types.js';
import { EntryType, type Entry } from '../types.js';
import { applyConfChange, decodeConfChange } from './conf.js';
import type { RaftLog } from './log.js';
import { Progress } from './progress.js';
import { ReadOnlyQueue } from './read-only.js';
import { SnapshotSender } from './snapshot-sender.js';

/** A snapshot being received in chunks from the leader of `term`. */
export interface IncomingSnapshot {
  readonly meta: SnapshotMeta;
  readonly term: number;
  readonly chunks: Uint8Array[];
  received: number;
}

export type StepFn = (r: RaftNode, m: Message) => void;
export type TickFn = (r: RaftNode) => void;

/** Config with defaults filled in. */
export interface Tunables {
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
  readonly snapshotChunkSize: number;
  readonly maxUncommittedBytes: number;
  readonly random: () => number;
}

export class RaftNode {
  readonly id: NodeId;
  readonly cfg: Tunables;
  readonly log: RaftLog;

  term = 0;
  vote: NodeId | null = null;
  lead: NodeId | null = null;
  role: Role = 'follower';

  /** The configuration in force: that of the last ConfChange *appended* (thesis §4.1). */
  conf: ConfState;
  /** Index of the last ConfChange entry in the log (or the snapshot index). */
  lastConfIndex = 0;

  /** Leader only: replication progress of every other member. */
  readonly prs = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();

  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;

  leadTransferee: NodeId | null = null;
  transferElapsed = 0;
  /** Leader only: bytes of data proposed in this term and not yet committed. */
  uncommittedSize = 0;
  /** Leader only: index of the Noop that opened this term (entries before it are not ours to count). */
  termStartIndex = 0;

  readonly readOnly = new ReadOnlyQueue();
  readStates: ReadState[] = [];
  msgs: Message[] = [];
  readonly sender: SnapshotSender;
  incoming: IncomingSnapshot | undefined;

  stepFn: StepFn = () => {};
  tickFn: TickFn = () => {};

  constructor(id: NodeId, cfg: Tunables, log: RaftLog) {
    this.id = id;
    this.cfg = cfg;
    this.log = log;
    this.sender = new SnapshotSender(cfg.snapshotChunkSize);
    this.conf = log.snapConf;
    this.recomputeConf();
  }

  /** Queues a message for the next Ready; messages to self are never emitted. */
  send(m: Message): void {
    if (m.to !== this.id) this.msgs.push(m);
  }

  /** A voter of its own configuration: only those campaign (learners and removed nodes never do). */
  promotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  resetRandomizedElectionTimeout(): void {
    const et = this.cfg.electionTick;
    this.randomizedElectionTimeout = et + Math.min(et - 1, Math.floor(this.cfg.random() * et));
  }

  /** Whether the election timer has passed the randomized timeout. */
  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  /** The leader has committed an entry of its own term (reads and conf changes need it). */
  committedInTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  /**
   * Takes back the queued acknowledgements of entries that a later step of the same Ready
   * replaced: from index `from` on, and of any index when given by an earlier term. Sent after
   * the Ready's write, they would vouch for entries no longer on disk, and the old leader could
   * count them towards a commit (dropping a message is always safe).
   */
  retractAcks(from: number, olderTerms: boolean): void {
    this.msgs = this.msgs.filter(
      (m) => m.type !== 'appendResp' || !m.success || (m.index < from && !(olderTerms && m.term < this.term)),
    );
  }

  /** Appends entries to the log and applies any configuration they change or truncate away. */
  appendToLog(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const truncatedAt = this.log.append(entries);
    if (truncatedAt !== undefined) this.retractAcks(truncatedAt, false);
    if ((truncatedAt !== undefined && truncatedAt <= this.lastConfIndex) || entries[0]!.index === 1) {
      // an uncommitted change was overwritten (back to the configuration of the log as it is
      // now), or the log starts afresh with the founding configuration
      this.recomputeConf();
      return;
    }
    for (const e of entries) {
      if (e.type !== EntryType.ConfChange) continue;
      this.lastConfIndex = e.index;
      const change = decodeConfChange(e.data);
      const r = change ? applyConfChange(this.conf, change) : undefined;
      if (r?.ok) this.setConf(r.conf);
    }
  }

  /** Recomputes the configuration from the snapshot's and the log's ConfChange entries. */
  recomputeConf(): void {
    this.lastConfIndex = this.log.snapIndex;
    for (let i = this.log.lastIndex(); i > this.log.snapIndex; i--) {
      if (this.log.entry(i)!.type === EntryType.ConfChange) {
        this.lastConfIndex = i;
        break;
      }
    }
    this.setConf(this.log.confAt(this.log.lastIndex()));
  }

  setConf(conf: ConfState): void {
    this.conf = conf;
    if (this.role === 'leader') this.syncProgress();
  }

  /** Leader: make `prs` hold exactly the other members of the configuration. */
  syncProgress(): void {
    const members = new Set([...this.conf.voters, ...this.conf.learners]);
    for (const id of [...this.prs.keys()]) {
      if (!members.has(id)) {
        this.prs.delete(id);
        this.sender.stop(id);
        if (this.leadTransferee === id) this.leadTransferee = null;
      }
    }
    for (const id of members) {
      if (id === this.id) continue;
      const voter = this.conf.voters.includes(id);
      const pr = this.prs.get(id);
      if (pr) pr.voter = voter;
      else this.prs.set(id, new Progress(this.log.lastIndex() + 1, voter, this.cfg.maxInflightMsgs));
    }
  }

  /** The leader's own acknowledged index: what it has durably persisted. */
  selfMatch(): number {
    return this.log.persisted;
  }

  /** Leadership is lost or changed: answer pending reads with index -1 so nobody waits forever. */
  abortReads(): void {
    for (const req of this.readOnly.drain()) {
      for (const who of req.requesters) this.answerRead(who, req.context, -1);
    }
  }

  /** Delivers a read result to a local reader (ReadState) or the follower that forwarded it. */
  answerRead(requester: NodeId, context: Uint8Array, index: number): void {
    if (requester === this.id) this.readStates.push({ context, index });
    else this.send({ type: 'readIndexResp', from: this.id, to: requester, term: this.term, context, index });
  }

  /** Common reset when the role or term changes. */
  reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = null;
    }
    this.abortReads();
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = null;
    this.transferElapsed = 0;
    this.votes.clear();
    this.prs.clear();
    this.sender.clear();
    this.uncommittedSize = 0;
  }
}
