/**
 * The workload commands (stacks, services, tasks, node status): their types and payload checks.
 * The contract with the controllers and the node runtime is `tmp/workload-commands.md`; in short,
 * orchestrators create tasks, the scheduler assigns them, runtimes report what they observe,
 * and every report is fenced by node id and assignment generation.
 * @module
 */
import type { ServiceSpec } from '../stack/spec.js';
import { at, fail, integer, list, object, oneOf, show, unique } from './check.js';
import type { CommandBase } from './commands.js';
import { checkSealedRegistryAuth, type SealedRegistryAuth } from './registry-auth.js';
import { checkNodeStatus, checkPeerId } from './model.js';
import {
  MAX_BATCH,
  MAX_STACK_SERVICES,
  REPORTABLE_STATES,
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
} from './workload-checks.js';
import type { DesiredTaskState, NodeStatus, TaskState } from './workloads.js';
import { checkOutcome, checkTaskJobRef, checkUsage } from './job-checks.js';
import type { TaskJobRef, TaskOutcome, TaskUsage } from './jobs.js';

/** One service of a `stack.deploy`. */
export interface StackDeployService {
  readonly name: string;
  readonly spec: ServiceSpec;
  /** `hashService(spec)`, computed by the proposer: apply compares it, never recomputes it. */
  readonly specHash: string;
  /** `--with-registry-auth`: the credentials for its image's registry, sealed (registry-auth.ts); absent keeps the service's. */
  readonly registryAuth?: SealedRegistryAuth;
}

/** Create or update a stack: its services are exactly these afterwards. */
export interface StackDeployCommand extends CommandBase {
  readonly type: 'stack.deploy';
  readonly name: string;
  readonly services: readonly StackDeployService[];
}

/** Remove a stack and all its services (their tasks are asked to shut down). */
export interface StackRemoveCommand extends CommandBase {
  readonly type: 'stack.remove';
  readonly name: string;
}

/** Set a replicated service's desired replicas. */
export interface ServiceScaleCommand extends CommandBase {
  readonly type: 'service.scale';
  readonly serviceId: string;
  readonly replicas: number;
}

/** A task an orchestrator creates. */
export interface NewTask {
  readonly id: string;
  readonly serviceId: string;
  readonly slot: number;
  readonly serviceVersion: number;
  /** Global services pin the node; the task still waits `pending` until assigned there. */
  readonly nodeId?: string;
  /** Batch tasks: the job unit it runs. */
  readonly job?: TaskJobRef;
}

export interface TaskCreateCommand extends CommandBase {
  readonly type: 'task.create';
  readonly tasks: readonly NewTask[];
}

/** One placement decision of the scheduler. */
export interface TaskAssignment {
  readonly taskId: string;
  readonly nodeId: string;
  /** GPU uuids the task gets exclusively. */
  readonly gpus: readonly string[];
}

export interface TaskAssignCommand extends CommandBase {
  readonly type: 'task.assign';
  readonly assignments: readonly TaskAssignment[];
}

/** The scheduler's "why it waits" for a pending task. */
export interface TaskPendingUpdate {
  readonly taskId: string;
  readonly message: string;
}

export interface TaskPendingCommand extends CommandBase {
  readonly type: 'task.pending';
  readonly updates: readonly TaskPendingUpdate[];
}

/** Set what the orchestrator wants of tasks (in practice: shut them down). */
export interface TaskDesireCommand extends CommandBase {
  readonly type: 'task.desire';
  readonly taskIds: readonly string[];
  readonly desiredState: DesiredTaskState;
}

/** What a node's runtime observed of one task it was assigned. */
export interface TaskReport {
  readonly taskId: string;
  /** The assignment generation the runtime acts on: a report for an older one is ignored. */
  readonly generation: number;
  readonly state: TaskState;
  readonly message: string;
  readonly exitCode: number | null;
  readonly containerId: string | null;
  readonly restarts: number;
  /** Why a run ended beyond its exit code (the runtime knows `TIMEOUT` and `OUT_OF_MEMORY`). */
  readonly outcome?: TaskOutcome;
  readonly usage?: TaskUsage;
}

/** Reports of one node's runtime. Stale or fenced reports are ignored one by one, never refused. */
export interface TaskReportCommand extends CommandBase {
  readonly type: 'task.report';
  readonly nodeId: string;
  readonly reports: readonly TaskReport[];
}

/** The node-health controller's verdict; `down` orphans the node's tasks. */
export interface NodeSetStatusCommand extends CommandBase {
  readonly type: 'node.setStatus';
  readonly id: string;
  readonly status: NodeStatus;
}

/**
 * Give every long-running service without an address one (services restored from a snapshot
 * older than service addresses); the leader proposes it when it sees such a service.
 */
export interface ServiceVipsCommand extends CommandBase {
  readonly type: 'service.vips';
}

/** Garbage-collect terminal tasks. */
export interface TaskRemoveCommand extends CommandBase {
  readonly type: 'task.remove';
  readonly taskIds: readonly string[];
}

export type WorkloadCommand =
  | StackDeployCommand
  | StackRemoveCommand
  | ServiceScaleCommand
  | TaskCreateCommand
  | TaskAssignCommand
  | TaskPendingCommand
  | TaskDesireCommand
  | TaskReportCommand
  | NodeSetStatusCommand
  | TaskRemoveCommand
  | ServiceVipsCommand;

/** How one command's payload is checked: its fields, and a check returning a clean copy. */
export interface PayloadCheck {
  readonly fields: readonly string[];
  readonly optional?: readonly string[];
  readonly check: (c: Record<string, unknown>) => object;
}

const taskIds = (v: unknown, path: string): string[] => {
  const ids = list(v, path, MAX_BATCH, checkTaskId);
  if (ids.length === 0) fail(path, 'must not be empty');
  unique(ids, path, (id) => id, 'task id');
  return ids;
};

/** A non-empty batch of at most MAX_BATCH items, unique by `keyOf`. */
function batch<T>(
  v: unknown,
  path: string,
  item: (x: unknown, p: string) => T,
  keyOf: (t: T) => string,
  what: string,
): T[] {
  const items = list(v, path, MAX_BATCH, item);
  if (items.length === 0) fail(path, 'must not be empty');
  unique(items, path, keyOf, what);
  return items;
}

function checkDeployService(v: unknown, path: string): StackDeployService {
  const s = object(v, path, ['name', 'spec', 'specHash', 'registryAuth'], ['name', 'spec', 'specHash']);
  const name = checkServiceName(s.name, at(path, 'name'));
  const spec = checkServiceSpec(s.spec, at(path, 'spec'));
  if (spec.name !== name)
    fail(at(at(path, 'spec'), 'name'), `expected ${show(name)} (the service's name), got ${show(spec.name)}`);
  const specHash = checkSpecHash(s.specHash, at(path, 'specHash'));
  if (s.registryAuth === undefined) return { name, spec, specHash };
  return { name, spec, specHash, registryAuth: checkSealedRegistryAuth(s.registryAuth, at(path, 'registryAuth')) };
}

function checkNewTask(v: unknown, path: string): NewTask {
  const t = object(
    v,
    path,
    ['id', 'serviceId', 'slot', 'serviceVersion', 'nodeId', 'job'],
    ['id', 'serviceId', 'slot', 'serviceVersion'],
  );
  const task: NewTask = {
    id: checkTaskId(t.id, at(path, 'id')),
    serviceId: checkServiceId(t.serviceId, at(path, 'serviceId')),
    slot: integer(t.slot, at(path, 'slot'), 0, 1_000_000),
    serviceVersion: integer(t.serviceVersion, at(path, 'serviceVersion'), 1),
  };
  return {
    ...task,
    ...(t.nodeId === undefined ? {} : { nodeId: checkPeerId(t.nodeId, at(path, 'nodeId')) }),
    ...(t.job === undefined ? {} : { job: checkTaskJobRef(t.job, at(path, 'job')) }),
  };
}

function checkAssignment(v: unknown, path: string): TaskAssignment {
  const a = object(v, path, ['taskId', 'nodeId', 'gpus']);
  const gpus = checkGpuIds(a.gpus, at(path, 'gpus'));
  unique(gpus, at(path, 'gpus'), (g) => g, 'GPU');
  return { taskId: checkTaskId(a.taskId, at(path, 'taskId')), nodeId: checkPeerId(a.nodeId, at(path, 'nodeId')), gpus };
}

function checkPendingUpdate(v: unknown, path: string): TaskPendingUpdate {
  const u = object(v, path, ['taskId', 'message']);
  return {
    taskId: checkTaskId(u.taskId, at(path, 'taskId')),
    message: checkTaskMessage(u.message, at(path, 'message')),
  };
}

function checkReport(v: unknown, path: string): TaskReport {
  const r = object(
    v,
    path,
    ['taskId', 'generation', 'state', 'message', 'exitCode', 'containerId', 'restarts', 'outcome', 'usage'],
    ['taskId', 'generation', 'state', 'message', 'exitCode', 'containerId', 'restarts'],
  );
  const report: TaskReport = {
    taskId: checkTaskId(r.taskId, at(path, 'taskId')),
    generation: integer(r.generation, at(path, 'generation'), 0),
    state: oneOf(r.state, at(path, 'state'), REPORTABLE_STATES),
    message: checkTaskMessage(r.message, at(path, 'message')),
    exitCode: checkExitCode(r.exitCode, at(path, 'exitCode')),
    containerId: checkContainerId(r.containerId, at(path, 'containerId')),
    restarts: integer(r.restarts, at(path, 'restarts'), 0, 1_000_000_000),
  };
  return {
    ...report,
    ...(r.outcome === undefined ? {} : { outcome: checkOutcome(r.outcome, at(path, 'outcome')) }),
    ...(r.usage === undefined ? {} : { usage: checkUsage(r.usage, at(path, 'usage')) }),
  };
}

/** Payload checks of the workload commands, merged into `validateCommand`'s table. */
export const WORKLOAD_PAYLOADS: { readonly [T in WorkloadCommand['type']]: PayloadCheck } = {
  'stack.deploy': {
    fields: ['name', 'services'],
    check: (c) => {
      const services = list(c.services, 'services', MAX_STACK_SERVICES, checkDeployService);
      if (services.length === 0)
        fail('services', 'must not be empty: a stack has at least one service (use stack.remove to remove it)');
      unique(services, 'services', (s) => s.name, 'service');
      return { name: checkStackName(c.name, 'name'), services };
    },
  },
  'stack.remove': { fields: ['name'], check: (c) => ({ name: checkStackName(c.name, 'name') }) },
  'service.scale': {
    fields: ['serviceId', 'replicas'],
    check: (c) => ({
      serviceId: checkServiceId(c.serviceId, 'serviceId'),
      replicas: checkReplicas(c.replicas, 'replicas'),
    }),
  },
  'task.create': {
    fields: ['tasks'],
    check: (c) => ({ tasks: batch(c.tasks, 'tasks', checkNewTask, (t) => t.id, 'task id') }),
  },
  'task.assign': {
    fields: ['assignments'],
    check: (c) => ({ assignments: batch(c.assignments, 'assignments', checkAssignment, (a) => a.taskId, 'task id') }),
  },
  'task.pending': {
    fields: ['updates'],
    check: (c) => ({ updates: batch(c.updates, 'updates', checkPendingUpdate, (u) => u.taskId, 'task id') }),
  },
  'task.desire': {
    fields: ['taskIds', 'desiredState'],
    check: (c) => ({
      taskIds: taskIds(c.taskIds, 'taskIds'),
      desiredState: checkDesiredState(c.desiredState, 'desiredState'),
    }),
  },
  'task.report': {
    fields: ['nodeId', 'reports'],
    check: (c) => ({
      nodeId: checkPeerId(c.nodeId, 'nodeId'),
      reports: batch(c.reports, 'reports', checkReport, (r) => r.taskId, 'task id'),
    }),
  },
  'node.setStatus': {
    fields: ['id', 'status'],
    check: (c) => ({ id: checkPeerId(c.id, 'id'), status: checkNodeStatus(c.status, 'status') }),
  },
  'task.remove': { fields: ['taskIds'], check: (c) => ({ taskIds: taskIds(c.taskIds, 'taskIds') }) },
  'service.vips': { fields: [], check: () => ({}) },
};
