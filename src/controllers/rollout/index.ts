/**
 * The rollout controller (issue 15): health-gated rolling updates with failure actions, a progress
 * deadline, automatic rollback and canaries, as pure functions the orchestrators call per service.
 */
export { planRollout, type RolloutCommandInput, type RolloutInput, type RolloutPlan } from './plan.js';
export { canarySlots } from './canary.js';
export { hasHealthcheck, measureRollout, monitorEndOf, type ProgressInput, type RolloutProgress } from './progress.js';
