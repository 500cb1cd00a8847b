/**
 * Applying the workload commands. Same rules as `apply.ts`: pure, no clock, every refusal decided
 * before anything is kept. Two more:
 *
 * - *One copy per map per command.* Batches go through a {@link RecordEdit}, so the task map is
 *   copied once however many tasks change, and not at all when none does.
 * - *No change, same state.* A command that changes nothing (an unchanged redeploy, a report
 *   the state already holds, a stale report) returns the very same state object, so readers can
 *   compare versions by identity and the common "nothing new" report costs nothing.
 * @module
 * @private
 */
import type { ApplyOutcome } from './apply.js';
import type { IndexedState } from './indexed-state.js';
import type { NodeRecord } from './model.js';
import { sortedById } from './queries.js';
import { RecordEdit } from './record-edit.js';
import { TaskEdit } from './task-table.js';
import type {
  NodeSetStatusCommand,
  ServiceScaleCommand,
  StackDeployCommand,
  StackRemoveCommand,
  TaskAssignCommand,
  TaskCreateCommand,
  TaskDesireCommand,
  TaskRemoveCommand,
  TaskReportCommand,
  WorkloadCommand,
} from './workload-commands.js';
import { serviceId } from './workload-checks.js';
import { redeployReplicas } from './autoscale-commands.js';
import { nextVersion } from './rollout.js';
import { nextRegistryAuth, type SealedRegistryAuth } from './registry-auth.js';
import { allocateVips, servicesWithoutVip } from './service-vips.js';
import { isTerminal, taskStateRank, type ServiceRecord, type StackRecord, type TaskRecord } from './workloads.js';
import { cancelJob, chargeUsage, resolveServiceDependencies, startServiceJob } from './apply-jobs.js';
import { SUBMITTED_JOB_STACK, type JobRecord, type UsageRecord } from './jobs.js';

type Services = RecordEdit<ServiceRecord>;

/** Apply a workload command to an initialized cluster's state. */
export function applyWorkload(state: IndexedState, command: WorkloadCommand): ApplyOutcome {
  switch (command.type) {
    case 'stack.deploy':
      return deploy(state, command);
    case 'stack.remove':
      return removeStack(state, command);
    case 'service.scale':
      return scale(state, command);
    case 'task.create':
      return create(state, command);
    case 'task.assign':
      return assign(state, command);
    case 'task.pending':
      return edit(state, command.updates, (task, u) =>
        task.state === 'pending' && task.message !== u.message
          ? { ...task, message: u.message, updatedAt: command.at }
          : task,
      );
    case 'task.desire':
      return desire(state, command);
    case 'task.report':
      return report(state, command);
    case 'node.setStatus':
      return setStatus(state, command);
    case 'task.remove':
      return removeTasks(state, command);
    case 'service.vips':
      return giveVips(state);
  }
}

/** Give every long-running service without an address one (service-vips.ts). */
function giveVips(state: IndexedState): ApplyOutcome {
  const services = new RecordEdit(state.services);
  allocateVips(services, Object.keys(state.services), servicesWithoutVip(state.services));
  return services.changed ? ok({ ...state, services: services.result() }) : ok(state);
}

function deploy(state: IndexedState, command: StackDeployCommand): ApplyOutcome {
  const { name, at } = command;
  if (name === SUBMITTED_JOB_STACK)
    return refuse(command, `the stack name "${name}" is reserved for submitted jobs: choose another with --name`);
  const services = new RecordEdit(state.services);
  const tasks = new TaskEdit(state.tasks);
  const wanted = new Set<string>();
  for (const { name: serviceName, spec, specHash, registryAuth } of command.services) {
    const id = serviceId(name, serviceName);
    wanted.add(id);
    const previous = services.get(id);
    if (previous === undefined) {
      const created: ServiceRecord = {
        id,
        stack: name,
        name: serviceName,
        spec,
        specHash,
        version: 1,
        replicas: spec.deploy.replicas,
        createdAt: at,
        updatedAt: at,
        ...(registryAuth === undefined ? {} : { registryAuth }),
      };
      services.set(id, nextVersion(undefined, created, at));
    } else if (previous.stack !== name) {
      // "a_b" + "c" and "a" + "b_c" both make "a_b_c": ids must stay unique.
      return refuse(
        command,
        `service ${serviceName} would have the id ${id}, which service ${previous.name} of stack ${previous.stack} has: rename the service or the stack`,
      );
    } else if (previous.specHash !== specHash) {
      const next = {
        ...previous,
        spec,
        specHash,
        version: previous.version + 1,
        replicas: redeployReplicas(previous, spec),
        ...withRegistryAuth(previous, registryAuth),
      };
      services.set(id, nextVersion(previous, { ...next, updatedAt: at }, at));
    } else if (nextRegistryAuth(previous.registryAuth, registryAuth) !== previous.registryAuth) {
      services.set(id, { ...previous, ...withRegistryAuth(previous, registryAuth) }); // not a new version
    }
  }
  const existing = lookup(state.stacks, name);
  const jobs = new RecordEdit(state.jobs);
  for (const id of existing?.services ?? []) {
    if (!wanted.has(id)) removeService(services, tasks, state, id, at, jobs);
  }
  const sortedWanted = [...wanted].sort();
  if (!allocateVips(services, [...Object.keys(state.services), ...wanted], sortedWanted))
    return refuse(command, 'no service address is free in 10.253.0.0/16: remove a stack first');
  if (existing !== undefined && !services.changed && !tasks.changed) return ok(state);
  const counters = { ...state.counters };
  const runs = startJobRuns(state, services, jobs, counters, wanted, at);
  if (runs) state = { ...state, counters };
  const ids = sortedWanted;
  const stack: StackRecord = existing
    ? { ...existing, services: ids, updatedAt: at }
    : { name, services: ids, createdAt: at, updatedAt: at };
  return ok({
    ...state,
    stacks: { ...state.stacks, [name]: stack },
    services: services.result(),
    tasks: tasks.result(),
    jobs: jobs.result(),
  });
}

/** The `registryAuth` field a deployed service keeps (registry-auth.ts). */
function withRegistryAuth(previous: ServiceRecord, given: SealedRegistryAuth | undefined) {
  const kept = nextRegistryAuth(previous.registryAuth, given);
  return kept === undefined ? {} : { registryAuth: kept };
}

/**
 * A deploy that adds or changes a `job` service starts a run of it (a cron service waits for
 * its schedule). Runs are created first and linked afterwards, so dependencies between the
 * services of one file resolve whatever their order. Returns whether any run was created.
 */
function startJobRuns(
  state: IndexedState,
  services: Services,
  jobs: RecordEdit<JobRecord>,
  counters: { job: number },
  wanted: ReadonlySet<string>,
  at: number,
): boolean {
  const started: [ServiceRecord, string][] = [];
  for (const id of [...wanted].sort()) {
    const service = services.get(id)!;
    const before = lookup(state.services, id);
    if (service.spec.kind !== 'job' || before?.specHash === service.specHash) continue;
    started.push([service, startServiceJob(state, jobs, counters, service, at, null)]);
  }
  for (const [service, jobId] of started) resolveServiceDependencies(state, jobs, service, jobId);
  return started.length > 0;
}

function removeStack(state: IndexedState, command: StackRemoveCommand): ApplyOutcome {
  const stack = lookup(state.stacks, command.name);
  if (stack === undefined)
    return refuse(command, `stack ${command.name} is not deployed: check the name with \`shoal stack ls\``);
  const services = new RecordEdit(state.services);
  const tasks = new TaskEdit(state.tasks);
  const jobs = new RecordEdit(state.jobs);
  for (const id of stack.services) removeService(services, tasks, state, id, command.at, jobs);
  const { [command.name]: _removed, ...stacks } = state.stacks;
  return ok({ ...state, stacks, services: services.result(), tasks: tasks.result(), jobs: jobs.result() });
}

/**
 * Delete a service; its unfinished tasks are asked to shut down and stay until collected, and its
 * unfinished job runs are cancelled.
 */
function removeService(
  services: Services,
  tasks: TaskEdit,
  state: IndexedState,
  id: string,
  at: number,
  jobs: RecordEdit<JobRecord>,
): void {
  services.delete(id);
  for (const job of Object.values(state.jobs)) {
    if (job.serviceId === id) cancelJob(state, jobs, tasks, job.id, 'its service was removed', at);
  }
  for (const original of sortedById(state.tasks.ofService(id))) {
    const task = tasks.get(original.id) ?? original; // cancelJob may have changed it already
    if (!isTerminal(task.state) && task.desiredState !== 'shutdown') tasks.set(task.id, shutDown(task, at));
  }
}

function scale(state: IndexedState, command: ServiceScaleCommand): ApplyOutcome {
  const service = lookup(state.services, command.serviceId);
  if (service === undefined) return refuse(command, unknownService(command.serviceId));
  if (service.spec.kind !== 'replicated') {
    return refuse(
      command,
      `service ${service.id} is a ${service.spec.kind} service: only replicated services have a replica count`,
    );
  }
  if (service.replicas === command.replicas) return ok(state);
  const services = new RecordEdit(state.services);
  services.set(service.id, { ...service, replicas: command.replicas, updatedAt: command.at });
  return ok({ ...state, services: services.result() });
}

function create(state: IndexedState, command: TaskCreateCommand): ApplyOutcome {
  // All or nothing, checked first: an orchestrator retries the whole batch from fresh state.
  for (const t of command.tasks) {
    if (state.tasks.has(t.id)) return refuse(command, `task ${t.id} exists already: task ids are never reused`);
    if (!Object.hasOwn(state.services, t.serviceId))
      return refuse(command, `task ${t.id}: ${unknownService(t.serviceId)}`);
  }
  const tasks = new TaskEdit(state.tasks);
  for (const t of command.tasks) {
    tasks.set(t.id, {
      id: t.id,
      serviceId: t.serviceId,
      slot: t.slot,
      serviceVersion: t.serviceVersion,
      nodeId: t.nodeId ?? null,
      generation: 0,
      gpus: [],
      desiredState: 'running',
      state: 'pending',
      message: '',
      exitCode: null,
      containerId: null,
      restarts: 0,
      createdAt: command.at,
      updatedAt: command.at,
      ...(t.job === undefined ? {} : { job: t.job }),
    });
  }
  return ok({ ...state, tasks: tasks.result() });
}

function assign(state: IndexedState, command: TaskAssignCommand): ApplyOutcome {
  const tasks = new TaskEdit(state.tasks);
  let generation = state.counters.assignment;
  // In the command's order: the scheduler's order decides which generation each task gets.
  for (const a of command.assignments) {
    const task = tasks.get(a.taskId);
    const node = lookup(state.nodes, a.nodeId);
    // Skipped, not refused: the state moved on since the scheduler decided (a task was shut
    // down, a node went down); the next scheduling pass decides again from fresh state.
    if (task === undefined || task.state !== 'pending' || task.desiredState !== 'running') continue;
    if (node === undefined || node.status !== 'ready') continue;
    if (task.nodeId !== null && task.nodeId !== a.nodeId) continue; // pinned elsewhere
    if (!hasGpus(node, a.gpus)) continue;
    tasks.set(task.id, {
      ...task,
      nodeId: a.nodeId,
      gpus: a.gpus,
      state: 'assigned',
      generation: ++generation,
      message: '',
      updatedAt: command.at,
    });
  }
  if (!tasks.changed) return ok(state);
  return ok({ ...state, tasks: tasks.result(), counters: { ...state.counters, assignment: generation } });
}

function hasGpus(node: NodeRecord, gpus: readonly string[]): boolean {
  return gpus.every((uuid) => node.resources.gpus.some((g) => g.uuid === uuid));
}

function desire(state: IndexedState, command: TaskDesireCommand): ApplyOutcome {
  return edit(state, command.taskIds, (task) =>
    // shutdown → running never: a task that was let go is replaced by a new one, not revived.
    task.desiredState === command.desiredState || task.desiredState === 'shutdown'
      ? task
      : command.desiredState === 'shutdown'
        ? shutDown(task, command.at)
        : { ...task, desiredState: command.desiredState, updatedAt: command.at },
  );
}

/**
 * Ask a task to stop. One no runtime holds yet (still pending) ends here and now: nobody else
 * would ever report its end, and it would wait for ever.
 */
function shutDown(task: TaskRecord, at: number): TaskRecord {
  const stopping: TaskRecord = { ...task, desiredState: 'shutdown', updatedAt: at };
  if (task.state !== 'new' && task.state !== 'pending') return stopping;
  return { ...stopping, state: 'shutdown', message: 'stopped before it was scheduled', endedAt: at };
}

function report(state: IndexedState, command: TaskReportCommand): ApplyOutcome {
  const { nodeId, at } = command;
  const usage = { ...state.usage };
  const outcome = edit(state, command.reports, (task, r) => {
    // Fencing: only the node that holds the current assignment may speak for the task, and
    // states only move forward. Anything else is a late or foreign report: ignored.
    if (task.nodeId !== nodeId || task.generation !== r.generation) return task;
    if (taskStateRank(r.state) < taskStateRank(task.state)) return task;
    if (
      task.state === r.state &&
      task.message === r.message &&
      task.exitCode === r.exitCode &&
      task.containerId === r.containerId &&
      task.restarts === r.restarts &&
      (r.usage === undefined || task.usage !== undefined)
    )
      return task;
    const { state: observed, message, exitCode, containerId, restarts } = r;
    let next: TaskRecord = { ...task, state: observed, message, exitCode, containerId, restarts, updatedAt: at };
    if (next.startedAt === undefined && (observed === 'starting' || observed === 'running'))
      next = { ...next, startedAt: at };
    if (next.runningAt === undefined && observed === 'running') next = { ...next, runningAt: at };
    if (r.usage !== undefined) next = { ...next, usage: r.usage };
    if (isTerminal(observed) && !isTerminal(task.state)) {
      // A unit that ended between two reports had not been seen running: it started after its last report.
      next = {
        ...next,
        endedAt: at,
        ...(next.startedAt === undefined && r.exitCode !== null ? { startedAt: at } : {}),
      };
      if (r.outcome !== undefined && next.outcome === undefined) next = { ...next, outcome: r.outcome };
      chargeUsage(state, usage, next, at);
    }
    return next;
  });
  if (!outcome.ok || outcome.state === state) return outcome;
  return ok({ ...outcome.state, usage: sameUsage(state.usage, usage) ? state.usage : usage });
}

function sameUsage(a: Readonly<Record<string, UsageRecord>>, b: Readonly<Record<string, UsageRecord>>): boolean {
  return Object.keys(b).every((k) => a[k] === b[k]);
}

function setStatus(state: IndexedState, command: NodeSetStatusCommand): ApplyOutcome {
  const node = lookup(state.nodes, command.id);
  if (node === undefined) return refuse(command, `node ${command.id} is not a member of the cluster`);
  const nodes =
    node.status === command.status
      ? state.nodes
      : { ...state.nodes, [node.id]: { ...node, status: command.status, statusChangedAt: command.at } };
  const tasks = new TaskEdit(state.tasks);
  const usage = { ...state.usage };
  if (command.status === 'down') orphanTasks(state, tasks, node.id, 'node down', command.at, usage);
  if (nodes === state.nodes && !tasks.changed) return ok(state);
  return ok({ ...state, nodes, tasks: tasks.result(), usage: sameUsage(state.usage, usage) ? state.usage : usage });
}

/**
 * Mark every unfinished task of node `nodeId` orphaned and unwanted: the orchestrators create
 * replacements with new ids, and if the node comes back its runtime stops the old containers.
 */
export function orphanTasks(
  state: IndexedState,
  tasks: TaskEdit,
  nodeId: string,
  message: string,
  at: number,
  usage?: Record<string, UsageRecord>,
): void {
  for (const task of sortedById(state.tasks.onNode(nodeId))) {
    if (isTerminal(task.state)) continue;
    const orphaned: TaskRecord = { ...task, state: 'orphaned', desiredState: 'shutdown', message, updatedAt: at };
    // A job unit lost with its node ends NODE_FAIL; the job controller requeues it or fails it.
    if (task.job === undefined) {
      tasks.set(task.id, orphaned);
      continue;
    }
    const lost: TaskRecord = { ...orphaned, outcome: 'NODE_FAIL', endedAt: at };
    tasks.set(task.id, lost);
    if (usage) chargeUsage(state, usage, lost, at); // it ran until its node was declared down
  }
}

function removeTasks(state: IndexedState, command: TaskRemoveCommand): ApplyOutcome {
  const tasks = new TaskEdit(state.tasks);
  for (const id of command.taskIds) {
    const task = tasks.get(id);
    if (task !== undefined && isTerminal(task.state)) tasks.delete(id);
  }
  return tasks.changed ? ok({ ...state, tasks: tasks.result() }) : ok(state);
}

/**
 * Apply `change` to each named task that exists, with one copy of the task map at most. A
 * change returning the task itself means "nothing to do" for that item.
 */
function edit<I>(
  state: IndexedState,
  items: readonly I[],
  change: (task: TaskRecord, item: I) => TaskRecord,
): ApplyOutcome {
  const tasks = new TaskEdit(state.tasks);
  for (const item of items) {
    const id = typeof item === 'string' ? item : (item as { taskId: string }).taskId;
    const task = tasks.get(id);
    if (task === undefined) continue;
    const next = change(task, item);
    if (next !== task) tasks.set(id, next);
  }
  return tasks.changed ? ok({ ...state, tasks: tasks.result() }) : ok(state);
}

function lookup<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function unknownService(id: string): string {
  return `service ${id} does not exist: check the id with \`shoal service ls\``;
}

function ok(state: IndexedState): ApplyOutcome {
  return { ok: true, state };
}

function refuse(command: WorkloadCommand, reason: string): ApplyOutcome {
  return { ok: false, error: `${command.type}: ${reason}` };
}
