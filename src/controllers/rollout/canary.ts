/**
 * The canary phase of a rollout (Nomad's `canary`): `x-shoal.update.canary: N` runs N tasks of
 * the new version *beside* the old ones, each in one of the slots 1..N next to that slot's old
 * task, so the service runs `replicas` old tasks plus N canaries. The rollout waits for `shoal
 * service promote` (or, with `auto_promote`, for the canaries to be settled); once promoted, each
 * canary takes over its slot (its old task stops, slots.ts) and the other slots are replaced with
 * `update_config`.
 *
 * The phase lasts while the rollout of the current version is not promoted and is `updating`,
 * `awaiting_promotion` or `paused` (a paused canary rollout keeps its canaries for inspection);
 * a rollback or a new version ends it, and the canaries then stop as outdated extra tasks.
 * Replicated services only: the stack parser refuses canaries on global services (Nomad has
 * none for system jobs), and a stored global spec with one is treated as having none. A new
 * service has nothing to compare its canaries with: no canary phase.
 * @module
 */
import { rolloutSettings, type RolloutState } from '../../state/rollout.js';
import type { ServiceRecord } from '../../state/workloads.js';

const PHASE_STATES: ReadonlySet<RolloutState> = new Set(['updating', 'awaiting_promotion', 'paused']);

/**
 * How many slots (1..n) hold a canary beside their old task now: 0 outside a canary phase, and
 * never more than `replicas` (a scale-down during the phase takes the canaries of the slots it removes).
 * @example
 * const canary = slot <= canarySlots(service); // this slot keeps its old task beside the canary
 */
export function canarySlots(service: ServiceRecord): number {
  const r = service.rollout;
  if (service.spec.kind !== 'replicated' || r === undefined) return 0;
  if (r.promoted || r.fromVersion === 0 || r.toVersion !== service.version || !PHASE_STATES.has(r.state)) return 0;
  return Math.min(rolloutSettings(service.spec).canary, service.replicas);
}
