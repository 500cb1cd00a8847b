/**
 * Errors the pure Raft core throws. They signal a caller bug (a broken Ready contract, a bad
 * configuration or restored state), never a protocol outcome: refusals are results and a
 * peer's message is never thrown on.
 */

/** The caller broke the Ready contract (ready() twice without advance(), advance() of a stale Ready). */
export class ReadyContractError extends Error {
  override readonly name = 'ReadyContractError';
}

/** A {@link RaftConfig} value is out of range. */
export class RaftConfigError extends RangeError {
  override readonly name = 'RaftConfigError';
}

/** The {@link RestoredState} handed to the constructor is inconsistent (storage lost data). */
export class RestoredStateError extends Error {
  override readonly name = 'RestoredStateError';
}
