/**
 * The leader's controllers: Raft membership, and the workload controllers (replicated, global,
 * placement, node health, task garbage collection) behind one `reconcileWorkloads()` pass.
 * Every one is a pure function of the replicated state and an observation.
 */
export * from './raft-membership.js';
export * from './workload-types.js';
export {
  DEFAULT_BACKOFF,
  type BackoffOptions,
  backoffDelay,
  endedOnItsOwn,
  failureStreak,
  slotReadyAt,
  wantsReplacement,
} from './backoff.js';
export { isLive, planSlot, type SlotDecision, type SlotInput, type SlotStatus } from './slots.js';
export * from './rollout/index.js';
export { keepsReplicated, reconcileReplicated, type ReplicatedInput } from './replicated.js';
export { constraintMatcher, reconcileGlobal, type GlobalInput } from './global.js';
export {
  constraintsOf,
  hostPortsOf,
  nodeViews,
  placedTasks,
  reconcilePlacement,
  requestBase,
  reservationsOf,
  toNodeView,
  type PlacementInput,
  type PlacementPlan,
} from './placement.js';
export { DEFAULT_NODE_GRACE_MS, reconcileNodeHealth, type NodeHealthInput } from './node-health.js';
export { DEFAULT_TASK_HISTORY, collectTasks, type GcInput } from './gc.js';
export {
  DEFAULT_PASS_LIMITS,
  reconcileWorkloads,
  type HealthObservation,
  type PassLimits,
  type WorkloadReconcileInput,
} from './orchestrate.js';
export * from './cron/index.js';
export { reconcileJobs, unitIndices, type JobsInput, type JobsPlan } from './jobs.js';
export {
  DEFAULT_JOB_HISTORY,
  DEFAULT_MIN_JOB_AGE_MS,
  DEFAULT_TASK_BUDGET,
  collectJobs,
  type JobHistoryLimits,
} from './job-gc.js';
export { cronCommands } from './cron-pass.js';
export { nextWakeAt, type WakeOptions } from './wake.js';
