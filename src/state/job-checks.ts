/**
 * Checks of the batch records (jobs, quotas, usage, task job links), shared by the job commands
 * and snapshot validation.
 * @module
 * @private
 */
import type { NamespaceQuota } from '../scheduler/queue/types.js';
import { at, fail, integer, list, object, oneOf, string, unique } from './check.js';
import { checkTime } from './model.js';
import {
  JOB_STATES,
  TASK_OUTCOMES,
  type JobDependency,
  type JobRecord,
  type TaskJobRef,
  type TaskOutcome,
  type TaskUsage,
  type UsageRecord,
} from './jobs.js';
import { checkExitCode, checkServiceId, checkTaskMessage } from './workload-checks.js';

/** Job ids are decimal numbers from the job counter. */
export const checkJobId = (v: unknown, path: string): string =>
  string(v, path, { pattern: /^[1-9][0-9]{0,15}$/, shape: 'a job id (a decimal number such as 17)' });
/** Namespaces name fair-share accounts: lowercase letters, digits and dashes. */
export const checkNamespace = (v: unknown, path: string): string =>
  string(v, path, {
    pattern: /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    shape: 'a namespace (lowercase letters, digits and dashes; at most 63)',
  });
export const checkJobName = (v: unknown, path: string): string =>
  string(v, path, {
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
    shape: 'a job name (letters, digits, "_", ".", "-"; at most 63)',
  });
export const checkOwner = (v: unknown, path: string): string =>
  string(v, path, { pattern: /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,62}$/, shape: 'a user name' });
export const checkPriority = (v: unknown, path: string): number => integer(v, path, 0, 1000);
export const checkOutcome = (v: unknown, path: string): TaskOutcome => oneOf(v, path, TASK_OUTCOMES);

export function checkDependencies(v: unknown, path: string): JobDependency[] {
  const deps = list(v, path, 100, (d, p) => {
    const o = object(d, p, ['type', 'jobId']);
    return {
      type: oneOf(o.type, at(p, 'type'), ['afterok', 'afterany', 'afternotok'] as const),
      jobId: checkJobId(o.jobId, at(p, 'jobId')),
    };
  });
  unique(deps, path, (d) => `${d.type}:${d.jobId}`, 'dependency');
  return deps;
}

export function checkTaskJobRef(v: unknown, path: string): TaskJobRef {
  const j = object(v, path, ['jobId', 'index', 'attempt', 'requeues']);
  return {
    jobId: checkJobId(j.jobId, at(path, 'jobId')),
    index: integer(j.index, at(path, 'index'), 0, 10_000_000),
    attempt: integer(j.attempt, at(path, 'attempt'), 0, 1_000_000),
    requeues: integer(j.requeues, at(path, 'requeues'), 0, 1_000_000),
  };
}

export function checkUsage(v: unknown, path: string): TaskUsage {
  const u = object(v, path, ['cpuMs', 'peakMemoryBytes']);
  return {
    cpuMs: integer(u.cpuMs, at(path, 'cpuMs'), 0),
    peakMemoryBytes: integer(u.peakMemoryBytes, at(path, 'peakMemoryBytes'), 0),
  };
}

const QUOTA_FIELDS = ['cpus', 'memoryBytes', 'gpus', 'runningJobs'] as const;

export function checkQuota(v: unknown, path: string): NamespaceQuota {
  const q = object(v, path, QUOTA_FIELDS, []);
  const out: Record<string, number> = {};
  for (const key of QUOTA_FIELDS) {
    if (q[key] !== undefined) out[key] = integer(q[key], at(path, key), 0);
  }
  return out;
}

export function checkUsageRecord(v: unknown, path: string): UsageRecord {
  const u = object(v, path, ['value', 'at']);
  if (typeof u.value !== 'number' || !Number.isFinite(u.value) || u.value < 0)
    fail(at(path, 'value'), `expected a finite number >= 0, got ${String(u.value)}`);
  return { value: u.value, at: checkTime(u.at, at(path, 'at')) };
}

const JOB_FIELDS = [
  'id',
  'name',
  'serviceId',
  'serviceVersion',
  'owner',
  'namespace',
  'priority',
  'submittedAt',
  'beginAt',
  'scheduledAt',
  'dependencies',
  'units',
  'state',
  'reason',
  'startedAt',
  'endedAt',
  'exitCode',
  'succeeded',
  'failed',
] as const;

const timeOrNull = (v: unknown, path: string): number | null => (v === null ? null : checkTime(v, path));

export function checkJob(v: unknown, path: string): JobRecord {
  const j = object(v, path, JOB_FIELDS);
  return {
    id: checkJobId(j.id, at(path, 'id')),
    name: checkJobName(j.name, at(path, 'name')),
    serviceId: checkServiceId(j.serviceId, at(path, 'serviceId')),
    serviceVersion: integer(j.serviceVersion, at(path, 'serviceVersion'), 1),
    owner: checkOwner(j.owner, at(path, 'owner')),
    namespace: checkNamespace(j.namespace, at(path, 'namespace')),
    priority: checkPriority(j.priority, at(path, 'priority')),
    submittedAt: checkTime(j.submittedAt, at(path, 'submittedAt')),
    beginAt: checkTime(j.beginAt, at(path, 'beginAt')),
    scheduledAt: timeOrNull(j.scheduledAt, at(path, 'scheduledAt')),
    dependencies: checkDependencies(j.dependencies, at(path, 'dependencies')),
    units: integer(j.units, at(path, 'units'), 1, 10_000_000),
    state: oneOf(j.state, at(path, 'state'), JOB_STATES),
    reason: checkTaskMessage(j.reason, at(path, 'reason')),
    startedAt: timeOrNull(j.startedAt, at(path, 'startedAt')),
    endedAt: timeOrNull(j.endedAt, at(path, 'endedAt')),
    exitCode: checkExitCode(j.exitCode, at(path, 'exitCode')),
    succeeded: integer(j.succeeded, at(path, 'succeeded'), 0),
    failed: integer(j.failed, at(path, 'failed'), 0),
  };
}
