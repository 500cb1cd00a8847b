/**
 * The job controller: for every unfinished job, which units need a task now, and what the job's
 * state is. Pure, like the other orchestrators: everything is read from the replicated state
 * (jobs and their tasks), so a new leader continues exactly where the last one stopped.
 *
 * A unit (array index or completion index) is *done* once one of its tasks completed. Its latest
 * task decides the rest:
 * - still running or waiting: the unit is live;
 * - preempted, or lost with its node when the job requeues: a new task, `requeues + 1` (not a failure);
 * - failed, timed out, out of memory, rejected, or lost with `requeue: false`: a failure; retried
 *   with `attempt + 1` after the job's back-off while `attempt < retries`, else the unit failed.
 * At most `parallelism` units (and the array's `%N`) are live at once. A run of an older version of
 * its service (the service changed while it was unfinished) is cancelled: the state keeps only
 * the current spec, so it could not go on as it was submitted. The job is COMPLETED when
 * every unit is done; when units failed for good and nothing is live any more it ends FAILED
 * (or TIMEOUT / NODE_FAIL / OUT_OF_MEMORY when that is how its first failed unit ended, as
 * Slurm's sacct says; OUT_OF_MEMORY also when the unit's main process exited 0 but the kernel
 * killed a process of it for memory).
 * @module
 */
import type { JobSpec } from '../stack/spec.js';
import { tableOf } from '../state/indexed-state.js';
import type { TaskGroup } from '../state/task-table.js';
import type { JobUpdate } from '../state/job-commands.js';
import { isJobEnded, type JobRecord, type JobState } from '../state/jobs.js';
import { MAX_TASK_MESSAGE } from '../state/workload-checks.js';
import { isTerminal, type ServiceRecord, type TaskRecord } from '../state/workloads.js';
import type { IdGenerator, NewTask, WorkloadState } from './workload-types.js';

export interface JobsInput {
  readonly state: WorkloadState;
  readonly now: number;
  readonly newId: IdGenerator;
  /** At most this many tasks created in one pass. */
  readonly maxCreates?: number;
  /** Reconcile only these jobs (a scoped pass); every unfinished job when absent. */
  readonly jobs?: ReadonlySet<string>;
}

export interface JobsPlan {
  readonly create: NewTask[];
  readonly updates: JobUpdate[];
  /** Jobs whose dependency can never be met (e.g. `afterok` on a failed job): cancel them with this reason. */
  readonly cancel: { readonly jobId: string; readonly reason: string }[];
  /** The earliest time a waiting job becomes ready (begin time, retry back-off), for the leader's timer. */
  readonly nextWakeAt: number | null;
}

/** The indices of a job's units, in order. */
export function unitIndices(spec: JobSpec | null, units: number): number[] {
  const array = spec?.array;
  if (array === null || array === undefined) return Array.from({ length: units }, (_, i) => i);
  const out: number[] = [];
  for (const r of array.ranges) for (let i = r.start; i <= r.end; i += r.step) out.push(i);
  return out;
}

/** The tasks of one job by unit index (oldest first). */
function tasksByUnit(tasks: TaskGroup): Map<number, TaskRecord[]> {
  const units = new Map<number, TaskRecord[]>();
  for (const task of tasks) {
    const list = units.get(task.job!.index);
    if (list === undefined) units.set(task.job!.index, [task]);
    else list.push(task);
  }
  for (const list of units.values())
    list.sort((a, b) => runNumber(a) - runNumber(b) || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  return units;
}

const runNumber = (t: TaskRecord): number => (t.job ? t.job.attempt + t.job.requeues : 0);

/**
 * Whether a unit's task counts as running: it has a node (assigned there, preparing, starting or
 * running), as Slurm counts an allocated job as running. `shoal queue` counts units the same way.
 */
export function isUnitRunning(state: TaskRecord['state']): boolean {
  return state === 'assigned' || state === 'preparing' || state === 'starting' || state === 'running';
}

/**
 * Decide tasks and job states for all unfinished jobs, oldest job first.
 * @example
 * const plan = reconcileJobs({ state, now, newId });
 * // plan.create → task.create, plan.updates → job.update, plan.cancel → job.cancel
 */
export function reconcileJobs(input: JobsInput): JobsPlan {
  const { state, now } = input;
  const jobs = state.jobs ?? {};
  const tasks = tableOf(state.tasks);
  const plan: { create: NewTask[]; updates: JobUpdate[]; cancel: JobsPlan['cancel']; wake: number[] } = {
    create: [],
    updates: [],
    cancel: [],
    wake: [],
  };
  let budget = input.maxCreates ?? 1000;
  const ids = (input.jobs === undefined ? Object.keys(jobs) : [...input.jobs].filter((id) => Object.hasOwn(jobs, id)))
    .filter((id) => !isJobEnded(jobs[id]!.state))
    .sort((a, b) => Number(a) - Number(b));
  for (const id of ids) {
    const job = jobs[id]!;
    const service = state.services[job.serviceId];
    if (service === undefined) continue; // its removal cancels it
    if (job.serviceVersion < service.version) {
      // The state keeps only a service's current spec: an older run's units and containers would
      // silently follow the new one. As swarmkit does for job services, the change stops it.
      plan.cancel.push({ jobId: id, reason: supersededReason(service, job) });
      continue;
    }
    const gate = dependencyGate(job, jobs, now);
    if (gate.kind === 'never') {
      plan.cancel.push({ jobId: id, reason: gate.reason });
      continue;
    }
    if (gate.kind === 'wait') {
      if (gate.until !== undefined) plan.wake.push(gate.until);
      pushUpdate(plan.updates, job, { state: job.state, reason: gate.reason, exitCode: null, succeeded: 0, failed: 0 });
      continue;
    }
    const result = reconcileJob(job, service, tasksByUnit(tasks.ofJob(id)), now, input.newId, budget);
    budget -= result.create.length;
    plan.create.push(...result.create);
    if (result.wakeAt !== null) plan.wake.push(result.wakeAt);
    pushUpdate(plan.updates, job, result.status);
  }
  return {
    create: plan.create,
    updates: plan.updates,
    cancel: plan.cancel,
    nextWakeAt: plan.wake.length > 0 ? Math.min(...plan.wake) : null,
  };
}

function supersededReason(service: ServiceRecord, job: JobRecord): string {
  return `Superseded: service ${service.id} changed to version ${service.version} while this run of version ${job.serviceVersion} was unfinished`;
}

type Gate = { kind: 'go' } | { kind: 'wait'; reason: string; until?: number } | { kind: 'never'; reason: string };

/** Whether a job may run now: its dependencies (Slurm's semantics) and its begin time. */
function dependencyGate(job: JobRecord, jobs: Readonly<Record<string, JobRecord>>, now: number): Gate {
  const waitingOn: string[] = [];
  for (const dep of job.dependencies) {
    const target = jobs[dep.jobId];
    if (target === undefined) continue; // collected long ago: it ended, and its outcome is unknown now
    if (!isJobEnded(target.state)) {
      waitingOn.push(`${dep.type}:${dep.jobId}`);
      continue;
    }
    const ok = target.state === 'COMPLETED';
    if ((dep.type === 'afterok' && !ok) || (dep.type === 'afternotok' && ok))
      return {
        kind: 'never',
        reason: `DependencyNeverSatisfied: ${dep.type}:${dep.jobId} but job ${dep.jobId} ended ${target.state}`,
      };
  }
  if (waitingOn.length > 0) return { kind: 'wait', reason: `Dependency: waits for ${waitingOn.join(', ')}` };
  if (job.beginAt > now)
    return { kind: 'wait', reason: `BeginTime: starts at ${new Date(job.beginAt).toISOString()}`, until: job.beginAt };
  return { kind: 'go' };
}

interface JobStatus {
  readonly state: JobState;
  readonly reason: string;
  readonly exitCode: number | null;
  readonly succeeded: number;
  readonly failed: number;
}

type UnitVerdict =
  | { kind: 'done' }
  | { kind: 'live'; task: TaskRecord }
  | { kind: 'failed'; task: TaskRecord }
  | { kind: 'next'; attempt: number; requeues: number; readyAt: number };

/** What to do with one unit, from its tasks (oldest first). */
function unitVerdict(tasks: readonly TaskRecord[] | undefined, spec: JobSpec | null): UnitVerdict {
  if (tasks === undefined || tasks.length === 0) return { kind: 'next', attempt: 0, requeues: 0, readyAt: 0 };
  if (tasks.some((t) => t.state === 'complete')) return { kind: 'done' };
  const last = tasks[tasks.length - 1]!;
  if (!isTerminal(last.state) && last.state !== 'orphaned') return { kind: 'live', task: last };
  const ref = last.job!;
  const requeue =
    last.outcome === 'PREEMPTED' ||
    (last.outcome === 'NODE_FAIL' && (spec?.requeue ?? true)) ||
    (last.state === 'shutdown' && last.outcome === undefined);
  if (requeue) return { kind: 'next', attempt: ref.attempt, requeues: ref.requeues + 1, readyAt: 0 };
  if (last.outcome === 'CANCELLED') return { kind: 'failed', task: last };
  if (ref.attempt < (spec?.retries ?? 0)) {
    const b = spec!.backoff;
    const delay = Math.min(b.maxMs, b.initialMs * Math.pow(b.factor, ref.attempt));
    return { kind: 'next', attempt: ref.attempt + 1, requeues: ref.requeues, readyAt: (last.endedAt ?? 0) + delay };
  }
  return { kind: 'failed', task: last };
}

function reconcileJob(
  job: JobRecord,
  service: ServiceRecord,
  units: ReadonlyMap<number, readonly TaskRecord[]>,
  now: number,
  newId: IdGenerator,
  budget: number,
): { create: NewTask[]; status: JobStatus; wakeAt: number | null } {
  const spec = service.spec.job;
  const cap = Math.min(spec?.parallelism ?? 1, spec?.array?.maxConcurrent || Infinity);
  let live = 0;
  let running = 0;
  let succeeded = 0;
  const failedUnits: TaskRecord[] = [];
  const ready: { index: number; attempt: number; requeues: number }[] = [];
  let wakeAt: number | null = null;
  let waitingFor = '';
  for (const index of unitIndices(spec, job.units)) {
    const verdict = unitVerdict(units.get(index), spec);
    if (verdict.kind === 'done') succeeded++;
    else if (verdict.kind === 'failed') failedUnits.push(verdict.task);
    else if (verdict.kind === 'live') {
      live++;
      const { state, message } = verdict.task;
      if (isUnitRunning(state)) running++;
      else if (state === 'pending' && waitingFor === '') waitingFor = message;
    } else if (verdict.readyAt <= now) ready.push({ index, ...verdict });
    else wakeAt = wakeAt === null ? verdict.readyAt : Math.min(wakeAt, verdict.readyAt);
  }
  // Requeued units first (they were running), then in index order.
  ready.sort((a, b) => b.requeues - a.requeues || a.index - b.index);
  const create: NewTask[] = [];
  for (const unit of ready.slice(0, Math.max(0, Math.min(cap - live, budget)))) {
    create.push({
      id: newId(),
      serviceId: service.id,
      slot: unit.index,
      serviceVersion: job.serviceVersion,
      job: { jobId: job.id, index: unit.index, attempt: unit.attempt, requeues: unit.requeues },
    });
  }
  const waitingUnits = ready.length - create.length + (wakeAt === null ? 0 : 1);
  const status = jobStatus(job, succeeded, failedUnits, live + create.length, running, waitingUnits, waitingFor);
  return { create, status, wakeAt };
}

function jobStatus(
  job: JobRecord,
  succeeded: number,
  failedUnits: readonly TaskRecord[],
  live: number,
  running: number,
  waiting: number,
  waitingFor: string,
): JobStatus {
  const failed = failedUnits.length;
  if (live === 0 && waiting === 0 && succeeded + failed >= job.units) {
    if (failed === 0) return { state: 'COMPLETED', reason: '', exitCode: 0, succeeded, failed };
    const first = failedUnits[0]!;
    const state = endStateOf(first);
    const why = first.outcome ?? (first.state === 'rejected' ? 'rejected' : `exit code ${first.exitCode ?? '?'}`);
    return {
      state,
      reason: `${failed} of ${job.units} unit(s) failed (first: index ${first.job?.index ?? 0}, ${why}${first.message ? `: ${first.message}` : ''})`,
      exitCode: first.exitCode ?? 1,
      succeeded,
      failed,
    };
  }
  const state: JobState = running > 0 || job.state === 'RUNNING' ? 'RUNNING' : 'PENDING';
  return { state, reason: state === 'PENDING' ? pendingReason(waitingFor) : '', exitCode: null, succeeded, failed };
}

/** The state of a job that ended with failed units, from how its first failed unit's last run ended. */
function endStateOf(run: TaskRecord): JobState {
  switch (run.outcome) {
    case 'TIMEOUT':
    case 'NODE_FAIL':
    case 'OUT_OF_MEMORY':
      return run.outcome;
    default:
      return 'FAILED';
  }
}

/**
 * Why a job that may run waits: what the scheduler said of its first unplaced task, as a Slurm
 * reason (`Resources: no suitable node (...)`). The queue planner's messages carry their own
 * reason word (`Priority: ...`), kept as they are.
 */
function pendingReason(message: string): string {
  if (message === '') return '';
  const reason = /^[A-Z][A-Za-z]*:/.test(message) ? message : `Resources: ${message}`;
  return reason.slice(0, MAX_TASK_MESSAGE);
}

function pushUpdate(out: JobUpdate[], job: JobRecord, s: JobStatus): void {
  if (
    s.state === job.state &&
    s.reason === job.reason &&
    s.exitCode === job.exitCode &&
    s.succeeded === job.succeeded &&
    s.failed === job.failed
  )
    return;
  out.push({ jobId: job.id, ...s });
}
