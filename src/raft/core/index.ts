// STATUS: usable
/**
 * The pure Raft core: {@link RaftCore} implements `RaftCoreApi` (see ../interfaces.ts and the
 * Ready contract in ../types.ts). Deterministic: no timers, sockets, disk, clock or
 * Math.random; randomness comes from `config.random`.
 *
 * Notes for drivers and simulators:
 * - `hasReady()` is false while a Ready is out (between `ready()` and `advance()`).
 * - `committedEntries` come in batches of about `maxSizePerMsg` bytes; keep calling ready().
 * - The first entry of a new cluster is a Noop whose data is the founding configuration
 *   (`foundingConf(entry)` reads it), so joiners may start with an empty `bootstrapConf`.
 */
export { RaftCore } from './raft.js';
export { ReadyContractError, RaftConfigError, RestoredStateError } from './errors.js';
export {
  applyConfChange,
  confAfter,
  decodeConfChange,
  encodeConfChange,
  encodeFoundingConf,
  foundingConf,
  type ConfChangeResult,
} from './conf.js';
export { committedIndex, hasQuorum, majority, voteResult, type VoteResult } from './quorum.js';
