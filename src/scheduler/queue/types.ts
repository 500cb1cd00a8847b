/**
 * The batch queue's vocabulary: what `planQueue()` decides on and what it returns.
 *
 * The queue sits on top of the scheduler's placement loop (`placeGroup()` in
 * src/scheduler/place-group.ts, which `schedule()` runs too): it decides *which* pending tasks may
 * start now and in what order (priority, then fair share, then age), holds resources back for the
 * highest blocked jobs (backfill never delays them), starts gangs whole or not at all, enforces
 * namespace quotas, and picks preemption victims. Placement of each admitted task
 * on a node stays the scheduler's job (filters, scores, GPUs).
 *
 * Everything is plain data and the function is pure: the leader runs it on every controller
 * pass over the replicated state; tests run it with virtual time.
 * @module
 */
import type { NodeView, PlacedTask, Placement, TaskRequest } from '../types.js';

/** Why a pending task waits, in Slurm's words (`squeue`'s REASON column). */
export type WaitReason =
  /** A higher job is ahead of it and the resources it would use are held for that job. */
  | 'Priority'
  /** No node has room for it now (nothing ahead of it is blocked either). */
  | 'Resources'
  /** Its job waits on other jobs (`afterok`, ...): decided by the job controller. */
  | 'Dependency'
  /** Starting it would exceed its namespace's quota. */
  | 'Quota'
  /** Its job may not start before a given time: decided by the job controller. */
  | 'BeginTime'
  /** Lower-priority tasks were asked to stop for it; it starts when they have. */
  | 'Preempting'
  /** Other tasks of its gang do not all fit yet. */
  | 'Gang';

/** A pending task as the queue sees it: a scheduler request plus what orders and limits it. */
export interface QueuedTask extends TaskRequest {
  /** Effective priority 0..1000 (higher first). Services default to 500, jobs to 100. */
  readonly priority: number;
  /** The job this task belongs to; `null` for service tasks. */
  readonly jobId: string | null;
  /** Fair-share and quota account; `null`: neither applies (services without a namespace). */
  readonly namespace: string | null;
  /** When the job (or, for services, the task) was submitted, ms; older first among equals. */
  readonly submittedAt: number;
  /** Wall-clock limit of one run, ms; 0 = none (backfill then assumes it never ends). */
  readonly timeLimitMs: number;
  /** Set when the task belongs to a gang: all pending tasks with the same gang id start together or none. */
  readonly gang: string | null;
  /** May this task preempt lower-priority preemptible tasks? (true for everything by default.) */
  readonly mayPreempt?: boolean;
  /** Index in an array job (for a stable order inside a job); 0 otherwise. */
  readonly index?: number;
}

/** A task that holds resources on a node now. */
export interface RunningTask extends PlacedTask {
  readonly priority: number;
  readonly jobId: string | null;
  readonly namespace: string | null;
  /** When it started (or was assigned), ms. */
  readonly startedAt: number;
  /** Its wall-clock limit, ms; 0 = none (it holds its resources for ever as far as backfill knows). */
  readonly timeLimitMs: number;
  /** Jobs are preemptible; services only when their spec says so. */
  readonly preemptible: boolean;
  /** Asked to stop already (preempted, cancelled, scaled down): its resources free up soon. */
  readonly terminating: boolean;
  /** Whether the task counts as a running job for quotas (one per job, counted by jobId). */
  readonly reservations?: PlacedTask['reservations'];
}

/** Limits of one namespace. Absent fields: no limit. */
export interface NamespaceQuota {
  /** Millicores of reservations. */
  readonly cpus?: number;
  readonly memoryBytes?: number;
  readonly gpus?: number;
  /** Jobs with at least one task running at once. */
  readonly runningJobs?: number;
}

export interface QueueOptions {
  /** Hold resources for at most this many blocked jobs ahead of backfill (Slurm's bf_max_job_test spirit). Default 8. */
  readonly maxReservations?: number;
  /** Turn backfill off: nothing starts ahead of a blocked higher job. Default on. */
  readonly backfill?: boolean;
  /** Turn preemption off. Default on. */
  readonly preemption?: boolean;
  /**
   * A running task that reaches its time limit within this many ms is waited for, never preempted
   * (stopping it would free nothing sooner and lose its work). Default 10 000 (10 s).
   */
  readonly preemptionGraceMs?: number;
  /** Scheduler tie-break seed. */
  readonly seed?: number;
}

export interface QueueInput {
  readonly now: number;
  readonly nodes: readonly NodeView[];
  /** Tasks holding resources (running, starting, assigned, or terminating). */
  readonly running: readonly RunningTask[];
  /** Tasks waiting for a node, in any order (the planner orders them). */
  readonly pending: readonly QueuedTask[];
  /** Each namespace's recent usage (CPU-ms, already decayed by the half-life); missing = 0. */
  readonly usage?: Readonly<Record<string, number>>;
  /** Fair-share weight of each namespace; missing = 1. Usage is compared as usage / shares. */
  readonly shares?: Readonly<Record<string, number>>;
  readonly quotas?: Readonly<Record<string, NamespaceQuota>>;
  readonly options?: QueueOptions;
}

/** A task that waits, and why. */
export interface QueueWait {
  readonly taskId: string;
  readonly reason: WaitReason;
  /** The reason in words, e.g. `Priority: resources held for job 12 (starts in ~4m)`. */
  readonly message: string;
  /** Expected start (ms), when backfill computed one for it. */
  readonly expectedStart?: number;
}

/** A running task to stop so that `forTaskId` can start. */
export interface Preemption {
  readonly victimTaskId: string;
  readonly forTaskId: string;
}

export interface QueuePlan {
  /** Tasks to start now, on these nodes. */
  readonly placements: readonly Placement[];
  /** Running tasks to stop (their work is requeued by the job controller). */
  readonly preemptions: readonly Preemption[];
  /** Every pending task that was not placed, with its reason. */
  readonly waiting: readonly QueueWait[];
  /** All pending task ids in queue order (placed ones included), for `shoal queue`. */
  readonly order: readonly string[];
}
