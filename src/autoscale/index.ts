/**
 * Automatic scaling (issue 16): Kubernetes HPA's algorithm as pure code (policy, replica
 * calculator, decision with stabilisation and rate limits), the leader's bounded window of task
 * samples, and the validation of the frames nodes send it.
 *
 * @module
 */
export { HPA_DEFAULTS, policyOf, SCALE_TO_ZERO_DEFAULTS, type AutoscalePolicy, type MetricTarget } from './policy.js';
export {
  recommend,
  recommendPending,
  recommendRps,
  type MetricRecommendation,
  type TaskObservation,
  type TaskSample,
} from './replica-calc.js';
export {
  decide,
  type AutoscaleDecision,
  type AutoscaleInput,
  type AutoscaleResult,
  type AutoscalerMemory,
} from './autoscaler.js';
export { StatsWindow, type StatsWindowOptions } from './stats-window.js';
export { RequestRates, type RequestRate, type RequestRatesOptions } from './request-rate.js';
export {
  InvalidStatsFrameError,
  MAX_SAMPLES_PER_FRAME,
  parseStatsFrame,
  STATS_METHOD,
  type StatsFrame,
  type StatsSample,
} from './stats-wire.js';
export {
  ActivityBook,
  idleDecision,
  MESH_REPORT_STALE_MS,
  SingleFlight,
  type IdleDecision,
  type IdleInput,
  type ServiceActivity,
} from './scale-to-zero.js';
export {
  ACTIVITY_METHOD,
  parseActivityFrame,
  parseWakeRequest,
  WAKE_METHOD,
  type ActivityFrame,
  type WakeReceipt,
  type WakeRequest,
} from './activity-wire.js';
