/**
 * The data types shared by the Raft core, its storage, its transports and its driver.
 *
 * Everything here is plain data (no classes) so that it encodes with cbor-x as is and
 * compares with structural equality in tests. Indexes and terms are JS numbers: 2^53
 * entries is more than a cluster will ever write.
 */

/** A member's id. In shoal it is the member's libp2p peer id string. */
export type NodeId = string;

/** What an entry carries. Plain numbers (not a const enum) so isolated-module builds work. */
export const EntryType = {
  /** An application command for the state machine. */
  Normal: 0,
  /** A membership change; `data` is a cbor-encoded {@link ConfChange}. */
  ConfChange: 1,
  /** The empty entry a new leader appends to commit entries of earlier terms (Raft §5.4.2, §8). */
  Noop: 2,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/**
 * One single-server membership change (Raft thesis §4.1, §4.2.1).
 * - `addLearner`: a new non-voting member that receives the log but does not vote or count for commit;
 * - `promote`: a learner becomes a voter;
 * - `demote`: a voter becomes a learner (used before removing a healthy voter gracefully);
 * - `remove`: the member leaves the configuration entirely.
 * `context` is opaque to Raft (shoal puts the member's addresses there).
 */
export interface ConfChange {
  readonly type: 'addLearner' | 'promote' | 'demote' | 'remove';
  readonly node: NodeId;
  readonly context?: Uint8Array;
}

/** A configuration: who votes and who only learns. A node is in at most one of the lists. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** What must survive a crash besides the log (Raft Figure 2 "persistent state"), plus the commit index. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

export interface SnapshotMeta {
  /** Index of the last entry the snapshot covers. */
  readonly index: number;
  /** Term of that entry. */
  readonly term: number;
  /** The configuration in force at `index`. */
  readonly conf: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The state machine's serialized state at `meta.index`; opaque to Raft. */
  readonly data: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Messages. Every message names its sender, its receiver and the sender's term.
// ---------------------------------------------------------------------------------------------

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's current term; for pre-vote requests, the term the sender *would* campaign in. */
  readonly term: number;
}

/** RequestVote (§5.2); with `preVote` it is the pre-vote round of thesis §9.6 and changes no state. */
export interface VoteRequest extends MessageBase {
  readonly type: 'vote';
  readonly preVote: boolean;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** Set when campaigning because of a leadership transfer: voters ignore their leader lease. */
  readonly transfer: boolean;
}

export interface VoteResponse extends MessageBase {
  readonly type: 'voteResp';
  readonly preVote: boolean;
  readonly granted: boolean;
}

/** AppendEntries (§5.3). An empty `entries` with the leader's commit doubles as a probe. */
export interface AppendRequest extends MessageBase {
  readonly type: 'append';
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface AppendResponse extends MessageBase {
  readonly type: 'appendResp';
  readonly success: boolean;
  /** On success: the index of the last entry now known to match the leader's log. On reject: the rejected prevLogIndex. */
  readonly index: number;
  /**
   * Fast back-off on reject (§5.3, "the follower can include the term of the conflicting entry
   * and the first index it stores for that term"): the follower's last index when its log is
   * shorter than prevLogIndex, else the first index of the conflicting term.
   */
  readonly hintIndex: number;
  /** The term of the follower's entry at prevLogIndex, or 0 when it has none. */
  readonly hintTerm: number;
}

/** Leader heartbeat. `context` ties the acknowledgements to pending ReadIndex requests. */
export interface HeartbeatRequest extends MessageBase {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly context?: Uint8Array;
}

export interface HeartbeatResponse extends MessageBase {
  readonly type: 'heartbeatResp';
  readonly context?: Uint8Array;
}

/**
 * One chunk of InstallSnapshot (§7). Chunks are sent in order; `offset` is the byte offset of
 * `chunk` in the snapshot data and `done` marks the last one. The follower installs the
 * snapshot only when it has every byte.
 */
export interface SnapshotRequest extends MessageBase {
  readonly type: 'snapshot';
  readonly meta: SnapshotMeta;
  readonly offset: number;
  readonly chunk: Uint8Array;
  readonly done: boolean;
}

export interface SnapshotResponse extends MessageBase {
  readonly type: 'snapshotResp';
  readonly meta: { readonly index: number; readonly term: number };
  /** The number of bytes received so far; the leader sends the next chunk from here. */
  readonly received: number;
  /** True once installed; `reject` when the follower lost the transfer and needs a restart from 0. */
  readonly done: boolean;
  readonly reject: boolean;
}

/** Leadership transfer (thesis §3.10): the target campaigns at once, ignoring its election timer. */
export interface TimeoutNowRequest extends MessageBase {
  readonly type: 'timeoutNow';
}

/** A follower forwards a ReadIndex request to its leader (thesis §6.4). */
export interface ReadIndexRequest extends MessageBase {
  readonly type: 'readIndex';
  readonly context: Uint8Array;
}

/** The leader's answer: `index` is the read index, or -1 when the leader could not serve it. */
export interface ReadIndexResponse extends MessageBase {
  readonly type: 'readIndexResp';
  readonly context: Uint8Array;
  readonly index: number;
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | HeartbeatRequest
  | HeartbeatResponse
  | SnapshotRequest
  | SnapshotResponse
  | TimeoutNowRequest
  | ReadIndexRequest
  | ReadIndexResponse;

export type MessageType = Message['type'];

// ---------------------------------------------------------------------------------------------
// The core's interface to its caller.
// ---------------------------------------------------------------------------------------------

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state the caller may want to observe (leader changes). */
export interface SoftState {
  readonly leader: NodeId | null;
  readonly role: Role;
}

/** A linearizable read that may now be served: once the state machine has applied `index`. */
export interface ReadState {
  readonly context: Uint8Array;
  readonly index: number;
}

/**
 * A batch of work from the core. The caller MUST handle it in this order:
 *
 * 1. persist `snapshot` (if any), then `entries` (appending at `entries[0].index` and
 *    discarding any stored entries from that index on), then `hardState` (if any) —
 *    and fsync when `mustSync` is true;
 * 2. only then send `messages` (a message may promise that those entries are durable);
 * 3. apply `snapshot` (if any) to the state machine, then `committedEntries` in order
 *    (they are durable already: committed entries were persisted by an earlier Ready or
 *    by this one);
 * 4. hand `readStates` to waiting readers (each served once applied >= its index);
 * 5. call `advance(ready)`.
 *
 * `ready()` must not be called again before `advance()`; the core throws if it is.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly snapshot?: Snapshot;
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  /** True when hardState's term or vote changed, or entries/snapshot are present. */
  readonly mustSync: boolean;
}

/** Why the core refused a proposal, a read or a transfer. These are results, not exceptions. */
export type RefusalReason =
  | 'notLeader' //  this node is not the leader; `leader` says who is, when known
  | 'transferring' // the leader is handing over leadership and accepts no new proposals
  | 'confChangePending' // a membership change is still uncommitted: one at a time
  | 'noQuorumYet' // a new leader has not yet committed an entry of its term (reads, conf changes)
  | 'invalid'; // the request makes no sense (e.g. promote a node that is not a learner)

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: RefusalReason; readonly leader: NodeId | null; readonly detail?: string };

export type RequestResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: RefusalReason; readonly leader: NodeId | null; readonly detail?: string };

/** Replication progress of one peer as the leader sees it (etcd's tracker.Progress). */
export interface PeerProgress {
  readonly id: NodeId;
  readonly voter: boolean;
  /** Highest index known to be replicated on the peer. */
  readonly match: number;
  /** Next index to send. */
  readonly next: number;
  /** probe: one message at a time until we find the match; replicate: pipelined; snapshot: sending one. */
  readonly state: 'probe' | 'replicate' | 'snapshot';
  /** Whether the peer answered within the last election timeout (check-quorum). */
  readonly recentActive: boolean;
  /** Messages in flight (pipelining window). */
  readonly inflight: number;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly role: Role;
  readonly leader: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly conf: ConfState;
  /** Only on the leader. */
  readonly progress?: readonly PeerProgress[];
  /** Set on the leader while a transfer is under way. */
  readonly transferee?: NodeId | null;
}

/** Tunables of the core. Times are in ticks; the driver decides how long a tick is. */
export interface RaftConfig {
  readonly id: NodeId;
  /** Election timeout is drawn uniformly in [electionTick, 2*electionTick). Default 10. */
  readonly electionTick?: number;
  /** A leader sends heartbeats every heartbeatTick ticks. Default 1. Must be < electionTick. */
  readonly heartbeatTick?: number;
  /** Pre-vote (thesis §9.6). Default true. */
  readonly preVote?: boolean;
  /** Check-quorum (thesis §6.2): a leader steps down after an election timeout without hearing from a quorum; followers that heard from a leader recently refuse votes. Default true. */
  readonly checkQuorum?: boolean;
  /** Max total entry data bytes in one append message. Default 1 MiB. */
  readonly maxSizePerMsg?: number;
  /** Max append messages in flight to one peer in replicate state. Default 256. */
  readonly maxInflightMsgs?: number;
  /** Snapshot chunk size in bytes. Default 256 KiB. */
  readonly snapshotChunkSize?: number;
  /** Max uncommitted entries' data bytes on a leader before it refuses proposals. Default 64 MiB. */
  readonly maxUncommittedBytes?: number;
  /** A seeded random source in [0, 1). The core never calls Math.random(). */
  readonly random: () => number;
}

/**
 * What the core is built from on start: what storage recovered, or a fresh bootstrap.
 * `entries` are those after `snapshot.meta.index` (or from index 1 without a snapshot).
 * `conf` is the configuration of the last ConfChange in `entries`, else the snapshot's,
 * else the bootstrap configuration; the core recomputes it from `entries` itself, so it
 * only needs the base (`snapshot?.meta.conf ?? bootstrapConf`).
 */
export interface RestoredState {
  readonly hardState: HardState;
  readonly snapshot?: Snapshot;
  readonly entries: readonly Entry[];
  /** The configuration to start from when there is no snapshot (a brand new cluster or joiner). */
  readonly bootstrapConf?: ConfState;
}
