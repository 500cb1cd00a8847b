/**
 * The seams around the pure core: the core itself (as the driver and simulator see it),
 * durable storage, the transport, and the replicated state machine.
 */
import type {
  ConfChange,
  Entry,
  HardState,
  Message,
  NodeId,
  ProposeResult,
  RaftStatus,
  Ready,
  RequestResult,
  RestoredState,
  Snapshot,
} from './types.js';

/**
 * The pure Raft core: no timers, sockets, disk, clock or Math.random inside.
 * Implemented by `RaftCore` in `core/raft.ts`; see {@link Ready} for the contract.
 */
export interface RaftCoreApi {
  /** Advance logical time by one tick (election and heartbeat timers). */
  tick(): void;
  /** Feed a message received from a peer. Messages with a stale term are ignored or answered, never thrown on. */
  step(message: Message): void;
  /** Append an application command (leader only). */
  propose(data: Uint8Array): ProposeResult;
  /** Append a membership change (leader only, one at a time). */
  proposeConfChange(change: ConfChange): ProposeResult;
  /**
   * Ask for a linearizable read (thesis §6.4). When the leader has confirmed with a quorum that
   * it still leads, a {@link ReadState} with the same `context` appears in a Ready. On a follower
   * the request is forwarded to the leader; if it cannot be served the ReadState has index -1.
   */
  readIndex(context: Uint8Array): RequestResult;
  /** Hand leadership to `to` (thesis §3.10); proposals are refused until it completes or times out. */
  transferLeader(to: NodeId): RequestResult;
  /** Start an election now (tests, and an operator's "campaign"). */
  campaign(): void;
  hasReady(): boolean;
  ready(): Ready;
  advance(ready: Ready): void;
  /**
   * The application has a snapshot of its state machine at `index` (<= applied): keep it to send
   * to lagging peers and discard log entries up to `index`.
   */
  compact(index: number, data: Uint8Array): void;
  /** Tell the core a peer could not be reached, so it stops pipelining to it. */
  reportUnreachable(peer: NodeId): void;
  status(): RaftStatus;
}

/** Durable Raft storage: a write-ahead log plus snapshot files. */
export interface RaftStorage {
  /** Read back what was durably saved; throws a `StorageCorruptError` on corruption before the tail. */
  load(): Promise<RestoredState>;
  /**
   * Persist a Ready's durable parts, in order: snapshot, entries (overwriting from entries[0].index),
   * hard state. When `sync` is true the promise resolves only after fsync.
   */
  save(parts: { snapshot?: Snapshot; entries: readonly Entry[]; hardState?: HardState }, sync: boolean): Promise<void>;
  /**
   * Store a snapshot the application made at `snapshot.meta.index` and drop the log up to it
   * (whole segment files only). Atomic: after a crash either the old or the new snapshot is there.
   */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  close(): Promise<void>;
}

/** Sends Raft messages to peers and delivers received ones. Best effort: Raft tolerates loss. */
export interface RaftTransport {
  /** Queue messages for sending; never throws for an unreachable peer (report it through `onUnreachable`). */
  send(messages: readonly Message[]): void;
  /** Register the receiver. Called once by the driver before start. */
  onMessage(handler: (message: Message) => void): void;
  /** Optional: told when a peer could not be reached. */
  onUnreachable?(handler: (peer: NodeId) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The replicated state machine. `apply` must be deterministic: it may not read the clock,
 * randomness or the environment (the leader stamps those into commands).
 */
export interface StateMachine<Result = unknown> {
  /** Apply one committed Normal entry; the result is returned to the proposer on this node. */
  apply(entry: Entry): Result;
  /** Told of committed membership changes, in log order (after they took effect in the core). */
  applyConfChange?(entry: Entry, change: ConfChange): void;
  /** Serialize the whole state as of the last applied entry. */
  snapshot(): Uint8Array;
  /** Replace the whole state with a snapshot's. */
  restore(data: Uint8Array, index: number): void;
}
