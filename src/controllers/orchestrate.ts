/**
 * One pass of the leader's workload controllers: `reconcileWorkloads(input) → commands`.
 *
 * Order of a pass, and why:
 * 1. node health. If any node changes status, the pass returns only those commands: a node going
 *    down orphans its tasks when the command applies, and the orchestrators must see that before
 *    they plan (the next pass does, one reconcile period later).
 * 2. the replicated and global orchestrators decide which tasks to stop and which to create;
 * 3. placement schedules every pending task plus the ones created in this pass (the `task.create`
 *    is proposed before the `task.assign`, so the tasks exist when their assignment applies);
 * 4. garbage collection of ended tasks.
 *
 * The result is at most one command of each type, in the order
 * `task.desire`, `task.create`, `task.assign`, `task.pending`, `task.remove`, each bounded
 * (default 1,000 items) so a huge difference (a 10,000-replica deploy) is worked off over several
 * passes instead of in one enormous log entry. Nothing is remembered between passes: a new leader
 * runs the same function on the same replicated state, so controllers "restart" by simply being
 * called; only the heartbeat map is the leader's own (see node-health.ts).
 * @module
 */
import type { BackoffOptions } from './backoff.js';
import { collectTasks } from './gc.js';
import { cronCommands } from './cron-pass.js';
import { collectJobs, type JobHistoryLimits } from './job-gc.js';
import { reconcileJobs } from './jobs.js';
import { reconcileGlobal } from './global.js';
import { DEFAULT_NODE_GRACE_MS, reconcileNodeHealth } from './node-health.js';
import { reconcilePlacement } from './placement.js';
import { reconcileReplicated } from './replicated.js';
import type { IdGenerator, WorkloadCommandInput, WorkloadState } from './workload-types.js';

/** Per-pass bounds on the number of items of each command. */
export interface PassLimits {
  readonly shutdowns: number;
  readonly creates: number;
  /** Tasks handed to the scheduler (placed or explained). */
  readonly placements: number;
  readonly removals: number;
}

export const DEFAULT_PASS_LIMITS: PassLimits = Object.freeze({
  shutdowns: 1000,
  creates: 1000,
  placements: 1000,
  removals: 1000,
});

export interface HealthObservation {
  readonly lastHeartbeat: ReadonlyMap<string, number>;
  /** When this leader took office. */
  readonly leaderSince: number;
  /** Default {@link DEFAULT_NODE_GRACE_MS}. */
  readonly graceMs?: number;
  readonly selfId?: string;
}

export interface WorkloadReconcileInput {
  readonly state: WorkloadState;
  /** The leader's clock, ms. */
  readonly now: number;
  readonly newId: IdGenerator;
  /** Heartbeats; without them node health is not checked in this pass. */
  readonly health?: HealthObservation;
  /** Node ids that count as managers in constraints (`node.role==manager`). */
  readonly managers?: ReadonlySet<string>;
  readonly limits?: Partial<PassLimits>;
  readonly backoff?: BackoffOptions;
  /** Ended tasks kept per slot. */
  readonly history?: number;
  /** Ended jobs kept, and their units in all. */
  readonly jobHistory?: JobHistoryLimits;
  /** Scheduler tie-break seed. */
  readonly seed?: number;
}

/**
 * Everything the workload controllers want done, as command inputs for the leader to propose in order.
 * @example
 * for (const command of reconcileWorkloads({ state, now: Date.now(), newId: randomTaskId, health })) {
 *   await writes.submit(command);
 * }
 */
export function reconcileWorkloads(input: WorkloadReconcileInput): WorkloadCommandInput[] {
  const limits = { ...DEFAULT_PASS_LIMITS, ...input.limits };
  if (input.health !== undefined) {
    const status = reconcileNodeHealth({
      state: input.state,
      lastHeartbeat: input.health.lastHeartbeat,
      now: input.now,
      graceMs: input.health.graceMs ?? DEFAULT_NODE_GRACE_MS,
      leaderSince: input.health.leaderSince,
      ...(input.health.selfId === undefined ? {} : { selfId: input.health.selfId }),
    });
    if (status.length > 0) return status;
  }

  const common = { state: input.state, now: input.now, newId: input.newId, ...opt('backoff', input.backoff) };
  const replicated = reconcileReplicated(common);
  const global = reconcileGlobal({ ...common, ...opt('managers', input.managers) });

  const jobs = reconcileJobs({ ...common, maxCreates: limits.creates });

  const shutdown = [...new Set([...replicated.shutdown, ...global.shutdown])].slice(0, limits.shutdowns);
  const create = [...replicated.create, ...global.create, ...jobs.create].slice(0, limits.creates);
  const placement = reconcilePlacement({
    state: input.state,
    newTasks: create,
    exclude: new Set(shutdown),
    maxTasks: limits.placements,
    now: input.now,
    ...opt('managers', input.managers),
    ...opt('seed', input.seed),
  });
  const removals = collectTasks({ state: input.state, ...opt('history', input.history) }).slice(0, limits.removals);
  const forgotten = collectJobs(input.state, input.now, input.jobHistory, limits.removals);

  const out: WorkloadCommandInput[] = cronCommands(input.state, input.now);
  for (const [reason, jobIds] of groupByReason(jobs.cancel)) out.push({ type: 'job.cancel', jobIds, reason });
  if (shutdown.length > 0) out.push({ type: 'task.desire', taskIds: shutdown, desiredState: 'shutdown' });
  if (create.length > 0) out.push({ type: 'task.create', tasks: create });
  if (placement.assignments.length > 0) out.push({ type: 'task.assign', assignments: placement.assignments });
  if (placement.pending.length > 0) out.push({ type: 'task.pending', updates: placement.pending });
  if (placement.preemptions.length > 0)
    out.push({ type: 'task.preempt', taskIds: placement.preemptions, by: placement.preemptedBy });
  if (removals.length > 0) out.push({ type: 'task.remove', taskIds: removals });
  if (jobs.updates.length > 0) out.push({ type: 'job.update', updates: jobs.updates });
  if (forgotten.length > 0) out.push({ type: 'job.remove', jobIds: forgotten });
  return out;
}

function groupByReason(cancels: readonly { jobId: string; reason: string }[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { jobId, reason } of cancels) out.set(reason, [...(out.get(reason) ?? []), jobId]);
  return out;
}

/** `{ key: value }` when the value is set, `{}` otherwise (exactOptionalPropertyTypes-friendly). */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
