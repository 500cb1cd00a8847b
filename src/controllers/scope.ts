/**
 * The scope of a controller pass that reacts to a change set: which services the orchestrators
 * plan, which jobs the job controller reconciles, whether placement and the garbage collectors
 * run. Whatever a change could alter is in scope, so for those objects a scoped pass proposes
 * what a full pass would; what only time changes (a back-off ending, a begin time, fair-share
 * decay, job history ageing) waits for the next full pass, which the leader runs every few seconds.
 * @module
 */
import type { ChangeSet } from '../state/changes.js';
import { isJobEnded } from '../state/jobs.js';
import { isRolloutActive } from '../state/rollout.js';
import type { TaskTable } from '../state/task-table.js';
import { isTerminal } from '../state/workloads.js';
import { rebalances } from './rebalance.js';
import type { WorkloadNode, WorkloadState } from './workload-types.js';

export interface PassScope {
  /** Services the replicated and global orchestrators plan whole. */
  readonly services: ReadonlySet<string>;
  /**
   * Replicated services planned only at these slots: their record did not change and no live
   * task of theirs runs an older version, so no rolling update ties their slots together.
   */
  readonly slots: ReadonlyMap<string, ReadonlySet<number>>;
  /** Unfinished jobs the job controller reconciles. */
  readonly jobs: ReadonlySet<string>;
  /** Whether placement runs (it also runs when the pass creates tasks). */
  readonly placement: boolean;
  /** Services whose ended tasks the task GC looks at. */
  readonly collect: ReadonlySet<string>;
  /** Whether the job GC runs (a job ended or was removed). */
  readonly collectJobs: boolean;
}

/**
 * What a pass must look at after `changes`.
 * @example scopeOf(machine.takeChanges(), { ...state, tasks }).services // Set { 'app_web' }
 */
export function scopeOf(changes: ChangeSet, state: WorkloadState & { readonly tasks: TaskTable }): PassScope {
  const { tasks } = state;
  const services = new Set<string>();
  const slots = new Map<string, ReadonlySet<number>>();
  for (const id of changes.services) {
    const service = Object.hasOwn(state.services, id) ? state.services[id] : undefined;
    const touched = changes.slots.get(id);
    const oldest = tasks.oldestLiveVersion(id);
    if (
      service?.spec.kind === 'replicated' &&
      touched !== undefined &&
      !changes.serviceRecords.has(id) &&
      (oldest === undefined || oldest >= service.version)
    )
      slots.set(id, touched);
    else services.add(id);
  }
  // A rollout under way moves on with time (monitor windows, delays, its deadline) and ties its
  // slots together: its service is planned whole in every pass. So does a rebalancing move (more
  // live tasks than replicas): its new task takes over once it ran `monitor` (slots.ts moveDone).
  for (const s of Object.values(state.services)) {
    const moving = s.spec.kind === 'replicated' && tasks.liveCount(s.id) > s.replicas;
    if (moving || (s.rollout !== undefined && isRolloutActive(s.rollout.state))) {
      services.add(s.id);
      slots.delete(s.id);
    }
  }
  if (changes.nodes.size > 0) {
    // A node's change (status, availability, labels, resources) moves or keeps the tasks on it,
    // and decides where every global service runs.
    for (const nodeId of changes.nodes) for (const t of tasks.onNode(nodeId)) services.add(t.serviceId);
    for (const s of Object.values(state.services)) if (s.spec.kind === 'global') services.add(s.id);
    // A node that takes new tasks (joined, back, reactivated) is where spread services rebalance to.
    if ([...changes.nodes].some((id) => opensTo(state.nodes[id])))
      for (const s of Object.values(state.services)) if (rebalances(s)) services.add(s.id);
    for (const id of services) slots.delete(id);
  }

  const allJobs = state.jobs ?? {};
  const jobs = new Set(changes.jobs);
  const ended = new Set(
    [...changes.jobs].filter((id) => !Object.hasOwn(allJobs, id) || isJobEnded(allJobs[id]!.state)),
  );
  if (changes.serviceRecords.size > 0 || ended.size > 0) {
    // A new spec cancels its service's older runs; an ended job decides its dependents' gates.
    for (const job of Object.values(allJobs)) {
      if (isJobEnded(job.state)) continue;
      if (changes.serviceRecords.has(job.serviceId) || job.dependencies.some((d) => ended.has(d.jobId)))
        jobs.add(job.id);
    }
  }

  const collect = new Set(changes.serviceRecords);
  for (const id of changes.tasks) {
    const task = tasks.get(id);
    if (task !== undefined && isTerminal(task.state)) collect.add(task.serviceId);
  }
  return { services, slots, jobs, placement: changes.placement, collect, collectJobs: ended.size > 0 };
}

function opensTo(node: WorkloadNode | undefined): boolean {
  return node !== undefined && node.status === 'ready' && node.availability === 'active' && node.roles.workloads;
}
