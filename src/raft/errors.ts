/** Errors the Raft driver hands to callers. Protocol outcomes inside the core are results, not these. */
import type { NodeId, RefusalReason } from './types.js';

/** This node cannot serve the request; `leader` is who can, when known. Forward to it. */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
  constructor(
    readonly leader: NodeId | null,
    readonly reason: RefusalReason = 'notLeader',
    detail?: string,
  ) {
    super(
      detail ??
        (leader
          ? `Cannot serve the request as this node is not the leader: retry on leader ${leader}`
          : 'Cannot serve the request as there is no leader right now: retry after an election'),
    );
  }
}

/** The core refused the request for a reason other than leadership (a pending change, a transfer). */
export class RaftRefusedError extends Error {
  override readonly name = 'RaftRefusedError';
  constructor(
    readonly reason: RefusalReason,
    readonly leader: NodeId | null,
    detail?: string,
  ) {
    super(detail ?? `Raft refused the request (${reason}): retry later`);
  }
}

/**
 * Leadership changed while a proposal was in flight: the entry may or may not be committed.
 * Callers that retry must make their command idempotent.
 */
export class OutcomeUnknownError extends Error {
  override readonly name = 'OutcomeUnknownError';
  constructor(
    readonly index: number,
    cause?: unknown,
  ) {
    super(
      `The outcome of the proposal at index ${index} is unknown as leadership changed before it was applied: check the state before retrying`,
      { cause },
    );
  }
}

/** The entry proposed at `index` was overwritten by another leader's entry: it was not applied. */
export class ProposalDroppedError extends Error {
  override readonly name = 'ProposalDroppedError';
  constructor(readonly index: number) {
    super(`The proposal at index ${index} was overwritten by a new leader and not applied: retry it`);
  }
}

/** The node is stopped or stopping. */
export class StoppedError extends Error {
  override readonly name = 'StoppedError';
  constructor() {
    super('Cannot serve the request as the Raft node is stopped');
  }
}
