/**
 * Snapshot validation of the workload part of the state: every record checked field by field,
 * and the links between them (stack ↔ services, ids ↔ keys, generations ↔ the counter), so a
 * restored state is one apply could have produced.
 * @module
 * @private
 */
import { at, fail, integer, isPlainObject, list, map, object, show, unique } from './check.js';
import { checkPeerId, checkTime, type ClusterCounters } from './model.js';
import {
  checkContainerId,
  checkDesiredState,
  checkExitCode,
  checkGpuIds,
  checkReplicas,
  checkServiceId,
  checkServiceName,
  checkServiceSpec,
  checkSpecHash,
  checkStackName,
  checkTaskId,
  checkTaskMessage,
  checkTaskState,
  serviceId,
} from './workload-checks.js';
import { checkOutcome, checkTaskJobRef, checkUsage } from './job-checks.js';
import { SUBMITTED_JOB_STACK } from './jobs.js';
import { checkHistory, checkRolloutStatus } from './rollout.js';
import { checkAutoscaleStatus } from './autoscale-commands.js';
import { checkSealedRegistryAuth } from './registry-auth.js';
import type { ServiceRecord, StackRecord, TaskRecord } from './workloads.js';
import { isServiceVip } from './service-vips.js';

const MAX_RECORDS = 1_000_000;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The workload maps and counters of a snapshot's state object `s`, checked. */
export function checkWorkloads(
  s: Record<string, unknown>,
  path: string,
): {
  stacks: Record<string, StackRecord>;
  services: Record<string, ServiceRecord>;
  /** Sorted by id (a snapshot's task map, checked, as a list: the caller files it as it needs). */
  tasks: TaskRecord[];
  counters: ClusterCounters;
} {
  const stacks = map(s.stacks, at(path, 'stacks'), MAX_RECORDS, checkStackName, checkStack);
  const services = map(s.services, at(path, 'services'), MAX_RECORDS, checkServiceId, checkService);
  const c = object(s.counters, at(path, 'counters'), ['assignment', 'job']);
  const counters = {
    assignment: integer(c.assignment, at(at(path, 'counters'), 'assignment'), 0),
    job: integer(c.job, at(at(path, 'counters'), 'job'), 0),
  };
  const tasks = checkTasks(s.tasks, at(path, 'tasks'), counters.assignment);

  for (const [name, stack] of Object.entries(stacks)) {
    const where = at(at(path, 'stacks'), name);
    if (stack.name !== name)
      fail(at(where, 'name'), `does not match the key it is filed under, got ${show(stack.name)}`);
    stack.services.forEach((id, i) => {
      if (services[id]?.stack !== name)
        fail(at(at(where, 'services'), i), `service ${show(id)} is not a service of this stack`);
    });
  }
  const vipHolders = new Map<string, string>();
  for (const [id, service] of Object.entries(services)) {
    const where = at(at(path, 'services'), id);
    if (service.id !== id) fail(at(where, 'id'), `does not match the key it is filed under, got ${show(service.id)}`);
    if (serviceId(service.stack, service.name) !== id)
      fail(where, `id, stack and name disagree: expected id ${show(serviceId(service.stack, service.name))}`);
    if (service.stack !== SUBMITTED_JOB_STACK && !stacks[service.stack]?.services.includes(id))
      fail(at(where, 'stack'), `stack ${show(service.stack)} does not list it`);
    const holder = service.vip === undefined ? undefined : vipHolders.get(service.vip);
    if (holder !== undefined)
      fail(at(where, 'vip'), `${show(service.vip)} is the address of service ${show(holder)} too`);
    if (service.vip !== undefined) vipHolders.set(service.vip, id);
  }
  return { stacks, services, tasks, counters };
}

/**
 * The task map, as a list sorted by id: like `map` with each task's id and generation checked against its key and the
 * counter in the same pass (the largest part of a snapshot: one walk, no list of entries).
 */
function checkTasks(v: unknown, path: string, assignments: number): TaskRecord[] {
  if (!isPlainObject(v)) fail(path, `expected an object, got ${show(v)}`);
  const keys = Object.keys(v);
  if (keys.length > MAX_RECORDS) fail(path, `expected at most ${MAX_RECORDS} entries, got ${keys.length}`);
  const out: TaskRecord[] = [];
  for (const id of keys.sort()) {
    const where = at(path, id);
    // Assignment of "__proto__" would set the prototype instead of a key.
    if (id === '__proto__') fail(where, 'is not allowed as a key');
    checkTaskId(id, where);
    const task = checkTask(v[id], where);
    if (task.id !== id) fail(at(where, 'id'), `does not match the key it is filed under, got ${show(task.id)}`);
    if (task.generation > assignments)
      fail(at(where, 'generation'), `is above the assignment counter (${assignments}), got ${task.generation}`);
    out.push(task);
  }
  return out;
}

function checkStack(v: unknown, path: string): StackRecord {
  const s = object(v, path, ['name', 'services', 'createdAt', 'updatedAt']);
  const services = list(s.services, at(path, 'services'), 1000, checkServiceId);
  unique(services, at(path, 'services'), (id) => id, 'service');
  if (services.some((id, i) => i > 0 && services[i - 1]! > id)) fail(at(path, 'services'), 'expected sorted ids');
  return {
    name: checkStackName(s.name, at(path, 'name')),
    services,
    createdAt: checkTime(s.createdAt, at(path, 'createdAt')),
    updatedAt: checkTime(s.updatedAt, at(path, 'updatedAt')),
  };
}

const SERVICE_FIELDS = ['id', 'stack', 'name', 'spec', 'specHash', 'version', 'replicas', 'createdAt', 'updatedAt'];

function checkService(v: unknown, path: string): ServiceRecord {
  // rollout, history: absent in snapshots made before rollouts (issue 15).
  const s = object(
    v,
    path,
    [...SERVICE_FIELDS, 'vip', 'rollout', 'history', 'autoscale', 'registryAuth'],
    SERVICE_FIELDS,
  );
  const name = checkServiceName(s.name, at(path, 'name'));
  const spec = checkServiceSpec(s.spec, at(path, 'spec'));
  if (spec.name !== name) fail(at(at(path, 'spec'), 'name'), `expected ${show(name)}, got ${show(spec.name)}`);
  return {
    id: checkServiceId(s.id, at(path, 'id')),
    stack: checkStackName(s.stack, at(path, 'stack')),
    name,
    spec,
    specHash: checkSpecHash(s.specHash, at(path, 'specHash')),
    version: integer(s.version, at(path, 'version'), 1),
    replicas: checkReplicas(s.replicas, at(path, 'replicas')),
    createdAt: checkTime(s.createdAt, at(path, 'createdAt')),
    updatedAt: checkTime(s.updatedAt, at(path, 'updatedAt')),
    ...(s.vip === undefined ? {} : { vip: checkVip(s.vip, at(path, 'vip')) }),
    ...(s.rollout === undefined ? {} : { rollout: checkRolloutStatus(s.rollout, at(path, 'rollout')) }),
    ...(s.history === undefined ? {} : { history: checkHistory(s.history, at(path, 'history')) }),
    // autoscale: absent in snapshots made before the autoscaler (issue 16).
    ...(s.autoscale === undefined ? {} : { autoscale: checkAutoscaleStatus(s.autoscale, at(path, 'autoscale')) }),
    ...(s.registryAuth === undefined
      ? {}
      : { registryAuth: checkSealedRegistryAuth(s.registryAuth, at(path, 'registryAuth')) }),
  };
}

function checkVip(v: unknown, path: string): string {
  if (typeof v !== 'string' || !isServiceVip(v))
    fail(path, `expected a service address in 10.253.0.0/16, got ${show(v)}`);
  return v;
}

const TASK_FIELDS = [
  'id',
  'serviceId',
  'slot',
  'serviceVersion',
  'nodeId',
  'generation',
  'gpus',
  'desiredState',
  'state',
  'message',
  'exitCode',
  'containerId',
  'restarts',
  'createdAt',
  'updatedAt',
] as const;
const TASK_OPTIONAL = ['job', 'startedAt', 'runningAt', 'endedAt', 'outcome', 'stopReason', 'usage'] as const;

function checkTask(v: unknown, path: string): TaskRecord {
  // nodeId, exitCode and containerId may be null, which `object` would count as present: fine.
  const t = object(v, path, [...TASK_FIELDS, ...TASK_OPTIONAL], TASK_FIELDS);
  const task: Mutable<TaskRecord> = {
    id: checkTaskId(t.id, at(path, 'id')),
    serviceId: checkServiceId(t.serviceId, at(path, 'serviceId')),
    slot: integer(t.slot, at(path, 'slot'), 0, 1_000_000),
    serviceVersion: integer(t.serviceVersion, at(path, 'serviceVersion'), 1),
    nodeId: t.nodeId === null ? null : checkPeerId(t.nodeId, at(path, 'nodeId')),
    generation: integer(t.generation, at(path, 'generation'), 0),
    gpus: checkGpuIds(t.gpus, at(path, 'gpus')),
    desiredState: checkDesiredState(t.desiredState, at(path, 'desiredState')),
    state: checkTaskState(t.state, at(path, 'state')),
    message: checkTaskMessage(t.message, at(path, 'message')),
    exitCode: checkExitCode(t.exitCode, at(path, 'exitCode')),
    containerId: checkContainerId(t.containerId, at(path, 'containerId')),
    restarts: integer(t.restarts, at(path, 'restarts'), 0, 1_000_000_000),
    createdAt: checkTime(t.createdAt, at(path, 'createdAt')),
    updatedAt: checkTime(t.updatedAt, at(path, 'updatedAt')),
  };
  // Set in place rather than spread into a second object: a snapshot holds many tasks.
  if (t.job !== undefined) task.job = checkTaskJobRef(t.job, at(path, 'job'));
  if (t.startedAt !== undefined) task.startedAt = checkTime(t.startedAt, at(path, 'startedAt'));
  if (t.runningAt !== undefined) task.runningAt = checkTime(t.runningAt, at(path, 'runningAt'));
  if (t.endedAt !== undefined) task.endedAt = checkTime(t.endedAt, at(path, 'endedAt'));
  if (t.outcome !== undefined) task.outcome = checkOutcome(t.outcome, at(path, 'outcome'));
  if (t.stopReason !== undefined) task.stopReason = checkTaskMessage(t.stopReason, at(path, 'stopReason'));
  if (t.usage !== undefined) task.usage = checkUsage(t.usage, at(path, 'usage'));
  return task;
}
