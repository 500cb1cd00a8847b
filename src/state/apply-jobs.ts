/**
 * Applying the batch commands, and the batch side effects of the workload commands (a job
 * service's deploy starts a run; a task's end is charged to its namespace's fair-share usage).
 * Same rules as `apply.ts`: pure, no clock, refusals decided before anything is kept.
 * @module
 * @private
 */
import type { ApplyOutcome } from './apply.js';
import type {
  JobCancelCommand,
  JobCommand,
  JobRemoveCommand,
  JobStartCommand,
  JobSubmitCommand,
  JobUpdateCommand,
  QuotaSetCommand,
  PreemptedBy,
  TaskPreemptCommand,
} from './job-commands.js';
import {
  DEFAULT_FAIR_SHARE_HALF_LIFE_MS,
  SUBMITTED_JOB_STACK,
  decayedUsage,
  isJobEnded,
  submittedJobServiceId,
  type JobDependency,
  type JobRecord,
  type UsageRecord,
} from './jobs.js';
import type { IndexedState } from './indexed-state.js';
import { sortedById } from './queries.js';
import { RecordEdit } from './record-edit.js';
import { TaskEdit } from './task-table.js';
import { isTerminal, type ServiceRecord, type TaskRecord } from './workloads.js';

/** Apply a batch command to an initialized cluster's state. */
export function applyJobCommand(state: IndexedState, command: JobCommand): ApplyOutcome {
  switch (command.type) {
    case 'job.submit':
      return submit(state, command);
    case 'job.start':
      return start(state, command);
    case 'cron.skip': {
      const mark = lookup(state.cronMarks, command.serviceId);
      if (mark !== undefined && mark >= command.scheduledAt) return ok(state);
      return ok({ ...state, cronMarks: { ...state.cronMarks, [command.serviceId]: command.scheduledAt } });
    }
    case 'job.cancel':
      return cancel(state, command);
    case 'job.update':
      return update(state, command);
    case 'job.remove':
      return remove(state, command);
    case 'task.preempt':
      return preempt(state, command);
    case 'quota.set':
      return setQuota(state, command);
  }
}

function submit(state: IndexedState, command: JobSubmitCommand): ApplyOutcome {
  for (const dep of command.dependencies) {
    if (!Object.hasOwn(state.jobs, dep.jobId))
      return refuse(
        command,
        `dependency ${dep.type}:${dep.jobId}: job ${dep.jobId} does not exist (see \`shoal queue\`)`,
      );
  }
  const id = String(state.counters.job + 1);
  const serviceId = submittedJobServiceId(id);
  const service: ServiceRecord = {
    id: serviceId,
    stack: SUBMITTED_JOB_STACK,
    name: id,
    spec: { ...command.spec, name: id },
    specHash: command.specHash,
    version: 1,
    replicas: 0,
    createdAt: command.at,
    updatedAt: command.at,
  };
  const job = newJob(id, service, {
    name: command.name,
    owner: command.owner,
    namespace: command.namespace,
    priority: command.priority,
    beginAt: Math.max(command.beginAt, command.at),
    scheduledAt: null,
    dependencies: sortDependencies(command.dependencies),
    at: command.at,
  });
  return ok({
    ...state,
    services: { ...state.services, [serviceId]: service },
    jobs: { ...state.jobs, [id]: job },
    counters: { ...state.counters, job: state.counters.job + 1 },
  });
}

function start(state: IndexedState, command: JobStartCommand): ApplyOutcome {
  const service = lookup(state.services, command.serviceId);
  if (service === undefined) return refuse(command, `service ${command.serviceId} does not exist`);
  if (service.spec.kind !== 'job' && service.spec.kind !== 'cron')
    return refuse(
      command,
      `service ${service.id} is a ${service.spec.kind} service: only job and cron services run jobs`,
    );
  let cronMarks = state.cronMarks;
  if (command.scheduledAt !== null) {
    const mark = lookup(state.cronMarks, service.id);
    if (mark !== undefined && mark >= command.scheduledAt) return ok(state); // handled already
    cronMarks = { ...state.cronMarks, [service.id]: command.scheduledAt };
  }
  const jobs = new RecordEdit(state.jobs);
  const counters = { ...state.counters };
  const id = startServiceJob(state, jobs, counters, service, command.at, command.scheduledAt);
  resolveServiceDependencies(state, jobs, service, id);
  return ok({ ...state, jobs: jobs.result(), counters, cronMarks });
}

/**
 * Create a run of a stack's job service: its dependencies resolve to the latest run of each
 * named service. Used by `job.start` and by `stack.deploy` for new or changed job services.
 */
export function startServiceJob(
  state: IndexedState,
  jobs: RecordEdit<JobRecord>,
  counters: { job: number },
  service: ServiceRecord,
  at: number,
  scheduledAt: number | null,
): string {
  const id = String(++counters.job);
  jobs.set(
    id,
    newJob(id, service, {
      name: service.name,
      owner: service.spec.scheduling.owner ?? service.spec.scheduling.namespace,
      namespace: service.spec.scheduling.namespace,
      priority: service.spec.scheduling.priority,
      beginAt: at,
      scheduledAt,
      dependencies: [],
      at,
    }),
  );
  return id;
}

/**
 * Resolve a stack job run's dependencies to the latest run of each named service. Called once all
 * runs of a command exist, so a pipeline deployed at once links up whatever the services' order.
 * A dependency on a service that never ran is left out.
 */
export function resolveServiceDependencies(
  state: IndexedState,
  jobs: RecordEdit<JobRecord>,
  service: ServiceRecord,
  jobId: string,
): void {
  const job = jobs.get(jobId)!;
  const dependencies: JobDependency[] = [];
  for (const dep of service.spec.job?.dependencies ?? []) {
    const target = dep.job.includes('/') ? dep.job.replace('/', '_') : `${service.stack}_${dep.job}`;
    const latest = latestJobOf(state, jobs, target);
    if (latest !== undefined) dependencies.push({ type: dep.type, jobId: latest });
  }
  if (dependencies.length > 0) jobs.set(jobId, { ...job, dependencies: sortDependencies(dependencies) });
}

function latestJobOf(state: IndexedState, jobs: RecordEdit<JobRecord>, serviceId: string): string | undefined {
  let best: number | undefined;
  for (const job of Object.values(state.jobs)) {
    if (job.serviceId === serviceId && (best === undefined || Number(job.id) > best)) best = Number(job.id);
  }
  // Runs created earlier in the same command (a stack deploying a pipeline at once): their ids
  // follow the state's counter. Not from `best + 1`: collected jobs leave gaps below the counter.
  for (let n = state.counters.job + 1; jobs.has(String(n)); n++) {
    if (jobs.get(String(n))!.serviceId === serviceId) best = n;
  }
  return best === undefined ? undefined : String(best);
}

interface JobFields {
  readonly name: string;
  readonly owner: string;
  readonly namespace: string;
  readonly priority: number;
  readonly beginAt: number;
  readonly scheduledAt: number | null;
  readonly dependencies: readonly JobDependency[];
  readonly at: number;
}

function newJob(id: string, service: ServiceRecord, f: JobFields): JobRecord {
  const job = service.spec.job;
  return {
    id,
    name: f.name,
    serviceId: service.id,
    serviceVersion: service.version,
    owner: f.owner,
    namespace: f.namespace,
    priority: f.priority,
    submittedAt: f.at,
    beginAt: f.beginAt,
    scheduledAt: f.scheduledAt,
    dependencies: f.dependencies,
    units: job === null ? 1 : (job.array?.count ?? job.completions),
    state: 'PENDING',
    reason: '',
    startedAt: null,
    endedAt: null,
    exitCode: null,
    succeeded: 0,
    failed: 0,
  };
}

function sortDependencies(deps: readonly JobDependency[]): JobDependency[] {
  return [...deps].sort((a, b) => (a.type !== b.type ? (a.type < b.type ? -1 : 1) : Number(a.jobId) - Number(b.jobId)));
}

function cancel(state: IndexedState, command: JobCancelCommand): ApplyOutcome {
  for (const id of command.jobIds) {
    if (!Object.hasOwn(state.jobs, id)) return refuse(command, `job ${id} does not exist (see \`shoal queue\`)`);
  }
  const jobs = new RecordEdit(state.jobs);
  const tasks = new TaskEdit(state.tasks);
  for (const id of command.jobIds) cancelJob(state, jobs, tasks, id, command.reason, command.at);
  if (!jobs.changed && !tasks.changed) return ok(state);
  return ok({ ...state, jobs: jobs.result(), tasks: tasks.result() });
}

/** End a job as CANCELLED and ask its unfinished tasks to stop (their outcome says why). */
export function cancelJob(
  state: IndexedState,
  jobs: RecordEdit<JobRecord>,
  tasks: TaskEdit,
  jobId: string,
  reason: string,
  at: number,
): void {
  const job = jobs.get(jobId);
  if (job === undefined || isJobEnded(job.state)) return;
  jobs.set(jobId, { ...job, state: 'CANCELLED', reason, endedAt: at });
  for (const task of sortedById(state.tasks.ofJob(jobId))) {
    if (isTerminal(task.state)) continue;
    tasks.set(task.id, stopTask(tasks.get(task.id) ?? task, 'CANCELLED', at));
  }
}

/**
 * Ask a task to stop, saying why. A task never assigned (`new`, `pending`) has no container and no
 * runtime that would report it stopped, so it ends here and now; otherwise it would wait for
 * ever, and its job could never be collected.
 */
function stopTask(task: TaskRecord, outcome: 'CANCELLED' | 'PREEMPTED', at: number, reason?: string): TaskRecord {
  const stopping: TaskRecord = {
    ...task,
    desiredState: 'shutdown',
    outcome,
    updatedAt: at,
    ...(reason === undefined ? {} : { stopReason: reason }),
  };
  if (task.state !== 'new' && task.state !== 'pending') return stopping;
  return { ...stopping, state: 'shutdown', message: reason ?? 'stopped before it was scheduled', endedAt: at };
}

/** `preempted by job 17 (priority 500)`, or `by task <id>` for a service task. */
function preemptedMessage(by: PreemptedBy): string {
  const who = by.jobId === null ? `task ${by.taskId}` : `job ${by.jobId}`;
  return `preempted by ${who} (priority ${by.priority})`;
}

function update(state: IndexedState, command: JobUpdateCommand): ApplyOutcome {
  const jobs = new RecordEdit(state.jobs);
  for (const u of command.updates) {
    const job = jobs.get(u.jobId);
    // Once ended, a job's outcome is final: a duplicate or late update is ignored.
    if (job === undefined || isJobEnded(job.state)) continue;
    if (u.state === 'PENDING' && job.state === 'RUNNING') continue; // never backwards
    const span = runSpan(state, job);
    const startedAt = job.startedAt ?? (u.state === 'PENDING' ? null : (span.start ?? command.at));
    const next: JobRecord = {
      ...job,
      state: u.state,
      reason: u.reason,
      exitCode: u.exitCode,
      succeeded: u.succeeded,
      failed: u.failed,
      startedAt,
      endedAt: isJobEnded(u.state) ? Math.max(startedAt ?? 0, span.end ?? command.at) : null,
    };
    if (
      next.state !== job.state ||
      next.reason !== job.reason ||
      next.exitCode !== job.exitCode ||
      next.succeeded !== job.succeeded ||
      next.failed !== job.failed
    )
      jobs.set(job.id, next);
  }
  return jobs.changed ? ok({ ...state, jobs: jobs.result() }) : ok(state);
}

/**
 * When a job's tasks first started and last ended. The controller notices a change a pass later
 * (and a short unit may start and end between two passes), so the job's times come from its
 * tasks, as Slurm's come from the allocation, not from when the update was proposed.
 */
function runSpan(state: IndexedState, job: JobRecord): { start: number | undefined; end: number | undefined } {
  let start: number | undefined;
  let end: number | undefined;
  for (const task of state.tasks.ofJob(job.id)) {
    if (task.startedAt !== undefined && (start === undefined || task.startedAt < start)) start = task.startedAt;
    if (task.endedAt !== undefined && (end === undefined || task.endedAt > end)) end = task.endedAt;
  }
  return { start, end };
}

function remove(state: IndexedState, command: JobRemoveCommand): ApplyOutcome {
  const jobs = new RecordEdit(state.jobs);
  const tasks = new TaskEdit(state.tasks);
  const services = new RecordEdit(state.services);
  for (const id of command.jobIds) {
    const job = jobs.get(id);
    if (job === undefined || !isJobEnded(job.state)) continue;
    const live = sortedById(state.tasks.ofJob(id)).filter((t) => t.serviceId === job.serviceId);
    if (live.some((t) => !isTerminal(t.state))) continue; // its tasks are still stopping
    for (const t of live) tasks.delete(t.id);
    jobs.delete(id);
    if (job.serviceId === submittedJobServiceId(id)) services.delete(job.serviceId);
  }
  if (!jobs.changed) return ok(state);
  return ok({ ...state, jobs: jobs.result(), tasks: tasks.result(), services: services.result() });
}

function preempt(state: IndexedState, command: TaskPreemptCommand): ApplyOutcome {
  const tasks = new TaskEdit(state.tasks);
  command.taskIds.forEach((id, i) => {
    const task = tasks.get(id);
    if (task === undefined || isTerminal(task.state) || task.desiredState === 'shutdown') return;
    const by = command.by?.[i];
    tasks.set(id, stopTask(task, 'PREEMPTED', command.at, by === undefined ? undefined : preemptedMessage(by)));
  });
  return tasks.changed ? ok({ ...state, tasks: tasks.result() }) : ok(state);
}

function setQuota(state: IndexedState, command: QuotaSetCommand): ApplyOutcome {
  if (command.quota === null) {
    if (!Object.hasOwn(state.quotas, command.namespace)) return ok(state);
    const { [command.namespace]: _gone, ...quotas } = state.quotas;
    return ok({ ...state, quotas });
  }
  return ok({ ...state, quotas: { ...state.quotas, [command.namespace]: command.quota } });
}

/**
 * Charge an ended job task's reserved CPU × run time to its namespace (fair share). Tasks that
 * reserve no CPU count as one CPU, as Slurm allocates at least one.
 */
export function chargeUsage(
  state: IndexedState,
  usage: Record<string, UsageRecord>,
  task: TaskRecord,
  at: number,
): void {
  if (task.job === undefined || task.startedAt === undefined) return;
  const job = lookup(state.jobs, task.job.jobId);
  const service = lookup(state.services, task.serviceId);
  if (job === undefined) return;
  const millicores = service?.spec.deploy.resources.reservations.cpuMillis || 1000;
  const cpuMs = (millicores / 1000) * Math.max(0, at - task.startedAt);
  const previous = decayedUsage(usage[job.namespace], at, DEFAULT_FAIR_SHARE_HALF_LIFE_MS);
  usage[job.namespace] = { value: previous + cpuMs, at };
}

function lookup<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function ok(state: IndexedState): ApplyOutcome {
  return { ok: true, state };
}

function refuse(command: JobCommand, reason: string): ApplyOutcome {
  return { ok: false, error: `${command.type}: ${reason}` };
}
