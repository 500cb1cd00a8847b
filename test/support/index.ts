/** Test support shared by the Raft tests: a seeded PRNG, a linearizability checker, a KV state machine. */
export { Prng } from './prng.js';
export {
  checkLinearizable,
  describe as describeOperation,
  LinearizabilitySearchLimitError,
  type CheckOptions,
  type KvOperation,
  type LinearizabilityResult,
} from './linearizability.js';
export { KvStateMachine, KvCommandError, encodePut, type KvPut } from './kv-state-machine.js';
