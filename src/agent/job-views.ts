/**
 * What `shoal queue`, `shoal job history` and `shoal quota ls` show, computed from the replicated
 * state alone (pure: the same state gives the same rows on every peer).
 * @module
 */
import type { HistoryRow, QueueRow, QuotaView } from '../api/job-types.js';
import { isUnitRunning } from '../controllers/jobs.js';
import { reservationsOf } from '../controllers/placement.js';
import { DEFAULT_FAIR_SHARE_HALF_LIFE_MS, decayedUsage, isJobEnded, type JobRecord } from '../state/jobs.js';
import type { ClusterState } from '../state/model.js';
import { taskIndex } from '../state/queries.js';
import { isTerminal, type TaskRecord } from '../state/workloads.js';

/** Tasks of each job, by job id. */
function tasksByJob(state: ClusterState): Map<string, TaskRecord[]> {
  const out = new Map<string, TaskRecord[]>();
  for (const task of taskIndex(state.tasks).all) {
    if (task.job === undefined) continue;
    const list = out.get(task.job.jobId);
    if (list === undefined) out.set(task.job.jobId, [task]);
    else list.push(task);
  }
  return out;
}

/** Slurm's queue order: priority, then fair share (less recent usage first), then age. */
function queueOrder(state: ClusterState, now: number): (a: JobRecord, b: JobRecord) => number {
  const usage = (ns: string) => decayedUsage(state.usage[ns], now, DEFAULT_FAIR_SHARE_HALF_LIFE_MS);
  return (a, b) =>
    b.priority - a.priority ||
    usage(a.namespace) - usage(b.namespace) ||
    a.submittedAt - b.submittedAt ||
    Number(a.id) - Number(b.id);
}

/** Rows of `shoal queue`: running jobs first, then pending ones in queue order. */
export function queueRows(
  state: ClusterState,
  now: number,
  options: { all?: boolean; owner?: string; jobIds?: ReadonlySet<string> } = {},
): QueueRow[] {
  const byJob = tasksByJob(state);
  const jobs = Object.values(state.jobs).filter(
    (j) =>
      (options.all === true || !isJobEnded(j.state)) &&
      (options.owner === undefined || j.owner === options.owner) &&
      (options.jobIds === undefined || options.jobIds.has(j.id)),
  );
  const order = queueOrder(state, now);
  const views = jobs.map((job) => ({ job, units: unitsOf(job, byJob.get(job.id) ?? []) }));
  const pending = views
    .filter((v) => v.units.state === 'PENDING')
    .map((v) => v.job)
    .sort(order);
  const position = new Map(pending.map((j, i) => [j.id, i + 1]));
  const rank = (v: (typeof views)[number]) => (v.units.state === 'RUNNING' ? 0 : v.units.state === 'PENDING' ? 1 : 2);
  return views
    .sort((a, b) => rank(a) - rank(b) || (rank(a) === 1 ? order(a.job, b.job) : Number(a.job.id) - Number(b.job.id)))
    .map((v) => queueRow(state, v.job, v.units, position.get(v.job.id) ?? null));
}

function queueRow(state: ClusterState, job: JobRecord, units: JobUnits, position: number | null): QueueRow {
  const nodes = [...new Set(units.running.map((t) => state.nodes[t.nodeId ?? '']?.hostname ?? t.nodeId ?? '?'))].sort();
  const spec = state.services[job.serviceId]?.spec.job ?? null;
  return {
    jobId: job.id,
    name: job.name,
    owner: job.owner,
    namespace: job.namespace,
    state: units.state,
    priority: job.priority,
    position,
    submittedAt: job.submittedAt,
    startedAt: job.startedAt,
    endedAt: isJobEnded(job.state) ? job.endedAt : null,
    units: {
      total: job.units,
      running: units.running.length,
      pending: units.waiting.length + units.notStarted,
      done: job.succeeded,
      failed: job.failed,
    },
    nodes,
    reason: isJobEnded(job.state) ? job.reason : pendingReason(job, units, spec?.array?.maxConcurrent ?? 0),
    display: spec?.array ? `${job.id}_[${spec.array.text}]` : job.id,
  };
}

/** A job's units as the queue shows them, and the state that follows from them. */
interface JobUnits {
  /** The record's state, except that a job with a running unit is RUNNING (the record lags a pass). */
  readonly state: JobRecord['state'];
  readonly live: readonly TaskRecord[];
  readonly running: readonly TaskRecord[];
  readonly waiting: readonly TaskRecord[];
  /** Units with no task yet (an array's `%N`, parallelism, back-off); 0 once the job ended. */
  readonly notStarted: number;
}

function unitsOf(job: JobRecord, tasks: readonly TaskRecord[]): JobUnits {
  const live = tasks.filter((t) => !isTerminal(t.state) && t.state !== 'orphaned');
  const running = live.filter((t) => isUnitRunning(t.state));
  const waiting = live.filter((t) => !isUnitRunning(t.state));
  const ended = isJobEnded(job.state);
  return {
    state: job.state === 'PENDING' && running.length > 0 ? 'RUNNING' : job.state,
    live,
    running,
    waiting,
    // An ended job starts nothing more: its units that never ran are not pending (a cancelled one).
    notStarted: ended ? 0 : Math.max(0, job.units - job.succeeded - job.failed - live.length),
  };
}

/**
 * The job's own reason (Dependency, BeginTime), else the queue's reason for its first waiting
 * unit, else `JobArrayTaskLimit` when its units wait only for the array's `%N` (as Slurm says).
 */
function pendingReason(job: JobRecord, units: JobUnits, maxConcurrent: number): string {
  if (job.reason) return job.reason;
  const first = [...units.waiting].sort((a, b) => a.job!.index - b.job!.index)[0];
  if (first !== undefined) return first.message || 'Priority: waiting for the scheduler';
  if (maxConcurrent > 0 && units.notStarted > 0 && units.live.length >= maxConcurrent) {
    return `JobArrayTaskLimit: at most ${maxConcurrent} units of this array run at once (%${maxConcurrent})`;
  }
  return units.state === 'PENDING' ? 'Priority: waiting for the scheduler' : '';
}

/**
 * Rows of `shoal job history`: one per job, then one per run of each unit (newest jobs first);
 * `limit` caps the rows (not the jobs), with or without `jobId`.
 */
export function historyRows(
  state: ClusterState,
  options: { jobId?: string; owner?: string; limit?: number } = {},
): HistoryRow[] {
  const byJob = tasksByJob(state);
  const jobs = Object.values(state.jobs)
    .filter(
      (j) =>
        (options.jobId === undefined || j.id === options.jobId.split('_')[0]) &&
        (options.owner === undefined || j.owner === options.owner),
    )
    .sort((a, b) => Number(b.id) - Number(a.id))
    // Each job gives at least one row, so `limit` jobs are enough for `limit` rows.
    .slice(0, options.limit ?? 1000);
  const rows: HistoryRow[] = [];
  for (const job of jobs) {
    const tasks = byJob.get(job.id) ?? [];
    const array = state.services[job.serviceId]?.spec.job?.array ?? null;
    const base = {
      jobId: job.id,
      name: job.name,
      owner: job.owner,
      namespace: job.namespace,
      submittedAt: job.submittedAt,
    };
    const cpu = tasks.reduce((sum, t) => sum + (t.usage?.cpuMs ?? 0), 0);
    const measured = tasks.some((t) => t.usage !== undefined);
    const peak = Math.max(0, ...tasks.map((t) => t.usage?.peakMemoryBytes ?? 0));
    rows.push({
      ...base,
      id: job.id,
      state: job.state,
      startedAt: job.startedAt,
      endedAt: job.endedAt,
      node: null,
      exitCode: job.exitCode,
      cpuMs: measured ? cpu : null,
      peakMemoryBytes: peak > 0 ? peak : null,
      reason: job.reason,
    });
    const runs = [...tasks].sort((a, b) => a.job!.index - b.job!.index || a.createdAt - b.createdAt);
    for (const t of runs) {
      const ref = t.job!;
      const unit = array !== null || job.units > 1 ? `${job.id}_${ref.index}` : job.id;
      const run = ref.attempt + ref.requeues;
      rows.push({
        ...base,
        id: run === 0 ? (unit === job.id ? `${job.id}.0` : unit) : `${unit}.${run}`,
        state: taskState(t),
        startedAt: t.startedAt ?? null,
        endedAt: t.endedAt ?? null,
        node: t.nodeId === null ? null : (state.nodes[t.nodeId]?.hostname ?? t.nodeId),
        exitCode: t.exitCode,
        cpuMs: t.usage?.cpuMs ?? null,
        peakMemoryBytes: peakOf(t),
        reason: t.message,
      });
    }
  }
  return options.limit === undefined ? rows : rows.slice(0, options.limit);
}

/**
 * A run's peak memory, null when not measured: a runtime records 0 when it could not know it (a
 * process task without a memory cgroup), or none at all (a Docker container that ended before its
 * first usage sample), and no process that ran peaks at 0.
 */
function peakOf(t: TaskRecord): number | null {
  const peak = t.usage?.peakMemoryBytes ?? 0;
  return peak > 0 ? peak : null;
}

/** A run's state in Slurm's words. */
function taskState(t: TaskRecord): string {
  if (t.outcome !== undefined) return t.outcome;
  switch (t.state) {
    case 'complete':
      return 'COMPLETED';
    case 'failed':
    case 'rejected':
      return 'FAILED';
    case 'shutdown':
      return 'CANCELLED';
    case 'orphaned':
      return 'NODE_FAIL';
    case 'pending':
    case 'new':
      return 'PENDING';
    default:
      return 'RUNNING';
  }
}

/** Quotas with what each namespace uses now. */
export function quotaViews(state: ClusterState, now: number): QuotaView[] {
  const used = new Map<string, { cpus: number; memoryBytes: number; gpus: number; jobs: Set<string> }>();
  for (const task of taskIndex(state.tasks).all) {
    if (task.job === undefined || isTerminal(task.state) || task.nodeId === null || task.state === 'pending') continue;
    const job = state.jobs[task.job.jobId];
    const service = state.services[task.serviceId];
    if (!job || !service) continue;
    const r = reservationsOf(service.spec);
    const u = used.get(job.namespace) ?? { cpus: 0, memoryBytes: 0, gpus: 0, jobs: new Set<string>() };
    u.cpus += r.cpus ?? 0;
    u.memoryBytes += r.memoryBytes ?? 0;
    u.gpus += r.gpus ?? 0;
    u.jobs.add(job.id);
    used.set(job.namespace, u);
  }
  const namespaces = new Set([...Object.keys(state.quotas), ...used.keys(), ...Object.keys(state.usage)]);
  return [...namespaces].sort().map((ns) => {
    const q = state.quotas[ns];
    const u = used.get(ns);
    return {
      namespace: ns,
      cpus: q?.cpus === undefined ? null : q.cpus / 1000,
      memoryBytes: q?.memoryBytes ?? null,
      gpus: q?.gpus ?? null,
      runningJobs: q?.runningJobs ?? null,
      used: {
        cpus: (u?.cpus ?? 0) / 1000,
        memoryBytes: u?.memoryBytes ?? 0,
        gpus: u?.gpus ?? 0,
        runningJobs: u?.jobs.size ?? 0,
      },
      usage: Math.round(decayedUsage(state.usage[ns], now, DEFAULT_FAIR_SHARE_HALF_LIFE_MS) / 1000),
    };
  });
}
