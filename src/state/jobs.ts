/**
 * The batch part of the replicated state: jobs, namespace quotas, fair-share usage and cron marks.
 *
 * A *job* is one run of a `job` service (a stack's `kind: job` service on each deploy that changes
 * it, a `cron` service at each scheduled time, or a command line's `shoal job submit`). Its work is
 * a set of *units*: the indices of an array (`0-99%10`), or `completions` numbered from 0. The
 * leader's job controller creates one task per unit attempt; the task carries a {@link TaskJobRef}
 * so a unit's history (attempts, requeues after preemption or node failure) is read from its tasks.
 *
 * Exactly once: a job's state only moves from pending to running to one terminal state, and apply
 * ignores any change to a terminal job, so a transition proposed twice (a leader change between
 * proposing and learning that it committed) is recorded once.
 * @module
 */
import type { NamespaceQuota } from '../scheduler/queue/types.js';

/**
 * Slurm's job states (`squeue`/`sacct`), the ones shoal produces. Every state but PENDING and
 * RUNNING is an end; a job ends TIMEOUT, NODE_FAIL or OUT_OF_MEMORY instead of FAILED when that is
 * how its first failed unit ended. New states go last: a snapshot written before knows only the
 * ones before them.
 */
export const JOB_STATES = [
  'PENDING',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
] as const;
export type JobState = (typeof JOB_STATES)[number];

export function isJobEnded(state: JobState): boolean {
  return state !== 'PENDING' && state !== 'RUNNING';
}

/** Why a task ended, beyond its exit code (Slurm's job states for a single run). */
export const TASK_OUTCOMES = ['TIMEOUT', 'OUT_OF_MEMORY', 'PREEMPTED', 'NODE_FAIL', 'CANCELLED'] as const;
export type TaskOutcome = (typeof TASK_OUTCOMES)[number];

/** The link from a task to the job unit it runs. */
export interface TaskJobRef {
  readonly jobId: string;
  /** The array index, or the completion index (0-based). */
  readonly index: number;
  /** Failed runs of this unit before this one (retries count against `job.retries`). */
  readonly attempt: number;
  /** Runs of this unit stopped by preemption or a node failure before this one (never counted as failures). */
  readonly requeues: number;
}

/** CPU time and peak memory of a finished run, when the runtime could measure them. */
export interface TaskUsage {
  readonly cpuMs: number;
  readonly peakMemoryBytes: number;
}

/** A dependency resolved to a job id. */
export interface JobDependency {
  readonly type: 'afterok' | 'afterany' | 'afternotok';
  readonly jobId: string;
}

export interface JobRecord {
  /** Decimal, from the state's job counter, as Slurm numbers jobs. */
  readonly id: string;
  /** The name people gave it (`--name`, the service name). */
  readonly name: string;
  /** The service whose spec the tasks run (`job_<id>` for submitted jobs). */
  readonly serviceId: string;
  readonly serviceVersion: number;
  readonly owner: string;
  /** Fair-share and quota account. */
  readonly namespace: string;
  /** 0..1000, higher first. */
  readonly priority: number;
  readonly submittedAt: number;
  /** Not started before this time (`--begin`); `submittedAt` when not given. */
  readonly beginAt: number;
  /** For a cron run: the schedule time it is for; null otherwise. */
  readonly scheduledAt: number | null;
  /** Sorted by type, job id. */
  readonly dependencies: readonly JobDependency[];
  /** How many units must succeed. */
  readonly units: number;
  readonly state: JobState;
  /** Why it waits (`Dependency`, `BeginTime`...) or why it ended; '' when there is nothing to say. */
  readonly reason: string;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  /** The first non-zero exit code of a failed unit, 0 when all succeeded; null while unknown. */
  readonly exitCode: number | null;
  /** Units that succeeded / failed for good so far. */
  readonly succeeded: number;
  readonly failed: number;
}

/** A namespace's fair-share usage: `value` CPU-ms, decayed to time `at`. */
export interface UsageRecord {
  readonly value: number;
  readonly at: number;
}

/** Usage decays by half every `halfLifeMs`: the value at `now` of usage recorded at `usage.at`. */
export function decayedUsage(usage: UsageRecord | undefined, now: number, halfLifeMs: number): number {
  if (usage === undefined) return 0;
  const age = Math.max(0, now - usage.at);
  return usage.value * Math.pow(2, -age / halfLifeMs);
}

/** The batch maps of the state. */
export interface BatchState {
  readonly jobs: Readonly<Record<string, JobRecord>>;
  readonly quotas: Readonly<Record<string, NamespaceQuota>>;
  readonly usage: Readonly<Record<string, UsageRecord>>;
  /** For each cron service: the last schedule time handled (run or skipped). */
  readonly cronMarks: Readonly<Record<string, number>>;
}

/** The pseudo-stack of submitted jobs: their services are `job_<id>`, with no stack record. */
export const SUBMITTED_JOB_STACK = 'job';

/** The service id of a submitted job. */
export function submittedJobServiceId(jobId: string): string {
  return `${SUBMITTED_JOB_STACK}_${jobId}`;
}

/** Default fair-share half-life: Slurm's `PriorityDecayHalfLife` default, 7 days. */
export const DEFAULT_FAIR_SHARE_HALF_LIFE_MS = 7 * 24 * 3600 * 1000;
