/**
 * When the passing of time alone changes what a pass decides: a job's begin time or retry
 * back-off ending, a replicated slot's or global service's restart back-off ending, an ended job
 * reaching the age past which the history limits may collect it, a rollout's monitor window,
 * delay or progress deadline ending, the new task of a rebalancing move passing `monitor`. A scoped pass reacts to
 * commands only, so the leader schedules a pass at {@link nextWakeAt} instead of waiting up to
 * one full-pass period (5 s) for the safety net to notice.
 * @module
 */
import { tableOf } from '../state/indexed-state.js';
import { isJobEnded } from '../state/jobs.js';
import type { TaskTable } from '../state/task-table.js';
import type { ServiceRecord, TaskRecord } from '../state/workloads.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { DEFAULT_JOB_HISTORY, DEFAULT_MIN_JOB_AGE_MS, DEFAULT_TASK_BUDGET, type JobHistoryLimits } from './job-gc.js';
import { reconcileJobs } from './jobs.js';
import { newestFirst } from './backoff.js';
import { isLive, moveDoneAt, planSlot } from './slots.js';
import { isRolloutActive } from '../state/rollout.js';
import { reconcileGlobal } from './global.js';
import { reconcileReplicated } from './replicated.js';
import type { WorkloadState } from './workload-types.js';

/** The options of the pass whose wake-up this is (they set the delays). */
export interface WakeOptions {
  readonly backoff?: BackoffOptions;
  readonly jobHistory?: JobHistoryLimits;
}

/**
 * The earliest time after `now` at which a pass could decide something new with no command in
 * between, or null when nothing waits on the clock. Waking early is harmless (the pass finds
 * nothing to do); the function errs that way rather than late. Cost: the tasks of unfinished
 * jobs, of replicated services short of live tasks, and of global services; not all tasks.
 * @example
 * const wake = nextWakeAt(machine.view(), now);
 * if (wake !== null) setTimeout(runFullPass, wake - now);
 */
export function nextWakeAt(state: WorkloadState, now: number, options: WakeOptions = {}): number | null {
  const tasks = tableOf(state.tasks);
  const view = { ...state, tasks };
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  let wake: number | null = null;
  const consider = (at: number | null): void => {
    if (at !== null && at > now && (wake === null || at < wake)) wake = at;
  };
  // The job controller knows its own: begin times and retry back-offs (nothing is created here).
  consider(reconcileJobs({ state: view, now, newId: () => '', maxCreates: 0 }).nextWakeAt);
  for (const id of Object.keys(state.services).sort()) {
    const service = state.services[id]!;
    if (service.spec.kind === 'replicated') {
      const live = tasks.liveCount(id);
      if (live > service.replicas) for (const at of moveWakes(service, tasks)) consider(at);
      // A slot can wait on its back-off only while it has no live task.
      if (live >= service.replicas) continue;
      for (let slot = 1; slot <= service.replicas; slot++)
        consider(slotWake(service, [...tasks.ofSlot(id, slot)], state, now, backoff));
    } else if (service.spec.kind === 'global') {
      for (const group of byNode(tasks, id)) consider(slotWake(service, group, state, now, backoff));
    }
  }
  consider(jobAgeing(state, tasks, now, options.jobHistory ?? {}));
  for (const at of rolloutWakes(view, now, backoff)) consider(at);
  return wake;
}

/**
 * When rollouts under way decide something new with time alone: a monitor window or a delay
 * ending, a progress deadline passing. The orchestrators know (rollout/plan.ts): they plan just
 * those services here and their plans are dropped.
 */
function rolloutWakes(state: WorkloadState, now: number, backoff: BackoffOptions): number[] {
  const rolling = new Set<string>();
  for (const s of Object.values(state.services))
    if (s.rollout !== undefined && isRolloutActive(s.rollout.state)) rolling.add(s.id);
  if (rolling.size === 0) return [];
  const input = { state, now, newId: () => '', backoff, services: rolling };
  return [...reconcileReplicated(input).wakes, ...reconcileGlobal(input).wakes];
}

/**
 * When the new tasks of rebalancing moves (two live tasks in a slot, rebalance.ts) have run for
 * `monitor` and take over from the old ones (slots.ts `moveDone`).
 */
function moveWakes(service: ServiceRecord, tasks: TaskTable): number[] {
  const newest = new Map<number, TaskRecord[]>();
  for (const t of tasks.ofService(service.id)) if (isLive(t)) newest.set(t.slot, [...(newest.get(t.slot) ?? []), t]);
  const out: number[] = [];
  for (const pair of newest.values()) {
    const task = pair.length === 2 ? [...pair].sort(newestFirst)[0]! : undefined;
    if (task?.state === 'running') out.push(moveDoneAt(task, service));
  }
  return out;
}

/** When a slot (or a global service's node) waiting on its back-off may get its replacement. */
function slotWake(
  service: ServiceRecord,
  slotTasks: readonly TaskRecord[],
  state: WorkloadState,
  now: number,
  backoff: BackoffOptions,
): number | null {
  if (slotTasks.length === 0 || slotTasks.some(isLive)) return null;
  const decision = planSlot({
    tasks: slotTasks,
    service,
    nodes: state.nodes,
    now,
    backoff,
    keepOn: () => true,
    mayCreate: true,
  });
  return decision.status === 'waiting' ? decision.readyAt : null;
}

function byNode(tasks: TaskTable, serviceId: string): TaskRecord[][] {
  const groups = new Map<string, TaskRecord[]>();
  for (const task of tasks.ofService(serviceId)) {
    if (task.nodeId === null) continue;
    const group = groups.get(task.nodeId);
    if (group === undefined) groups.set(task.nodeId, [task]);
    else group.push(task);
  }
  return [...groups.values()];
}

/**
 * When the next ended job passes the minimum age, if the history is over its limits (only then
 * can age be what keeps a job). Early rather than exact: the collector decides which goes.
 */
function jobAgeing(state: WorkloadState, tasks: TaskTable, now: number, limits: JobHistoryLimits): number | null {
  const ended = Object.values(state.jobs ?? {}).filter((j) => isJobEnded(j.state));
  const endedTasks = ended.reduce((n, j) => n + tasks.ofJob(j.id).size, 0);
  // A cron service's run history is trimmed by count, whatever the age: not a matter of time.
  const over =
    ended.length > (limits.jobs ?? DEFAULT_JOB_HISTORY) || endedTasks > (limits.tasks ?? DEFAULT_TASK_BUDGET);
  if (!over) return null;
  const minAgeMs = limits.minAgeMs ?? DEFAULT_MIN_JOB_AGE_MS;
  let wake: number | null = null;
  for (const job of ended) {
    const at = (job.endedAt ?? 0) + minAgeMs;
    if (at > now && (wake === null || at < wake)) wake = at;
  }
  return wake;
}
