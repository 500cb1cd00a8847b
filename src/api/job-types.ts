/**
 * The batch part of the admin API: submitting and cancelling jobs, the queue, history, logs and
 * namespace quotas. Plain JSON types shared by the agent (which implements {@link BatchApi}) and
 * the CLI (which calls the routes in job-routes.ts).
 * @module
 */
import type { LogLine, ReadOptions, WriteOptions } from './types.js';

/** `shoal job submit`, as the CLI sends it: the agent builds and validates the job's spec. */
export interface JobSubmitRequest {
  /** Default: the command's base name. */
  readonly name?: string;
  /** Default: the user running the CLI. */
  readonly owner: string;
  /** Fair-share and quota account; default `default`. */
  readonly namespace?: string;
  /** 0..1000; default 100 (batch). */
  readonly priority?: number;
  /** `process` runs the command on the host; `docker` (default when an image is given) in a container. */
  readonly runtime?: 'docker' | 'process';
  readonly image?: string;
  /** The command and its arguments (after `--`). */
  readonly command: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly workingDir?: string;
  /** CPUs to reserve, e.g. 0.5; default 1 (as Slurm allocates at least one). */
  readonly cpus?: number;
  /** Memory to reserve, e.g. `512M`, `2G`. */
  readonly memory?: string;
  readonly gpus?: number;
  /** Wall-clock limit (`90s`, `10m`, `1h30m`, or Slurm's `[D-]HH:MM:SS` / minutes). */
  readonly time?: string;
  /** Slurm's array syntax: `0-99%10`, `1,3,5-7`, `0-15:4`. */
  readonly array?: string;
  /** Slurm's `--dependency`: `afterok:12:13,afterany:9`. */
  readonly dependency?: string;
  /** Not before (ms since epoch). */
  readonly beginAt?: number;
  readonly retries?: number;
  /** Start all units at once or none (MPI, distributed training). */
  readonly gang?: boolean;
  /** Run a unit again elsewhere when its node fails (default true). */
  readonly requeue?: boolean;
}

export interface JobSubmitResult {
  readonly jobId: string;
}

/** One row of `shoal queue` (squeue): a pending or running job. */
export interface QueueRow {
  readonly jobId: string;
  readonly name: string;
  readonly owner: string;
  readonly namespace: string;
  readonly state: string;
  readonly priority: number;
  /** Position in the queue among pending jobs (1 = next), null when running. */
  readonly position: number | null;
  readonly submittedAt: number;
  readonly startedAt: number | null;
  /** When the job ended (null until then): TIME stops counting here. */
  readonly endedAt: number | null;
  /** Units: total, running, pending, done, failed. */
  readonly units: { total: number; running: number; pending: number; done: number; failed: number };
  /** Hostnames of the nodes running its units. */
  readonly nodes: readonly string[];
  /** For pending work: `Priority`, `Resources`, `Dependency`, `Quota`, `BeginTime`, `Preempting`, `Gang`… with details. */
  readonly reason: string;
  /** `17` or, for arrays, `17_[0-99%10]`. */
  readonly display: string;
}

/** One row of `shoal job history` (sacct): a job, or one run of one unit. */
export interface HistoryRow {
  /** `17`, `17_3` (array index 3), `17_3.1` (its second run). */
  readonly id: string;
  readonly jobId: string;
  readonly name: string;
  readonly owner: string;
  readonly namespace: string;
  readonly state: string;
  readonly submittedAt: number;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly node: string | null;
  readonly exitCode: number | null;
  /** CPU time used (ms), when measured. */
  readonly cpuMs: number | null;
  readonly peakMemoryBytes: number | null;
  readonly reason: string;
}

export interface JobInspectView {
  readonly job: QueueRow & { readonly endedAt: number | null; readonly exitCode: number | null };
  readonly runs: readonly HistoryRow[];
  readonly spec: unknown;
}

export interface QuotaView {
  readonly namespace: string;
  readonly cpus: number | null;
  readonly memoryBytes: number | null;
  readonly gpus: number | null;
  readonly runningJobs: number | null;
  /** What the namespace uses now. */
  readonly used: { cpus: number; memoryBytes: number; gpus: number; runningJobs: number };
  /** Its decayed fair-share usage (CPU-seconds). */
  readonly usage: number;
}

export interface QuotaSetRequest {
  /** CPUs (may be fractional). */
  readonly cpus?: number;
  readonly memory?: string;
  readonly gpus?: number;
  readonly runningJobs?: number;
}

export interface JobLogsRequest {
  readonly jobId: string;
  /** Only this array/completion index. */
  readonly index?: number;
  readonly follow?: boolean;
  readonly tail?: number;
}

export interface BatchApi {
  submitJob(request: JobSubmitRequest, options?: WriteOptions): Promise<JobSubmitResult>;
  /** Pending and running jobs (all: also those that ended recently). */
  queue(options?: ReadOptions & { readonly all?: boolean; readonly owner?: string }): Promise<QueueRow[]>;
  cancelJobs(jobIds: readonly string[], options?: WriteOptions): Promise<{ readonly cancelled: readonly string[] }>;
  history(
    options?: ReadOptions & { readonly jobId?: string; readonly owner?: string; readonly limit?: number },
  ): Promise<HistoryRow[]>;
  inspectJob(jobId: string, options?: ReadOptions): Promise<JobInspectView>;
  jobLogs(request: JobLogsRequest, options?: { readonly signal?: AbortSignal }): AsyncIterable<LogLine>;
  listQuotas(options?: ReadOptions): Promise<QuotaView[]>;
  setQuota(namespace: string, request: QuotaSetRequest | null, options?: WriteOptions): Promise<QuotaView | null>;
}
