/**
 * The placement step: maps the replicated state onto the scheduler's view (nodes, tasks holding
 * resources, pending requests), runs the pure batch queue (`planQueue()`, which places with the
 * scheduler's placement loop), and turns its plan into `task.assign` for placed tasks,
 * `task.pending` (the reason it waits) for the rest and `task.preempt` for victims.
 *
 * Unit changes made here: node CPUs are recorded in whole cores and the scheduler counts
 * millicores; GPUs are handed out by UUID. Nodes registered with `roles.workloads: false`
 * (control plane only) are left out of the snapshot, so nothing is ever placed on them.
 * @module
 */
import { planQueue, type QueuedTask, type RunningTask } from '../scheduler/queue/index.js';
import type { AffinityRule, HostPort, NodeView, PlacedTask, Reservations, TaskRequest } from '../scheduler/types.js';
import { platformConstraints } from '../stack/platform.js';
import type { ServiceSpec } from '../stack/spec.js';
import type { PreemptedBy } from '../state/job-commands.js';
import { DEFAULT_FAIR_SHARE_HALF_LIFE_MS, decayedUsage, type TaskJobRef } from '../state/jobs.js';
import { tableOf } from '../state/indexed-state.js';
import { sortedById } from '../state/queries.js';
import type { ServiceRecord } from '../state/workloads.js';
import type { Assignment, NewTask, WorkloadNode, WorkloadState } from './workload-types.js';

export interface PlacementInput {
  readonly state: WorkloadState;
  /** Tasks created in this same pass (proposed before the assignments, so they exist when those apply). */
  readonly newTasks?: readonly NewTask[];
  /** Node ids that count as `node.role==manager` (the Raft voters); everyone else is a worker. */
  readonly managers?: ReadonlySet<string>;
  /** At most this many tasks are scheduled in one pass (highest priority, then oldest, first). */
  readonly maxTasks?: number;
  /** Tasks not to schedule (being shut down in the same pass). */
  readonly exclude?: ReadonlySet<string>;
  /** Tie-break seed for the scheduler; by node id when absent. */
  readonly seed?: number;
  /** The leader's clock (backfill and fair share read it); 0 when absent. */
  readonly now?: number;
}

export interface PlacementPlan {
  readonly assignments: Assignment[];
  /** Tasks left pending whose message changes. */
  readonly pending: { readonly taskId: string; readonly message: string }[];
  /** Running tasks to stop so that higher-priority work can start (`task.preempt`). */
  readonly preemptions: string[];
  /** For each of `preemptions` (same order), the task it is stopped for. */
  readonly preemptedBy: PreemptedBy[];
}

/** A state node as the scheduler sees it. */
export function toNodeView(node: WorkloadNode, managers?: ReadonlySet<string>): NodeView {
  return {
    id: node.id,
    hostname: node.hostname,
    role: managers?.has(node.id) ? 'manager' : 'worker',
    labels: node.labels,
    availability: node.availability,
    status: node.status,
    ...(node.platform ? { platform: node.platform } : {}),
    resources: {
      cpus: node.resources.cpus * 1000,
      memoryBytes: node.resources.memoryBytes,
      gpus: node.resources.gpus.map((g) => g.uuid),
    },
  };
}

/** The scheduler's nodes: every node that takes workloads, sorted by id. */
export function nodeViews(state: WorkloadState, managers?: ReadonlySet<string>): NodeView[] {
  return Object.keys(state.nodes)
    .sort()
    .map((id) => state.nodes[id]!)
    .filter((n) => n.roles.workloads)
    .map((n) => toNodeView(n, managers));
}

const GPU_KEY = /^(nvidia\.com\/)?gpu$/i;

/**
 * What a task of this service reserves. GPUs come from device requests with the `gpu`
 * capability (a count; `device_ids` count as their number; `all` as one, since the scheduler
 * hands out a number of devices) and from Swarm-style generic resources named `gpu`.
 */
export function reservationsOf(spec: ServiceSpec): Reservations {
  const r = spec.deploy.resources.reservations;
  let gpus = 0;
  for (const d of r.devices) {
    if (!d.capabilities.includes('gpu')) continue;
    gpus += typeof d.count === 'number' ? d.count : d.count === 'all' ? 1 : d.deviceIds.length;
  }
  const generic: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.generic)) {
    if (GPU_KEY.test(k)) gpus += v;
    else generic[k] = v;
  }
  return { cpus: r.cpuMillis, memoryBytes: r.memoryBytes, gpus, generic };
}

/** Host ports the service publishes in `host` mode (ingress ports are the routing mesh's, not a node's). */
export function hostPortsOf(spec: ServiceSpec): HostPort[] {
  const out: HostPort[] = [];
  for (const p of spec.ports) {
    // sctp has no place in the scheduler's port model; it cannot conflict with tcp/udp anyway.
    if (p.mode === 'host' && p.published !== null && p.protocol !== 'sctp')
      out.push({ port: p.published, protocol: p.protocol });
  }
  return out;
}

/** `deploy.placement.constraints`, then the node OS and architecture `platform:` asks for, as the scheduler's expressions. */
export function constraintsOf(spec: ServiceSpec): string[] {
  const platform = spec.platform ? platformConstraints(spec.platform) : [];
  return [...spec.deploy.placement.constraints, ...platform].map((c) => `${c.attribute}${c.op}${c.value}`);
}

/** Affinity rules name a service of the same stack, or `stack/service`: both become service ids. */
function affinityOf(service: ServiceRecord): AffinityRule[] {
  return service.spec.scheduling.affinity.map((a) => ({
    service: a.service.includes('/') ? a.service.replace('/', '_') : `${service.stack}_${a.service}`,
    type: a.anti ? 'anti-affinity' : 'affinity',
    required: a.required,
    weight: a.weight,
  }));
}

/** The request of a task of `service` without its id (shared by all its tasks, so they group cheaply). */
export function requestBase(service: ServiceRecord): Omit<TaskRequest, 'id'> {
  const spec = service.spec;
  return {
    serviceId: service.id,
    kind: spec.kind === 'global' ? 'global' : spec.kind === 'replicated' ? 'replicated' : 'job',
    priority: spec.scheduling.priority,
    reservations: reservationsOf(spec),
    constraints: constraintsOf(spec),
    preferences: spec.deploy.placement.preferences,
    maxReplicasPerNode: spec.deploy.placement.maxReplicasPerNode,
    ports: hostPortsOf(spec),
    affinity: affinityOf(service),
    strategy: spec.scheduling.strategy,
  };
}

/** Tasks that hold resources on a node: handed to it and not ended (stopping ones included). */
export function placedTasks(state: WorkloadState): PlacedTask[] {
  const out: PlacedTask[] = [];
  // One conversion per service, shared by its tasks.
  const claims = new Map<string, { reservations: Reservations; ports: HostPort[] }>();
  for (const t of sortedById(tableOf(state.tasks).placed())) {
    if (t.nodeId === null) continue;
    let claim = claims.get(t.serviceId);
    if (claim === undefined) {
      const service = state.services[t.serviceId];
      claim = service
        ? { reservations: reservationsOf(service.spec), ports: hostPortsOf(service.spec) }
        : { reservations: {}, ports: [] };
      claims.set(t.serviceId, claim);
    }
    out.push({ id: t.id, serviceId: t.serviceId, nodeId: t.nodeId, ...claim, gpus: t.gpus });
  }
  return out;
}

interface Waiting {
  readonly id: string;
  readonly serviceId: string;
  readonly nodeId: string | null;
  readonly createdAt: number;
  readonly message: string;
  readonly priority: number;
  readonly job?: TaskJobRef | undefined;
}

/**
 * Schedule every pending task (and the tasks created in this pass) through the batch queue
 * (src/scheduler/queue): services and jobs in one order (priority, fair share, age), backfill
 * behind blocked jobs, gangs whole, namespace quotas, and preemption of lower-priority jobs.
 * @example
 * const { assignments, pending, preemptions } = reconcilePlacement({ state, newTasks: plan.create, now });
 */
export function reconcilePlacement(input: PlacementInput): PlacementPlan {
  const { state } = input;
  const now = input.now ?? 0;
  const jobs = state.jobs ?? {};
  const waiting: Waiting[] = [];
  const priorityOf = (serviceId: string, job?: TaskJobRef): number =>
    (job && jobs[job.jobId]?.priority) ?? state.services[serviceId]?.spec.scheduling.priority ?? 0;
  const tasks = tableOf(state.tasks);
  for (const t of sortedById(tasks.waiting())) {
    if (state.services[t.serviceId] === undefined || input.exclude?.has(t.id)) continue;
    waiting.push({ ...t, priority: priorityOf(t.serviceId, t.job) });
  }
  for (const t of input.newTasks ?? []) {
    if (state.services[t.serviceId] === undefined) continue;
    waiting.push({
      ...t,
      nodeId: t.nodeId ?? null,
      createdAt: now,
      message: '',
      priority: priorityOf(t.serviceId, t.job),
    });
  }
  if (waiting.length === 0) return { assignments: [], pending: [], preemptions: [], preemptedBy: [] };

  const bases = new Map<string, Omit<TaskRequest, 'id'>>();
  const base = (serviceId: string): Omit<TaskRequest, 'id'> => {
    let b = bases.get(serviceId);
    if (b === undefined) bases.set(serviceId, (b = requestBase(state.services[serviceId]!)));
    return b;
  };
  const pending: QueuedTask[] = waiting.map((w) => {
    const b = base(w.serviceId);
    const spec = state.services[w.serviceId]!.spec;
    const job = w.job ? jobs[w.job.jobId] : undefined;
    return {
      ...b,
      id: w.id,
      // A pinned (global) task may only go to its node; the scheduler still checks it fits there.
      ...(w.nodeId !== null ? { constraints: [...(b.constraints ?? []), `node.id==${w.nodeId}`] } : {}),
      priority: w.priority,
      jobId: w.job?.jobId ?? null,
      namespace: job?.namespace ?? null,
      submittedAt: job?.submittedAt ?? w.createdAt,
      timeLimitMs: spec.job?.timeLimitMs ?? 0,
      gang: spec.scheduling.gang && w.job ? `job-${w.job.jobId}` : null,
      index: w.job?.index ?? 0,
    };
  });

  const running: RunningTask[] = placedTasks({ ...state, tasks }).map((p) => {
    const t = tasks.get(p.id)!;
    const service = state.services[t.serviceId];
    const job = t.job ? jobs[t.job.jobId] : undefined;
    return {
      ...p,
      priority: priorityOf(t.serviceId, t.job),
      jobId: t.job?.jobId ?? null,
      namespace: job?.namespace ?? null,
      startedAt: t.startedAt ?? t.updatedAt,
      timeLimitMs: service?.spec.job?.timeLimitMs ?? 0,
      preemptible: service?.spec.scheduling.preemptible ?? false,
      terminating: t.desiredState === 'shutdown',
    };
  });
  const usage: Record<string, number> = {};
  for (const [ns, u] of Object.entries(state.usage ?? {}))
    usage[ns] = decayedUsage(u, now, DEFAULT_FAIR_SHARE_HALF_LIFE_MS);

  const plan = planQueue({
    now,
    nodes: nodeViews(state, input.managers),
    running,
    pending,
    usage,
    quotas: state.quotas ?? {},
    options: input.seed === undefined ? {} : { seed: input.seed },
  });
  const messages = new Map(waiting.map((w) => [w.id, w.message]));
  const byId = new Map(pending.map((t) => [t.id, t]));
  const max = input.maxTasks ?? Infinity;
  return {
    assignments: plan.placements.slice(0, max).map((p) => ({ taskId: p.taskId, nodeId: p.nodeId, gpus: p.gpus ?? [] })),
    pending: plan.waiting
      .filter((w) => messages.get(w.taskId) !== w.message)
      .slice(0, max)
      .map((w) => ({ taskId: w.taskId, message: w.message })),
    preemptions: plan.preemptions.map((p) => p.victimTaskId),
    preemptedBy: plan.preemptions.map((p) => {
      const by = byId.get(p.forTaskId)!;
      return { taskId: by.id, jobId: by.jobId, priority: by.priority };
    }),
  };
}
