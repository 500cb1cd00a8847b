/**
 * The rollout controller: which outdated slots of a service to replace now, and how its rollout
 * moves on (a `service.rollout` transition, or a `service.rollback`). Swarm's updater semantics
 * and defaults (parallelism 1, delay 0, failure_action pause, monitor 5 s, max_failure_ratio 0,
 * stop-first), plus what Swarm lacks:
 *
 * - a slot is replaced only once the ones under way are updated (health gate, see progress.ts),
 *   at most `parallelism` at a time, `delay` after the last one was updated;
 * - a failure ratio above `max_failure_ratio`, or no slot updated for the progress deadline
 *   (default 600 s, `x-shoal.update.progress_deadline`), triggers `failure_action`: pause,
 *   continue, or rollback to the last version whose rollout completed;
 * - a rollback uses `rollback_config`, and is never rolled back: a failed rollback pauses;
 * - canaries (`x-shoal.update.canary: N`, canary.ts): N new tasks start beside the old ones of
 *   slots 1..N, all at once, and the rollout waits, `awaiting_promotion`, for `shoal service
 *   promote` (or, with `auto_promote`, for the canaries to be settled); then each canary takes
 *   over its slot and the other slots are replaced as usual;
 * - the rollout completes once every slot runs the new version past `monitor`; the version is
 *   then stable, a target for later automatic rollbacks.
 *
 * Pure: the service record (its rollout status and history), its tasks and `now` decide.
 * @module
 */
import {
  isRolloutActive,
  lastStableVersion,
  rolloutSettings,
  type RolloutState,
  type RolloutStatus,
} from '../../state/rollout.js';
import type { ServiceRollbackCommand, ServiceRolloutCommand } from '../../state/rollout-commands.js';
import type { ServiceRecord, TaskRecord } from '../../state/workloads.js';
import type { UpdateSlot } from '../slots.js';
import { measureRollout, monitorEndOf, type RolloutProgress } from './progress.js';

/** The commands the rollout controller proposes, without `v` and `at`. */
export type RolloutCommandInput =
  Omit<ServiceRolloutCommand, 'v' | 'at' | 'rid'> | Omit<ServiceRollbackCommand, 'v' | 'at' | 'rid'>;

export interface RolloutInput<K> {
  readonly service: ServiceRecord;
  /** The slots of the service, decided by planSlot (with `current`). */
  readonly slots: readonly UpdateSlot<K>[];
  /** Every task of the service. */
  readonly tasks: Iterable<TaskRecord>;
  readonly current: (task: TaskRecord) => boolean;
  readonly now: number;
}

export interface RolloutPlan<K> {
  readonly shutdown: TaskRecord[];
  readonly create: K[];
  /** A transition to record, or a rollback to make. */
  readonly command: RolloutCommandInput | null;
  /** When time alone changes the decision (a monitor window, the delay, the deadline). */
  readonly wakeAt: number | null;
}

const NOTHING = Object.freeze({ shutdown: [], create: [], command: null, wakeAt: null });

/**
 * Plan one service's rollout.
 * @example
 * const { shutdown, create, command } = planRollout({ service, slots, tasks, current, now });
 */
export function planRollout<K>(input: RolloutInput<K>): RolloutPlan<K> {
  const { service, now } = input;
  const outdated = input.slots.some((s) => s.decision.status === 'outdated');
  // A service from before rollouts with nothing to replace has nothing to record either.
  if (service.rollout === undefined && !outdated) return NOTHING;
  const rollout = service.rollout ?? legacyRollout(service);
  if (!isRolloutActive(rollout.state)) return NOTHING;

  const rollingBack = rollout.state === 'rolling_back';
  const config = rollingBack ? service.spec.deploy.rollbackConfig : service.spec.deploy.updateConfig;
  const settings = rolloutSettings(service.spec);
  const progress = measureRollout({ ...input, rollout, monitorMs: config.monitorMs });
  const deadlineAt = rollout.progressAt + settings.progressDeadlineMs;
  const record = (state: RolloutState, reason: string, promoted?: boolean): RolloutCommandInput =>
    transition(service, rollout, progress, state, reason, promoted);

  // Failures first: they stop the rollout whatever else is under way.
  const ratio = progress.failed / Math.max(1, progress.total);
  const failing = progress.failed > 0 && ratio > config.maxFailureRatio;
  // Waiting for a person to promote is not hanging.
  const waiting = rollout.state === 'awaiting_promotion';
  const hung = !waiting && now >= deadlineAt && progress.settled < progress.total;
  if ((failing && config.failureAction !== 'continue') || hung) {
    const reason = hung
      ? `no task updated for ${Math.round(settings.progressDeadlineMs / 1000)} s (progress deadline)`
      : `${progress.failed} of ${progress.total} new tasks failed, above max_failure_ratio ${config.maxFailureRatio} (${progress.failure})`;
    return { ...NOTHING, command: onFailure(service, rollout, rollingBack, config.failureAction, reason, record) };
  }

  const wakes = [progress.wakeAt, waiting ? null : deadlineAt];
  // The orchestrator marks the canary slots while the phase lasts (canary.ts).
  const canarySlots = input.slots.filter((s) => s.canary === true);
  if (canarySlots.length > 0)
    return planCanaries(canarySlots, {
      ...{ service, rollout, progress, now, wakes, record },
      monitorMs: config.monitorMs,
      autoPromote: settings.autoPromote,
    });

  if (progress.outdated === 0 && progress.inFlight === 0 && progress.settled === progress.total)
    return finish(rollout, rollingBack, record);

  // Replace outdated slots: within parallelism, after the delay.
  const { parallelism, order, delayMs } = config;
  let budget = parallelism === 0 ? Infinity : parallelism - progress.inFlight;
  const delayEnd = progress.lastUpdatedAt === null || delayMs === 0 ? now : progress.lastUpdatedAt + delayMs;
  if (delayEnd > now) {
    wakes.push(delayEnd);
    budget = 0;
  }
  const shutdown: TaskRecord[] = [];
  const create: K[] = [];
  for (const { key, decision } of input.slots) {
    if (budget <= 0) break;
    if (decision.status !== 'outdated') continue;
    budget--;
    // A new version that just failed in this slot: wait out its back-off (it still counts).
    if (now < decision.readyAt) continue;
    if (order === 'start-first') create.push(key);
    else shutdown.push(decision.running!);
  }
  const state = rollout.state === 'awaiting_promotion' ? 'updating' : rollout.state;
  // Without the failed task's message, which changes with every restart: one transition per failure.
  const reason = failing
    ? `continuing despite ${progress.failed} failed new tasks (failure_action continue)`
    : rollout.reason;
  const command = changed(rollout, progress, state, reason) ? record(state, reason) : null;
  return { shutdown, create, command, wakeAt: earliest(wakes, now) };
}

/** The rollout a service from before rollouts is taken to be in when it has outdated tasks. */
function legacyRollout(service: ServiceRecord): RolloutStatus {
  const at = service.updatedAt;
  return {
    state: 'updating',
    reason: '',
    fromVersion: Math.max(0, service.version - 1),
    toVersion: service.version,
    startedAt: at,
    updatedAt: at,
    progressAt: at,
    updated: 0,
    failed: 0,
    total: 0,
    promoted: false,
  };
}

function onFailure(
  service: ServiceRecord,
  rollout: RolloutStatus,
  rollingBack: boolean,
  action: 'pause' | 'continue' | 'rollback',
  reason: string,
  record: (state: RolloutState, reason: string) => RolloutCommandInput,
): RolloutCommandInput | null {
  // Never roll back a rollback (Swarm's rule): a rollback that fails stops where it is.
  if (rollingBack) return rollout.state === 'rollback_paused' ? null : record('rollback_paused', reason);
  if (action === 'rollback') {
    const target = lastStableVersion(service);
    if (target !== undefined)
      return {
        type: 'service.rollback',
        serviceId: service.id,
        to: target.version,
        ifVersion: service.version,
        reason: `automatic rollback to version ${target.version}: ${reason}`,
      };
    return record('paused', `${reason}; no earlier version was healthy, nothing to roll back to`);
  }
  return record('paused', reason);
}

function finish(
  rollout: RolloutStatus,
  rollingBack: boolean,
  record: (state: RolloutState, reason: string) => RolloutCommandInput,
): RolloutPlan<never> {
  const state = rollingBack ? 'rolled_back' : 'completed';
  return { ...NOTHING, command: record(state, rollingBack ? rollout.reason : '') };
}

interface CanaryContext {
  readonly service: ServiceRecord;
  readonly rollout: RolloutStatus;
  readonly progress: RolloutProgress;
  readonly monitorMs: number;
  readonly autoPromote: boolean;
  readonly now: number;
  readonly wakes: (number | null)[];
  readonly record: (state: RolloutState, reason: string, promoted?: boolean) => RolloutCommandInput;
}

/**
 * The canary phase: a canary beside the old task of every canary slot, all at once as Nomad
 * places them (they cost no capacity; a canary that failed waits out its slot's back-off), then
 * promotion once every canary is settled: automatic with `auto_promote`, else by a person
 * (`awaiting_promotion`). The other slots are left alone until then.
 */
function planCanaries<K>(slots: readonly UpdateSlot<K>[], c: CanaryContext): RolloutPlan<K> {
  const { service, rollout, progress, now } = c;
  const create: K[] = [];
  const wakes = [...c.wakes];
  let up = 0;
  for (const { key, decision } of slots) {
    if (decision.status === 'outdated') {
      if (now >= decision.readyAt) create.push(key);
      else wakes.push(decision.readyAt);
    } else if (decision.status === 'settled' && now >= monitorEndOf(decision.running!, c.monitorMs)) up++;
  }
  if (up === slots.length) {
    if (c.autoPromote)
      return { ...NOTHING, command: c.record('updating', `${up} canaries healthy: promoted automatically`, true) };
    const reason = `${up} canaries healthy: promote with \`shoal service promote ${service.id}\``;
    const waits = changed(rollout, progress, 'awaiting_promotion', reason);
    return { ...NOTHING, command: waits ? c.record('awaiting_promotion', reason) : null };
  }
  const command = changed(rollout, progress, rollout.state, rollout.reason)
    ? c.record(rollout.state, rollout.reason)
    : null;
  return { shutdown: [], create, command, wakeAt: earliest(wakes, now) };
}

/**
 * Whether a transition is worth a log entry: the state, the reason or the counts of updated and
 * failed tasks moved (a changed total alone waits for the next of those).
 */
function changed(rollout: RolloutStatus, progress: RolloutProgress, state: RolloutState, reason: string): boolean {
  return (
    rollout.state !== state ||
    rollout.reason !== reason ||
    rollout.updated !== progress.updated ||
    rollout.failed !== progress.failed
  );
}

function transition(
  service: ServiceRecord,
  rollout: RolloutStatus,
  progress: RolloutProgress,
  state: RolloutState,
  reason: string,
  promoted?: boolean,
): RolloutCommandInput {
  return {
    type: 'service.rollout',
    serviceId: service.id,
    version: service.version,
    state,
    reason,
    updated: progress.updated,
    failed: progress.failed,
    total: progress.total,
    progress: progress.updated > rollout.updated,
    ...(promoted === undefined ? {} : { promoted }),
  };
}

function earliest(times: readonly (number | null)[], now: number): number | null {
  let out: number | null = null;
  for (const t of times) if (t !== null && t > now && (out === null || t < out)) out = t;
  return out;
}
