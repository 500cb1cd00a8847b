/**
 * How far a service's rollout has come, from its slots and tasks at one instant: which slots run
 * the current version and are updated, which are still under way, which are outdated, and how
 * many tasks of the new version failed. Nothing is remembered between passes: the same state and
 * `now` give the same answer.
 *
 * A task of the current version counts as *updated* once it runs and is healthy: with a health
 * check, `running` already means healthy (the runtime reports `starting` until the check passes);
 * without one, once it has been running for `monitor`. It counts as *settled* once `monitor` has
 * passed since it became healthy (`runningAt`: first reported running; the window in which a
 * failure still counts against the rollout), so a slow health check does not eat the window. A
 * task of the new version that ends on its own (failed, rejected, or exited) before it ran or
 * within `monitor` of it, or that the runtime had to restart in place, counts as *failed*.
 * @module
 */
import type { RolloutStatus } from '../../state/rollout.js';
import type { ServiceRecord, TaskRecord } from '../../state/workloads.js';
import { isTerminal } from '../../state/workloads.js';
import type { UpdateSlot } from '../slots.js';

export interface RolloutProgress {
  /** Slots that want a task (idle ones are not counted). */
  readonly total: number;
  /** Slots whose task runs the current version and passed the health gate. */
  readonly updated: number;
  /** Of those, the ones past their `monitor` window. */
  readonly settled: number;
  /** Slots with something under way (a task starting, stopping, waiting out a back-off, or monitored). */
  readonly inFlight: number;
  /** Slots still running an older version. */
  readonly outdated: number;
  /** Tasks of the new version that failed during the rollout. */
  readonly failed: number;
  /** The last failed task's message, for the reason. */
  readonly failure: string;
  /** When the last slot passed the health gate (the delay between batches runs from here). */
  readonly lastUpdatedAt: number | null;
  /** The next time a monitor window ends (null: none running). */
  readonly wakeAt: number | null;
}

export interface ProgressInput<K> {
  readonly service: ServiceRecord;
  readonly rollout: RolloutStatus;
  readonly slots: readonly UpdateSlot<K>[];
  /** Every task of the service. */
  readonly tasks: Iterable<TaskRecord>;
  readonly current: (task: TaskRecord) => boolean;
  readonly monitorMs: number;
  readonly now: number;
}

const ENDED_ON_ITS_OWN = new Set(['failed', 'rejected', 'complete']);

/** Whether the service's spec has a health check of its own (so `running` means healthy). */
export function hasHealthcheck(service: ServiceRecord): boolean {
  const h = service.spec.healthcheck;
  return h !== null && !h.disabled;
}

/**
 * When a running task of the new version is past its `monitor` window, counted from when it
 * became healthy: it is then *settled*.
 */
export function monitorEndOf(task: TaskRecord, monitorMs: number): number {
  return healthyAt(task) + monitorMs;
}

/** When the task was first reported running (healthy, with a health check); its start on older records. */
function healthyAt(task: TaskRecord): number {
  return task.runningAt ?? task.startedAt ?? task.updatedAt;
}

/**
 * Measure a rollout.
 * @example
 * const p = measureRollout({ service, rollout, slots, tasks, current, monitorMs: 5000, now });
 * if (p.outdated === 0 && p.inFlight === 0) // every slot runs the new version, settled
 */
export function measureRollout<K>(input: ProgressInput<K>): RolloutProgress {
  const { now, monitorMs } = input;
  const healthGate = hasHealthcheck(input.service);
  let total = 0;
  let updated = 0;
  let settled = 0;
  let inFlight = 0;
  let outdated = 0;
  let lastUpdatedAt: number | null = null;
  let wakeAt: number | null = null;
  const wake = (at: number): void => {
    if (at > now && (wakeAt === null || at < wakeAt)) wakeAt = at;
  };
  for (const { decision } of input.slots) {
    if (decision.status === 'idle') continue;
    total++;
    if (decision.status === 'outdated') outdated++;
    else if (decision.status !== 'settled') inFlight++;
    else {
      const task = decision.running!;
      const monitorEnd = monitorEndOf(task, monitorMs);
      const gateAt = healthGate ? healthyAt(task) : monitorEnd;
      if (now >= gateAt) {
        updated++;
        if (lastUpdatedAt === null || gateAt > lastUpdatedAt) lastUpdatedAt = gateAt;
      } else inFlight++;
      if (now >= monitorEnd) settled++;
      else wake(monitorEnd);
      if (now < gateAt) wake(gateAt);
    }
  }
  let failed = 0;
  let failure = '';
  let failedAt = -1;
  for (const task of input.tasks) {
    if (!input.current(task) || task.createdAt < input.rollout.startedAt || task.desiredState !== 'running') continue;
    const ended = isTerminal(task.state);
    // Never reported running: it never came up, or never passed its health check.
    const failedEarly =
      ended &&
      ENDED_ON_ITS_OWN.has(task.state) &&
      (task.runningAt === undefined || (task.endedAt ?? task.updatedAt) - task.runningAt <= monitorMs);
    if (!failedEarly && !(!ended && task.restarts > 0)) continue;
    failed++;
    if (task.updatedAt >= failedAt) {
      failedAt = task.updatedAt;
      failure = `task ${task.id} (slot ${task.slot}): ${task.state}${task.message ? `, ${task.message}` : ''}`;
    }
  }
  return { total, updated, settled, inFlight, outdated, failed, failure, lastUpdatedAt, wakeAt };
}
