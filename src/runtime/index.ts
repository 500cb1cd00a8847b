/**
 * The node runtime: makes this node's containers match the tasks assigned to it, restarts them by
 * their restart policy and reports what it observes. Docker is the first driver.
 *
 * @module
 */
export type * from './types.js';
export { LABELS } from './types.js';
export * from './errors.js';
export {
  planNode,
  recordFailure,
  exitOf,
  isRunnable,
  strayKey,
  type Action,
  type ActionFailure,
  type PlanInput,
  type PlanResult,
  type RestartState,
} from './plan.js';
export {
  backoffDelay,
  decideAfterExit,
  freshMemory,
  markRestarted,
  formatMs,
  MAX_BACKOFF_MS,
  BACKOFF_RESET_MS,
  type TaskMemory,
  type ExitEvent,
  type TerminalOutcome,
} from './restart-policy.js';
export {
  containerCreateOptions,
  containerName,
  shortNodeId,
  volumeName,
  namedVolumes,
  type MeshCreateOptions,
} from './create-options.js';
export { LogDecoder, decodeLogs, parseLine } from './log-decoder.js';
export { DockerDriver, observedFrom, type DockerDriverOptions } from './docker-driver.js';
export { NodeRuntime, type NodeRuntimeOptions, type ReportHandler, type RuntimeLogger } from './node-runtime.js';
export { assignmentsFor, type WorkloadView } from './assignments.js';
export { DriverRouter, type DriverRouterOptions } from './driver-router.js';
export { unusedNetworks, NETWORK_GC_BATCH, type NetworkGcInput } from './network-gc.js';
export * from './process/index.js';
export { taskEnvironment } from './task-env.js';
export { MAX_TIMER_DELAY_MS, setLongTimeout, type LongTimeout, type TimerClock } from './long-timeout.js';
export { FENCE_STOP_MS, fenceAfterMs, stopsOnDisconnect, QUORUM_PROBE_MS, PROBE_TIMEOUT_MS } from './self-fence.js';
