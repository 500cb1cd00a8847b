/**
 * The decision for one task slot, shared by the replicated orchestrator (a slot is a replica
 * number) and the global one (a slot is a node): which tasks to stop, whether to create one, and
 * in what shape the slot is for the rolling update.
 *
 * Vocabulary: a task is *live* when it is wanted running and has not ended; it is *stopping*
 * when it was told to shut down but its node has not reported it ended yet.
 * @module
 */
import type { ServiceRecord, TaskRecord } from '../state/workloads.js';
import { isTerminal, taskStateRank } from '../state/workloads.js';
import { type BackoffOptions, endedOnItsOwn, newestFirst, slotReadyAt, wantsReplacement } from './backoff.js';
import { hasHealthcheck, monitorEndOf } from './rollout/progress.js';
import type { WorkloadNode } from './workload-types.js';

/**
 * How a slot stands once its decision is carried out:
 * - `settled`: one live task, running, of the service's current version (or, in a canary slot,
 *   a running canary beside the slot's running old task);
 * - `outdated`: one live task, running, of an older version (a rolling update candidate);
 * - `busy`: something is under way (a task starting, stopping, being created, two during a start-first update);
 * - `waiting`: its last task ended on its own and the back-off has not passed;
 * - `idle`: nothing runs and nothing is wanted (restart policy `none`, or a node that takes no new task).
 */
export type SlotStatus = 'settled' | 'outdated' | 'busy' | 'waiting' | 'idle';

export interface SlotInput {
  /** Every task of this slot, in any state. */
  readonly tasks: readonly TaskRecord[];
  readonly service: ServiceRecord;
  readonly nodes: Readonly<Record<string, WorkloadNode>>;
  readonly now: number;
  readonly backoff: BackoffOptions;
  /** Whether a task of this slot may stay on this node (false moves it: drain, down, gone, not eligible). */
  readonly keepOn: (node: WorkloadNode | undefined) => boolean;
  /** Whether a new task may be created for this slot now (global: the node takes new tasks). */
  readonly mayCreate: boolean;
  /**
   * Whether a task runs the service's current spec; default: its version is the service's. A
   * rollback makes a new version with an older spec, whose tasks are current too (rollout.ts).
   */
  readonly current?: (task: TaskRecord) => boolean;
  /**
   * A canary slot of a canary phase (rollout/canary.ts): a running task of the current version
   * is kept *beside* the slot's running old task instead of replacing it, until promotion.
   */
  readonly canary?: boolean;
}

export interface SlotDecision {
  readonly shutdown: TaskRecord[];
  readonly create: boolean;
  readonly status: SlotStatus;
  /** The running task of a `settled`/`outdated` slot (a canary slot's: the canary). */
  readonly running?: TaskRecord;
  /** When a replacement of a task that ended on its own may be created (0: now). */
  readonly readyAt: number;
}

/** Wanted running and not ended. */
export { isLive } from '../state/task-table.js';
import { isLive } from '../state/task-table.js';

const ASSIGNED = taskStateRank('assigned');

/**
 * Whether a stopping task still holds its slot: it was handed to a node that is up and could
 * still be running it there. A task that never reached a node, or whose node is down, gone or
 * drained, does not hold up its replacement (which goes elsewhere anyway).
 */
function holdsSlot(task: TaskRecord, nodes: Readonly<Record<string, WorkloadNode>>): boolean {
  if (task.desiredState !== 'shutdown' || isTerminal(task.state)) return false;
  if (task.nodeId === null || taskStateRank(task.state) < ASSIGNED) return false;
  const node = nodes[task.nodeId];
  return node !== undefined && node.status === 'ready' && node.availability !== 'drain';
}

/**
 * Decide one slot.
 * @example
 * const d = planSlot({ tasks, service, nodes, now, backoff: DEFAULT_BACKOFF, keepOn, mayCreate: true });
 * // d.shutdown: tasks to stop; d.create: whether to make a new one
 */
export function planSlot(input: SlotInput): SlotDecision {
  const { tasks, service, nodes } = input;
  const shutdown: TaskRecord[] = [];
  const current = input.current ?? ((t: TaskRecord) => t.serviceVersion >= service.version);
  const readyAt = slotReadyAt(tasks, service.spec.deploy.restartPolicy, input.backoff);
  let live = tasks.filter(isLive).sort(newestFirst);

  // Tasks that cannot stay where they are, and outdated ones that do not run (not started yet,
  // or crash-looping: a rolled back version's): stopping those costs nothing, so they are not
  // held to the update's parallelism.
  live = live.filter((t) => {
    const moved = t.nodeId !== null && !input.keepOn(nodes[t.nodeId]);
    const unstartedOld = !current(t) && t.state !== 'running';
    if (moved || unstartedOld) shutdown.push(t);
    return !(moved || unstartedOld);
  });

  if (live.length >= 2)
    live = resolveDuplicates(live, current, shutdown, {
      done: (t) => moveDone(t, service, input.now),
      canary: input.canary === true,
    });

  // A canary running beside its slot's old task: the slot is settled on the canary.
  const [old, canary] = live;
  if (input.canary === true && live.length === 2 && canary!.state === 'running' && current(canary!) && !current(old!))
    return { shutdown, create: false, status: 'settled', running: canary!, readyAt };
  if (live.length === 2) return { shutdown, create: false, status: 'busy', readyAt };
  const only = live[0];
  if (only !== undefined) {
    if (only.state !== 'running') return { shutdown, create: false, status: 'busy', readyAt };
    const status = current(only) ? 'settled' : 'outdated';
    return { shutdown, create: false, status, running: only, readyAt };
  }

  // Nothing live: replace, unless something still holds the slot or the policy says wait.
  if (!input.mayCreate) return { shutdown, create: false, status: 'idle', readyAt };
  if (tasks.some((t) => holdsSlot(t, nodes))) return { shutdown, create: false, status: 'busy', readyAt };
  const newest = [...tasks].sort(newestFirst)[0];
  if (newest === undefined || !endedOnItsOwn(newest)) return { shutdown, create: true, status: 'busy', readyAt };
  if (!wantsReplacement(newest, service.spec.deploy.restartPolicy))
    return { shutdown, create: false, status: 'idle', readyAt };
  if (input.now < readyAt) return { shutdown, create: false, status: 'waiting', readyAt };
  return { shutdown, create: true, status: 'busy', readyAt };
}

/**
 * Several live tasks in one slot. The normal cases are a start-first update, and a start-first
 * move to another node (same spec): the old task runs while the new one starts; once the new one
 * runs, the old one stops. In a canary slot the old task keeps running beside the canary until
 * promotion. Anything else (which only a bug or a lost race could produce) is reduced to one task,
 * keeping the most useful.
 * Returns the tasks kept (one, or the old/new pair, old first); the others are pushed to `shutdown`.
 */
function resolveDuplicates(
  live: TaskRecord[],
  isCurrent: (t: TaskRecord) => boolean,
  shutdown: TaskRecord[],
  o: { readonly done: (t: TaskRecord) => boolean; readonly canary: boolean },
): TaskRecord[] {
  const rank = (t: TaskRecord): number => (t.state === 'running' ? 1 : 0);
  const best = (list: TaskRecord[]): TaskRecord | undefined =>
    [...list].sort((a, b) => rank(b) - rank(a) || newestFirst(a, b))[0];
  const current = live.filter(isCurrent);
  // The slot's own outdated task, not one started beside it (a canary of a version since
  // replaced, which a rollback or a new update stops): the oldest of those running.
  const old = live.filter((t) => !isCurrent(t));
  const original = [...old].sort((a, b) => rank(b) - rank(a) || newestFirst(b, a))[0];
  const newestCurrent = best(current);
  let keep: TaskRecord[];
  if (newestCurrent === undefined) keep = [original!];
  else if (old.length === 0) keep = moveUnderWay(current, o.done) ?? [newestCurrent];
  else if (newestCurrent.state === 'running' && !o.canary) keep = [newestCurrent];
  else keep = [original!, newestCurrent]; // start-first update under way, or a canary beside the old task
  for (const t of live) if (!keep.includes(t)) shutdown.push(t);
  return keep;
}

/**
 * A start-first move of a slot to another node (rebalance.ts): the newest task is not done yet
 * while an older one of the same spec runs. Both are kept until the new one is done; the old one
 * then stops (the newest running task wins). Undefined when that is not the shape of `current`.
 */
function moveUnderWay(current: TaskRecord[], done: (t: TaskRecord) => boolean): TaskRecord[] | undefined {
  const [newest, ...older] = [...current].sort(newestFirst);
  if (newest === undefined || done(newest)) return undefined;
  const running = older.find((t) => t.state === 'running');
  return running === undefined ? undefined : [running, newest];
}

/**
 * When the new task of a move may take over, as a rollout's slot counts as updated: it runs and,
 * with a health check of the spec's own, is healthy (`running` means that); without one, it has
 * run for `update_config.monitor`. A target that crashes its tasks thus never costs a replica.
 */
export function moveDone(task: TaskRecord, service: ServiceRecord, now: number): boolean {
  if (task.state !== 'running') return false;
  return hasHealthcheck(service) || now >= moveDoneAt(task, service);
}

/** When a running task of a move passes the gate of {@link moveDone} without a health check. */
export function moveDoneAt(task: TaskRecord, service: ServiceRecord): number {
  return monitorEndOf(task, service.spec.deploy.updateConfig.monitorMs);
}

/** A slot of a rolling update: the key to create in, and its decision. */
export interface UpdateSlot<K> {
  readonly key: K;
  readonly decision: SlotDecision;
  /** A canary slot of a canary phase (rollout/canary.ts): its new task starts beside the old one. */
  readonly canary?: boolean;
}
