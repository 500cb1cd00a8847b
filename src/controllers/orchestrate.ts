/**
 * One pass of the leader's workload controllers: `reconcileWorkloads(input) → commands`.
 *
 * Order of a pass, and why:
 * 1. node health. If any node changes status, the pass returns only those commands: a node going
 *    down orphans its tasks when the command applies, and the orchestrators must see that before
 *    they plan (the next pass does, one reconcile period later).
 * 2. the replicated and global orchestrators decide which tasks to stop and which to create
 *    (rollouts, and rebalancing moves onto nodes that joined or came back: rebalance.ts);
 * 3. placement schedules every pending task plus the ones created in this pass (the `task.create`
 *    is proposed before the `task.assign`, so the tasks exist when their assignment applies);
 * 4. garbage collection of ended tasks;
 * 5. rollout transitions and automatic rollbacks the orchestrators decided (rollout/plan.ts).
 *
 * The result is at most one command of each type, in the order
 * `task.desire`, `task.create`, `task.assign`, `task.pending`, `task.remove`, each bounded
 * (default 1,000 items) so a huge difference (a 10,000-replica deploy) is worked off over several
 * passes instead of in one enormous log entry. Nothing is remembered between passes: a new leader
 * runs the same function on the same replicated state, so controllers "restart" by simply being
 * called; only the heartbeat map is the leader's own (see node-health.ts).
 *
 * A pass given a change set (`ClusterStateMachine.takeChanges()`) is *scoped*: it plans only the
 * services, jobs and nodes the commands since the last pass touched, places only when something
 * the scheduler reads changed or the pass creates tasks, and collects only where tasks ended
 * (scope.ts). For those objects it proposes what a full pass would; what only the passing of
 * time changes waits for the next full pass, which the leader runs every few seconds as the
 * safety net. Without a change set (or with `full: true`) the pass is full, as before.
 * @module
 */
import type { ChangeSet } from '../state/changes.js';
import { tableOf } from '../state/indexed-state.js';
import type { BackoffOptions } from './backoff.js';
import { collectTasks } from './gc.js';
import { cronCommands } from './cron-pass.js';
import { collectJobs, type JobHistoryLimits } from './job-gc.js';
import { reconcileJobs } from './jobs.js';
import { reconcileGlobal } from './global.js';
import { DEFAULT_NODE_GRACE_MS, reconcileNodeHealth } from './node-health.js';
import { reconcilePlacement } from './placement.js';
import { DEFAULT_REBALANCE_MOVES } from './rebalance.js';
import { reconcileReplicated } from './replicated.js';
import { scopeOf } from './scope.js';
import type { IdGenerator, WorkloadCommandInput, WorkloadState } from './workload-types.js';

/** Per-pass bounds on the number of items of each command. */
export interface PassLimits {
  readonly shutdowns: number;
  readonly creates: number;
  /** Tasks handed to the scheduler (placed or explained). */
  readonly placements: number;
  readonly removals: number;
  /** Rebalancing moves started (rebalance.ts). */
  readonly moves: number;
}

export const DEFAULT_PASS_LIMITS: PassLimits = Object.freeze({
  shutdowns: 1000,
  creates: 1000,
  placements: 1000,
  removals: 1000,
  moves: DEFAULT_REBALANCE_MOVES,
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
  /**
   * What changed since the previous pass: the pass then reconciles only that (see the module
   * comment). Absent, or `full: true`: a full pass. A pass that returns node status changes
   * returns nothing else, so it has acted on none of `changes`: make the next pass full
   * (`ClusterStateMachine.resetChanges()`).
   */
  readonly changes?: ChangeSet;
}

const NO_PLACEMENT = Object.freeze({ assignments: [], pending: [], preemptions: [], preemptedBy: [] });

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

  // Indexed once for the whole pass (a plain record from a test is indexed here).
  const state = { ...input.state, tasks: tableOf(input.state.tasks) };
  const scope = input.changes === undefined || input.changes.full ? undefined : scopeOf(input.changes, state);
  const common = { state, now: input.now, newId: input.newId, ...opt('backoff', input.backoff) };
  const services = opt('services', scope?.services);
  const replicated = reconcileReplicated({
    ...common,
    ...services,
    ...opt('slots', scope?.slots),
    ...opt('managers', input.managers),
    maxMoves: limits.moves,
  });
  const global = reconcileGlobal({ ...common, ...opt('managers', input.managers), ...services });

  const jobs = reconcileJobs({ ...common, maxCreates: limits.creates, ...opt('jobs', scope?.jobs) });

  const shutdown = [...new Set([...replicated.shutdown, ...global.shutdown])].slice(0, limits.shutdowns);
  const create = [...replicated.create, ...global.create, ...jobs.create].slice(0, limits.creates);
  const placement =
    scope === undefined || scope.placement || create.length > 0
      ? reconcilePlacement({
          state,
          newTasks: create,
          exclude: new Set(shutdown),
          maxTasks: limits.placements,
          now: input.now,
          ...opt('managers', input.managers),
          ...opt('seed', input.seed),
        })
      : NO_PLACEMENT;
  const removals =
    scope === undefined || scope.collect.size > 0
      ? collectTasks({ state, ...opt('history', input.history), ...opt('services', scope?.collect) }).slice(
          0,
          limits.removals,
        )
      : [];
  const forgotten =
    scope === undefined || scope.collectJobs ? collectJobs(state, input.now, input.jobHistory, limits.removals) : [];

  const out: WorkloadCommandInput[] = cronCommands(state, input.now);
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
  out.push(...replicated.rollouts, ...global.rollouts);
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
