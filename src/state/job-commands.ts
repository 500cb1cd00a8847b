/**
 * The batch commands: submitting, starting, cancelling and collecting jobs, the job
 * controller's state changes, preemption, quotas and cron marks; their types and payload checks.
 * @module
 */
import type { NamespaceQuota } from '../scheduler/queue/types.js';
import type { ServiceSpec } from '../stack/spec.js';
import { at, fail, integer, list, object, unique } from './check.js';
import type { CommandBase } from './commands.js';
import {
  checkDependencies,
  checkJobId,
  checkJobName,
  checkNamespace,
  checkOwner,
  checkPriority,
  checkQuota,
} from './job-checks.js';
import { JOB_STATES, type JobDependency, type JobState } from './jobs.js';
import { checkTime } from './model.js';
import {
  MAX_BATCH,
  checkExitCode,
  checkServiceId,
  checkServiceSpec,
  checkSpecHash,
  checkTaskId,
  checkTaskMessage,
} from './workload-checks.js';
import { oneOf } from './check.js';

/** `shoal job submit`: a job with its own spec (service `job_<id>`); apply hands out the id. */
export interface JobSubmitCommand extends CommandBase {
  readonly type: 'job.submit';
  readonly name: string;
  readonly owner: string;
  readonly namespace: string;
  readonly priority: number;
  /** Not before this time; 0 = at once. */
  readonly beginAt: number;
  readonly dependencies: readonly JobDependency[];
  /** A `job`-kind spec (built by the API from the command line, through the Compose parser). */
  readonly spec: ServiceSpec;
  readonly specHash: string;
}

/** Start a run of a stack's job or cron service (cron: for the schedule time `scheduledAt`). */
export interface JobStartCommand extends CommandBase {
  readonly type: 'job.start';
  readonly serviceId: string;
  /** The cron schedule time this run is for; null for a run on demand. A time already handled is ignored. */
  readonly scheduledAt: number | null;
}

/** Mark a cron schedule time as handled without a run (missed, or forbidden by the concurrency policy). */
export interface CronSkipCommand extends CommandBase {
  readonly type: 'cron.skip';
  readonly serviceId: string;
  readonly scheduledAt: number;
}

export interface JobCancelCommand extends CommandBase {
  readonly type: 'job.cancel';
  readonly jobIds: readonly string[];
  readonly reason: string;
}

/** The job controller's view of a job's progress. Ignored for a job that has ended already. */
export interface JobUpdate {
  readonly jobId: string;
  readonly state: JobState;
  readonly reason: string;
  readonly exitCode: number | null;
  readonly succeeded: number;
  readonly failed: number;
}

export interface JobUpdateCommand extends CommandBase {
  readonly type: 'job.update';
  readonly updates: readonly JobUpdate[];
}

/** Forget ended jobs, their tasks, and a submitted job's service. */
export interface JobRemoveCommand extends CommandBase {
  readonly type: 'job.remove';
  readonly jobIds: readonly string[];
}

/** The task a victim is stopped for, as its stop reason names it. */
export interface PreemptedBy {
  readonly taskId: string;
  /** Its job; null for a service task. */
  readonly jobId: string | null;
  /** Its effective priority when it preempted. */
  readonly priority: number;
}

/** Stop running tasks so that higher-priority work can start; their units are requeued. */
export interface TaskPreemptCommand extends CommandBase {
  readonly type: 'task.preempt';
  readonly taskIds: readonly string[];
  /** For each of `taskIds` (same order), the task it is stopped for. Absent in older commands. */
  readonly by?: readonly PreemptedBy[];
}

/** Set (or with `quota: null`, remove) a namespace's quota. */
export interface QuotaSetCommand extends CommandBase {
  readonly type: 'quota.set';
  readonly namespace: string;
  readonly quota: NamespaceQuota | null;
}

export type JobCommand =
  | JobSubmitCommand
  | JobStartCommand
  | CronSkipCommand
  | JobCancelCommand
  | JobUpdateCommand
  | JobRemoveCommand
  | TaskPreemptCommand
  | QuotaSetCommand;

interface PayloadCheck {
  readonly fields: readonly string[];
  readonly optional?: readonly string[];
  readonly check: (c: Record<string, unknown>) => object;
}

function ids<T>(v: unknown, path: string, item: (x: unknown, p: string) => T & string): string[] {
  const out = list(v, path, MAX_BATCH, item);
  if (out.length === 0) fail(path, 'must not be empty');
  unique(out, path, (x) => x, 'id');
  return out;
}

function checkPreemptedBy(v: unknown, path: string): PreemptedBy {
  const b = object(v, path, ['taskId', 'jobId', 'priority']);
  return {
    taskId: checkTaskId(b.taskId, at(path, 'taskId')),
    jobId: b.jobId === null ? null : checkJobId(b.jobId, at(path, 'jobId')),
    priority: checkPriority(b.priority, at(path, 'priority')),
  };
}

function checkUpdate(v: unknown, path: string): JobUpdate {
  const u = object(v, path, ['jobId', 'state', 'reason', 'exitCode', 'succeeded', 'failed']);
  return {
    jobId: checkJobId(u.jobId, at(path, 'jobId')),
    state: oneOf(u.state, at(path, 'state'), JOB_STATES),
    reason: checkTaskMessage(u.reason, at(path, 'reason')),
    exitCode: checkExitCode(u.exitCode, at(path, 'exitCode')),
    succeeded: integer(u.succeeded, at(path, 'succeeded'), 0),
    failed: integer(u.failed, at(path, 'failed'), 0),
  };
}

/** Payload checks of the batch commands, merged into `validateCommand`'s table. */
export const JOB_PAYLOADS: { readonly [T in JobCommand['type']]: PayloadCheck } = {
  'job.submit': {
    fields: ['name', 'owner', 'namespace', 'priority', 'beginAt', 'dependencies', 'spec', 'specHash'],
    check: (c) => {
      const spec = checkServiceSpec(c.spec, 'spec');
      if (spec.kind !== 'job') fail('spec.kind', `expected "job", got "${spec.kind}"`);
      return {
        name: checkJobName(c.name, 'name'),
        owner: checkOwner(c.owner, 'owner'),
        namespace: checkNamespace(c.namespace, 'namespace'),
        priority: checkPriority(c.priority, 'priority'),
        beginAt: checkTime(c.beginAt, 'beginAt'),
        dependencies: checkDependencies(c.dependencies, 'dependencies'),
        spec,
        specHash: checkSpecHash(c.specHash, 'specHash'),
      };
    },
  },
  'job.start': {
    fields: ['serviceId', 'scheduledAt'],
    check: (c) => ({
      serviceId: checkServiceId(c.serviceId, 'serviceId'),
      scheduledAt: c.scheduledAt === null ? null : checkTime(c.scheduledAt, 'scheduledAt'),
    }),
  },
  'cron.skip': {
    fields: ['serviceId', 'scheduledAt'],
    check: (c) => ({
      serviceId: checkServiceId(c.serviceId, 'serviceId'),
      scheduledAt: checkTime(c.scheduledAt, 'scheduledAt'),
    }),
  },
  'job.cancel': {
    fields: ['jobIds', 'reason'],
    check: (c) => ({ jobIds: ids(c.jobIds, 'jobIds', checkJobId), reason: checkTaskMessage(c.reason, 'reason') }),
  },
  'job.update': {
    fields: ['updates'],
    check: (c) => {
      const updates = list(c.updates, 'updates', MAX_BATCH, checkUpdate);
      if (updates.length === 0) fail('updates', 'must not be empty');
      unique(updates, 'updates', (u) => u.jobId, 'job id');
      return { updates };
    },
  },
  'job.remove': { fields: ['jobIds'], check: (c) => ({ jobIds: ids(c.jobIds, 'jobIds', checkJobId) }) },
  'task.preempt': {
    fields: ['taskIds'],
    optional: ['by'],
    check: (c) => {
      const taskIds = ids(c.taskIds, 'taskIds', checkTaskId);
      if (c.by === undefined) return { taskIds };
      const by = list(c.by, 'by', MAX_BATCH, checkPreemptedBy);
      if (by.length !== taskIds.length)
        fail('by', `expected one entry per task id (${taskIds.length}), got ${by.length}`);
      return { taskIds, by };
    },
  },
  'quota.set': {
    fields: ['namespace', 'quota'],
    check: (c) => ({
      namespace: checkNamespace(c.namespace, 'namespace'),
      quota: c.quota === null ? null : checkQuota(c.quota, 'quota'),
    }),
  },
};
