/**
 * Placing runs of identical tasks on one accounting with the scheduler's own pipeline (filters,
 * scores, candidate tree), tentatively when needed, plus a cache that answers "cannot fit" for
 * requests at least as big as one that already failed.
 */
import type { Claim } from '../accounting.js';
import { groupTasks, type TaskGroup } from '../group.js';
import { GroupPipeline, type PipelineParts } from '../pipeline.js';
import { type Placed, placeGroup } from '../place-group.js';
import type { ScoreWeights } from '../types.js';
import type { QueueAccounting } from './accounting.js';
import type { QueuedTask } from './types.js';

/** A task put on a node of some accounting. */
export interface Put extends Placed {
  readonly task: QueuedTask;
  readonly claim: Claim;
}

/** What the placer needs besides the accounting. */
export interface PlaceContext {
  readonly weights: ScoreWeights;
  readonly parts: PipelineParts;
}

/** The parsed scheduler group of a run's request (cached on the run's first task). */
export function groupOf(task: QueuedTask, cache: Map<QueuedTask, TaskGroup>): TaskGroup {
  let group = cache.get(task);
  if (group === undefined) {
    group = groupTasks([task])[0]!;
    cache.set(task, group);
  }
  return group;
}

/** What each task of a run takes from its node. */
export function claimOf(task: QueuedTask): Claim {
  return { serviceId: task.serviceId, reservations: task.reservations, ports: task.ports };
}

/** A pipeline for placing `tasks` (all of one request) on `acc`. */
export function pipelineFor(
  acc: QueueAccounting,
  group: TaskGroup,
  tasks: readonly QueuedTask[],
  ctx: PlaceContext,
): GroupPipeline {
  group.taskIds.length = 0;
  for (const t of tasks) group.taskIds.push(t.id);
  return new GroupPipeline(group, acc, ctx.weights, ctx.parts);
}

/**
 * Place as many of `tasks` (identical requests) as fit, best node first, with the scheduler's
 * placement loop ({@link placeGroup}). Returns the placements made (already recorded on `acc`) and
 * the pipeline (to explain a miss).
 */
export function placeRun(
  acc: QueueAccounting,
  group: TaskGroup,
  tasks: readonly QueuedTask[],
  ctx: PlaceContext,
): { puts: Put[]; pipeline: GroupPipeline } {
  const pipeline = pipelineFor(acc, group, tasks, ctx);
  if (tasks.length === 0) return { puts: [], pipeline };
  const claim = claimOf(tasks[0]!);
  const puts = placeGroup(pipeline, claim).map(({ node, gpus }, i): Put => ({ task: tasks[i]!, node, claim, gpus }));
  return { puts, pipeline };
}

/** Undo placements on `acc`, newest first. */
export function rollback(acc: QueueAccounting, puts: readonly Put[]): void {
  for (let i = puts.length - 1; i >= 0; i--) acc.unplace(puts[i]!.node, puts[i]!.claim, puts[i]!.gpus);
}

/** The result of {@link placeAll}. */
export interface AllOrNone {
  /** All placements when every task fit; empty otherwise (nothing stays recorded). */
  readonly puts: Put[];
  /** How many tasks fit before the first miss. */
  readonly fitted: number;
  /** The pipeline of the run that missed. */
  readonly missed?: GroupPipeline;
}

/** Place every run of a gang (or one task) on `acc`, or nothing. */
export function placeAll(
  acc: QueueAccounting,
  runs: readonly (readonly QueuedTask[])[],
  groups: Map<QueuedTask, TaskGroup>,
  ctx: PlaceContext,
  keep: boolean,
): AllOrNone {
  const all: Put[] = [];
  for (const run of runs) {
    const { puts, pipeline } = placeRun(acc, groupOf(run[0]!, groups), run, ctx);
    all.push(...puts);
    if (puts.length < run.length) {
      rollback(acc, all);
      return { puts: [], fitted: all.length, missed: pipeline };
    }
  }
  if (!keep) rollback(acc, all);
  return { puts: all, fitted: all.length };
}

/** A request that failed to fit anywhere, kept only when nothing but resources limited it. */
interface Failure {
  readonly priority: number;
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly gpus: number;
  readonly generic: readonly (readonly [string, number])[];
}

/**
 * Remembers requests that found no node on an accounting that only fills up: any later request
 * needing at least as much of every resource (and, for preemption, with no higher priority) cannot
 * fit either, whatever its other filters. This is what makes a full cluster cheap to plan.
 */
export class FailureCache {
  readonly #failures: Failure[] = [];
  readonly #limit: number;

  constructor(limit = 32) {
    this.#limit = limit;
  }

  /** Record a miss of `group`; ignored unless resources were its only rule. */
  add(group: TaskGroup, priority = 0): void {
    if (!resourcesOnly(group) || this.#failures.length >= this.#limit || this.covers(group, priority)) return;
    const r = group.reservations;
    this.#failures.push({ priority, cpus: r.cpus, memoryBytes: r.memoryBytes, gpus: r.gpus, generic: r.generic });
  }

  /** Whether a request of `group` (at `priority`) is known not to fit. */
  covers(group: TaskGroup, priority = 0): boolean {
    const r = group.reservations;
    return this.#failures.some(
      (f) =>
        priority <= f.priority &&
        r.cpus >= f.cpus &&
        r.memoryBytes >= f.memoryBytes &&
        r.gpus >= f.gpus &&
        f.generic.every(([name, n]) => (r.generic.find(([m]) => m === name)?.[1] ?? 0) >= n),
    );
  }
}

/** A group that no filter but `resources` (and node availability) can turn down. */
function resourcesOnly(group: TaskGroup): boolean {
  return (
    group.error === undefined &&
    group.constraints.length === 0 &&
    group.portKeys.length === 0 &&
    group.maxReplicasPerNode === 0 &&
    group.affinity.length === 0
  );
}
