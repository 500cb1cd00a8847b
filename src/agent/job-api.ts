/**
 * The batch part of the admin API: job submit/cancel, the queue, history, logs and quotas.
 * Every change is one Raft command through the CommandWriter; a submit is a single command whose
 * apply hands out the job id, so a shell loop of `shoal job submit` costs one commit per job.
 */
import type {
  BatchApi,
  HistoryRow,
  JobInspectView,
  JobLogsRequest,
  JobSubmitRequest,
  JobSubmitResult,
  QueueRow,
  QuotaSetRequest,
  QuotaView,
} from '../api/job-types.js';
import { ApiError, type LogLine, type ReadOptions, type WriteOptions } from '../api/types.js';
import { nodeViews } from '../controllers/placement.js';
import { parseBytes } from '../stack/units.js';
import { isJobEnded, type JobRecord } from '../state/jobs.js';
import type { ClusterStore } from './cluster-store.js';
import { historyRows, queueRows, quotaViews } from './job-views.js';
import { buildSubmittedJob, checkUnitFits } from './job-spec.js';
import type { TaskLogs } from './node-workloads.js';

export interface BatchServiceDeps {
  readonly store: Pick<ClusterStore, 'state' | 'requireJoined' | 'read' | 'propose'>;
  readonly taskLogs: TaskLogs;
}

export class BatchService implements BatchApi {
  readonly #deps: BatchServiceDeps;
  readonly #store: BatchServiceDeps['store'];

  constructor(deps: BatchServiceDeps) {
    this.#deps = deps;
    this.#store = deps.store;
  }

  async submitJob(request: JobSubmitRequest, options: WriteOptions = {}): Promise<JobSubmitResult> {
    this.#member();
    const job = buildSubmittedJob(request);
    checkUnitFits(job.spec, nodeViews(this.#store.state.state()));
    const result = await this.#store.propose(
      {
        type: 'job.submit',
        name: job.name,
        owner: request.owner,
        namespace: job.namespace,
        priority: job.priority,
        beginAt: request.beginAt ?? 0,
        dependencies: job.dependencies,
        spec: job.spec,
        specHash: job.specHash,
      },
      options,
    );
    if (result.jobId === undefined)
      throw new ApiError(500, 'internal', 'job submit: the cluster did not return a job id');
    return { jobId: result.jobId };
  }

  async queue(options: ReadOptions & { all?: boolean; owner?: string } = {}): Promise<QueueRow[]> {
    await this.#maybeRead(options);
    return queueRows(this.#store.state.state(), Date.now(), options);
  }

  async cancelJobs(jobIds: readonly string[], options: WriteOptions = {}): Promise<{ cancelled: string[] }> {
    await this.#read(options.signal);
    const jobs = jobIds.map((id) => this.#job(id));
    const open = jobs.filter((j) => !isJobEnded(j.state)).map((j) => j.id);
    if (open.length > 0)
      await this.#store.propose({ type: 'job.cancel', jobIds: open, reason: 'cancelled by the user' }, options);
    return { cancelled: open };
  }

  async history(options: ReadOptions & { jobId?: string; owner?: string; limit?: number } = {}): Promise<HistoryRow[]> {
    await this.#maybeRead(options);
    if (options.jobId !== undefined) this.#job(options.jobId);
    return historyRows(this.#store.state.state(), options);
  }

  async inspectJob(jobId: string, options: ReadOptions = {}): Promise<JobInspectView> {
    await this.#maybeRead(options);
    const job = this.#job(jobId);
    const state = this.#store.state.state();
    const row = queueRows(state, Date.now(), { all: true, jobIds: new Set([job.id]) })[0]!;
    return {
      job: { ...row, endedAt: job.endedAt, exitCode: job.exitCode },
      runs: historyRows(state, { jobId: job.id }).filter((r) => r.id !== job.id),
      spec: state.services[job.serviceId]?.spec ?? null,
    };
  }

  async *jobLogs(request: JobLogsRequest, options: { signal?: AbortSignal } = {}): AsyncIterable<LogLine> {
    await this.#read(options.signal);
    const job = this.#job(request.jobId);
    const service = this.#store.state.service(job.serviceId);
    if (!service) return;
    const tasks = this.#store.state
      .tasksOfService(service.id)
      .filter((t) => t.job?.jobId === job.id && (request.index === undefined || t.job.index === request.index))
      .filter((t) => t.nodeId !== null && t.containerId !== null);
    const logsRequest = {
      service: service.id,
      follow: request.follow ?? false,
      ...(request.tail === undefined ? {} : { tail: request.tail }),
    };
    // One unit after the other: a job's output reads best in index order.
    for (const task of [...tasks].sort((a, b) => a.job!.index - b.job!.index || a.createdAt - b.createdAt)) {
      try {
        yield* this.#deps.taskLogs(task, service, logsRequest, options.signal);
      } catch {
        // that unit's node or process output is gone; the others still stream
      }
    }
  }

  async listQuotas(options: ReadOptions = {}): Promise<QuotaView[]> {
    await this.#maybeRead(options);
    return quotaViews(this.#store.state.state(), Date.now());
  }

  async setQuota(
    namespace: string,
    request: QuotaSetRequest | null,
    options: WriteOptions = {},
  ): Promise<QuotaView | null> {
    await this.#read(options.signal);
    if (request === null) {
      await this.#store.propose({ type: 'quota.set', namespace, quota: null }, options);
      return null;
    }
    const quota: Record<string, number> = {};
    if (request.cpus !== undefined) quota.cpus = Math.round(request.cpus * 1000);
    if (request.gpus !== undefined) quota.gpus = request.gpus;
    if (request.runningJobs !== undefined) quota.runningJobs = request.runningJobs;
    if (request.memory !== undefined) {
      try {
        quota.memoryBytes = parseBytes(request.memory);
      } catch (error) {
        throw new ApiError(400, 'bad_request', `--mem: ${(error as Error).message}`);
      }
    }
    if (Object.keys(quota).length === 0)
      throw new ApiError(400, 'bad_request', 'quota set: give at least one of --cpus, --mem, --gpus, --jobs');
    await this.#store.propose({ type: 'quota.set', namespace, quota }, options);
    return quotaViews(this.#store.state.state(), Date.now()).find((q) => q.namespace === namespace) ?? null;
  }

  #job(id: string): JobRecord {
    const jobId = id.split('_')[0]!; // `17_3` names job 17's index 3
    const job = Object.hasOwn(this.#store.state.state().jobs, jobId)
      ? this.#store.state.state().jobs[jobId]
      : undefined;
    if (!job)
      throw new ApiError(404, 'not_found', `No job ${id}: \`shoal queue --all\` and \`shoal job history\` list them`);
    return job;
  }

  #member(): void {
    this.#store.requireJoined();
  }

  async #maybeRead(options: ReadOptions): Promise<void> {
    this.#member();
    if (options.consistency !== 'stale') await this.#read(options.signal);
  }

  async #read(signal?: AbortSignal): Promise<void> {
    await this.#store.read(signal);
  }
}
