/**
 * The workload part of the admin API: stacks from Compose files, services, tasks, logs and
 * node operations. The agent parses and validates Compose files itself (the CLI stays small);
 * every change is one Raft command through the CommandWriter; reads are linearizable unless
 * `stale` is asked for.
 */
import {
  ApiError,
  type LogLine,
  type LogsRequest,
  type NodeView,
  type ReadOptions,
  type ServiceInspectView,
  type ServiceView,
  type StackDeployRequest,
  type StackDeployResult,
  type StackRemoveResult,
  type StackView,
  type TaskView,
  type WorkloadApi,
  type WriteOptions,
} from '../api/types.js';
import { describeRefusal, formatStackError, hashService } from '../stack/index.js';
import type { StackSpec } from '../stack/spec.js';
import type { ServiceRecord, TaskRecord } from '../state/workloads.js';
import { isTerminal } from '../state/workloads.js';
import type { ClusterStore } from './cluster-store.js';
import { ComposeParser, ComposeParseTimeoutError, sharedComposeParser } from './compose-parser.js';
import type { TaskLogs } from './node-workloads.js';
import { buildNodes, type NodeHealth, type RaftView } from './views.js';
import { crossNodeNamingWarning } from './naming-warning.js';
import { liveTaskIds, waitForTaskEnds } from './task-ends.js';
import { anyAutoscaled, autoscaleView, type AutoscaleLiveMap } from './autoscale-view.js';
import { RolloutService, rolloutView } from './rollout-api.js';
import { decodeRegistryAuth, pinServiceImage, pinServiceImages, type ResolveImage } from './image-pins.js';
import type { RegistryAuthDelivery } from './registry-auth.js';
import type { RolloutApi, ServiceHistoryView, ServiceUpdateRequest } from '../api/rollout-routes.js';

export interface WorkloadServiceDeps {
  readonly store: Pick<ClusterStore, 'state' | 'requireJoined' | 'read' | 'propose' | 'on' | 'off'>;
  readonly taskLogs: TaskLogs;
  /** Who the leader hears while this node leads; null when it does not. */
  readonly nodeHealth: () => NodeHealth | null;
  /** Raft's status, or an observer's view of the configuration (cluster-store.ts). */
  readonly raftView: () => RaftView | null;
  /** Parses Compose files off the main thread; one shared worker by default. */
  readonly parser?: ComposeParser;
  /** This node runs the service mesh (`--mesh`): names resolve across nodes, so no naming warning. */
  readonly namesAcrossNodes?: boolean;
  /** Creates the file's secrets and configs before its services (secret-api.ts); none by default. */
  readonly prepareStack?: (spec: StackSpec, options: WriteOptions) => Promise<void>;
  /** Removes what `prepareStack` created for a stack, once the stack is gone; nothing by default. */
  readonly afterStackRemove?: (stack: string, options: WriteOptions) => Promise<void>;
  /** The leader's current autoscaling values (autoscale-parts.ts); none by default. */
  readonly autoscaleLive?: () => Promise<AutoscaleLiveMap>;
  /** Resolves a tag to a pinned digest at deploy (image-pins.ts); images stay as written without it. */
  readonly resolveImage?: ResolveImage;
  /** Seals a deploy's registry credentials onto its services (registry-auth.ts); dropped without it. */
  readonly sealRegistryAuth?: RegistryAuthDelivery['sealForDeploy'];
}

export class WorkloadService implements WorkloadApi, RolloutApi {
  readonly #deps: WorkloadServiceDeps;
  readonly #store: WorkloadServiceDeps['store'];
  readonly #parser: ComposeParser;
  readonly #rollouts: RolloutService;

  constructor(deps: WorkloadServiceDeps) {
    this.#deps = deps;
    this.#store = deps.store;
    this.#parser = deps.parser ?? sharedComposeParser();
    const resolve = deps.resolveImage;
    this.#rollouts = new RolloutService({
      read: (signal) => this.#read(signal),
      requireJoined: () => this.#store.requireJoined(),
      findService: (idOrName) => this.#findService(idOrName),
      service: (id) => this.#store.state.service(id),
      propose: (command, options) => this.#store.propose(command, options),
      view: (service) => this.#serviceView(service),
      ...(resolve === undefined ? {} : { pinImage: (spec, signal) => pinServiceImage(spec, resolve, signal) }),
    });
  }

  // Rollouts (issue 15): rollout-api.ts.
  serviceHistory(idOrName: string, options?: ReadOptions): Promise<ServiceHistoryView> {
    return this.#rollouts.serviceHistory(idOrName, options);
  }
  rollbackService(idOrName: string, request: { to?: number }, options?: WriteOptions): Promise<ServiceView> {
    return this.#rollouts.rollbackService(idOrName, request, options);
  }
  promoteService(idOrName: string, options?: WriteOptions): Promise<ServiceView> {
    return this.#rollouts.promoteService(idOrName, options);
  }
  updateService(idOrName: string, request: ServiceUpdateRequest, options?: WriteOptions): Promise<ServiceView> {
    return this.#rollouts.updateService(idOrName, request, options);
  }

  async deployStack(request: StackDeployRequest, options: WriteOptions = {}): Promise<StackDeployResult> {
    const file = request.file || 'compose.yml';
    // Off the main thread: a large file must not hold up Raft's heartbeats (compose-parser.ts).
    const parsed = await this.#parser
      .parse({ compose: request.compose, file, name: request.name, env: request.env, files: request.files }, options)
      .catch((e: unknown) => {
        if (e instanceof ComposeParseTimeoutError) throw new ApiError(400, 'bad_request', e.message, { cause: e });
        throw e;
      });
    const warnings: string[] = parsed.warnings.map(formatStackError);
    if (!parsed.ok) {
      throw new ApiError(400, 'bad_request', describeRefusal(request.name, parsed.errors, parsed.warnings));
    }
    const spec = parsed.spec;
    await this.#read(options.signal);
    await this.#deps.prepareStack?.(spec, options);
    const stackServices = this.#store.state.servicesOfStack(spec.name);
    const before = new Map(stackServices.map((s) => [s.name, s.specHash]));
    const credentials = decodeRegistryAuth(request.registryAuth);
    const pinned = this.#deps.resolveImage
      ? await pinServiceImages(
          spec.services,
          (name) => stackServices.find((s) => s.name === name)?.spec,
          this.#deps.resolveImage,
          { ...options, credentials },
        )
      : { services: spec.services, warnings: [] };
    const sealed =
      (await this.#deps.sealRegistryAuth?.(spec.name, pinned.services, credentials, options.signal)) ?? null;
    const services = Object.entries(pinned.services).map(([name, serviceSpec]) => {
      const registryAuth = sealed?.get(name);
      return {
        name,
        spec: serviceSpec,
        specHash: hashService(serviceSpec),
        ...(registryAuth === undefined ? {} : { registryAuth }),
      };
    });
    await this.#store.propose({ type: 'stack.deploy', name: spec.name, services }, options);
    const changes: StackDeployResult['services'][number][] = services.map((s) => ({
      name: s.name,
      change: !before.has(s.name) ? 'created' : before.get(s.name) === s.specHash ? 'unchanged' : 'updated',
    }));
    for (const name of before.keys()) if (!(name in spec.services)) changes.push({ name, change: 'removed' });
    warnings.push(...pinned.warnings);
    const naming = this.#deps.namesAcrossNodes
      ? null
      : crossNodeNamingWarning(spec.name, Object.values(spec.services), this.#store.state.nodes().length);
    return {
      stack: spec.name,
      services: changes.sort((a, b) => a.name.localeCompare(b.name)),
      warnings: naming === null ? warnings : [...warnings, naming],
    };
  }

  async listStacks(options: ReadOptions = {}): Promise<StackView[]> {
    await this.#maybeRead(options);
    const state = this.#store.state;
    return state.stacks().map((stack) => {
      const services = state.servicesOfStack(stack.name);
      const tasks = services.flatMap((s) => state.tasksOfService(s.id));
      return {
        name: stack.name,
        services: services.length,
        tasksRunning: tasks.filter((t) => t.state === 'running' && t.desiredState === 'running').length,
        tasksDesired: services.reduce((sum, s) => sum + this.#desired(s), 0),
        createdAt: stack.createdAt,
        updatedAt: stack.updatedAt,
      };
    });
  }

  async removeStack(name: string, options: WriteOptions & { waitMs?: number } = {}): Promise<StackRemoveResult> {
    await this.#read(options.signal);
    const state = this.#store.state;
    const services = state.servicesOfStack(name);
    if (!state.stack(name))
      throw new ApiError(404, 'not_found', `No stack named ${name}: \`shoal stack ls\` lists them`);
    const live = liveTaskIds(services.flatMap((s) => state.tasksOfService(s.id)));
    await this.#store.propose({ type: 'stack.remove', name }, options);
    await this.#deps.afterStackRemove?.(name, options);
    if (options.waitMs === undefined) return { removed: name, services: services.length };
    const watch = {
      task: (id: string) => this.#store.state.task(id),
      on: (event: 'state:change', listener: () => void) => this.#store.on(event, listener),
      off: (event: 'state:change', listener: () => void) => this.#store.off(event, listener),
    };
    const ends = await waitForTaskEnds(watch, live, options.waitMs, options.signal);
    const stillRunning = ends.stillRunning.map((t) => ({
      id: t.id,
      node: t.nodeId === null ? null : (this.#store.state.node(t.nodeId)?.hostname ?? t.nodeId),
    }));
    return { removed: name, services: services.length, tasks: ends.waited, stillRunning };
  }

  async stackTasks(name: string, options: ReadOptions & { all?: boolean } = {}): Promise<TaskView[]> {
    await this.#maybeRead(options);
    if (!this.#store.state.stack(name))
      throw new ApiError(404, 'not_found', `No stack named ${name}: \`shoal stack ls\` lists them`);
    return this.#store.state.servicesOfStack(name).flatMap((s) => this.#taskViews(s, options.all ?? false));
  }

  async listServices(options: ReadOptions & { stack?: string } = {}): Promise<ServiceView[]> {
    await this.#maybeRead(options);
    const services = options.stack ? this.#store.state.servicesOfStack(options.stack) : this.#store.state.services();
    const live = anyAutoscaled(services) ? ((await this.#deps.autoscaleLive?.()) ?? null) : null;
    return services.map((s) => this.#serviceView(s, live));
  }

  async inspectService(idOrName: string, options: ReadOptions = {}): Promise<ServiceInspectView> {
    await this.#maybeRead(options);
    const service = this.#findService(idOrName);
    const live = anyAutoscaled([service]) ? ((await this.#deps.autoscaleLive?.()) ?? null) : null;
    return {
      ...this.#serviceView(service, live),
      spec: service.spec,
      replicas: service.replicas,
      tasks: this.#taskViews(service, true),
    };
  }

  async serviceTasks(idOrName: string, options: ReadOptions & { all?: boolean } = {}): Promise<TaskView[]> {
    await this.#maybeRead(options);
    return this.#taskViews(this.#findService(idOrName), options.all ?? false);
  }

  async scaleService(idOrName: string, replicas: number, options: WriteOptions = {}): Promise<ServiceView> {
    await this.#read(options.signal);
    const service = this.#findService(idOrName);
    if (service.spec.kind !== 'replicated') {
      throw new ApiError(
        400,
        'bad_request',
        `Cannot scale ${service.id} as it is a ${service.spec.kind} service: only replicated services have a replica count`,
      );
    }
    await this.#store.propose({ type: 'service.scale', serviceId: service.id, replicas }, options);
    const stackServices = this.#store.state.servicesOfStack(service.stack).map((s) => s.spec);
    const naming = this.#deps.namesAcrossNodes
      ? null
      : crossNodeNamingWarning(service.stack, stackServices, this.#store.state.nodes().length);
    const view = this.#serviceView(this.#store.state.service(service.id) ?? service);
    return naming === null ? view : { ...view, warnings: [naming] };
  }

  async *serviceLogs(request: LogsRequest, options: { signal?: AbortSignal } = {}): AsyncIterable<LogLine> {
    await this.#read(options.signal);
    const service = this.#findService(request.service);
    const tasks = this.#store.state
      .tasksOfService(service.id)
      .filter((t) => t.nodeId !== null && t.containerId !== null);
    // One task's logs may be gone (its node is down, its container removed): the others still stream.
    const streams = tasks.map((task) => skipFailures(this.#deps.taskLogs(task, service, request, options.signal)));
    yield* mergeAsync(streams);
  }

  async setNodeAvailability(
    id: string,
    availability: 'active' | 'drain' | 'pause',
    options: WriteOptions = {},
  ): Promise<NodeView> {
    const node = await this.#findNode(id, options.signal);
    await this.#store.propose({ type: 'node.setAvailability', id: node, availability }, options);
    return this.#nodeView(node);
  }

  async updateNodeLabels(
    id: string,
    change: { add?: Record<string, string>; remove?: readonly string[] },
    options: WriteOptions = {},
  ): Promise<NodeView> {
    const node = await this.#findNode(id, options.signal);
    await this.#store.propose(
      {
        type: 'node.labels',
        id: node,
        ...(change.add ? { add: change.add } : {}),
        ...(change.remove ? { remove: [...change.remove] } : {}),
      },
      options,
    );
    return this.#nodeView(node);
  }

  #serviceView(service: ServiceRecord, live: AutoscaleLiveMap = null): ServiceView {
    const tasks = this.#store.state.tasksOfService(service.id);
    return {
      id: service.id,
      stack: service.stack,
      name: service.name,
      kind: service.spec.kind,
      image: service.spec.image,
      running: tasks.filter((t) => t.state === 'running' && t.desiredState === 'running').length,
      desired: this.#desired(service),
      ports: service.spec.ports.map((p) => `${p.published ?? ''}:${p.target}/${p.protocol}`),
      version: service.version,
      updatedAt: service.updatedAt,
      ...(service.rollout === undefined ? {} : { update: rolloutView(service.rollout) }),
      ...autoscaleView(service, live),
    };
  }

  #desired(service: ServiceRecord): number {
    if (service.spec.kind === 'replicated') return service.replicas;
    if (service.spec.kind === 'global') {
      return this.#store.state
        .tasksOfService(service.id)
        .filter((t) => t.desiredState === 'running' && !isTerminal(t.state)).length;
    }
    return 0;
  }

  #taskViews(service: ServiceRecord, all: boolean): TaskView[] {
    const state = this.#store.state;
    return state
      .tasksOfService(service.id)
      .filter((t) => all || t.desiredState === 'running' || !isTerminal(t.state))
      .sort((a, b) => a.slot - b.slot || (a.nodeId ?? '').localeCompare(b.nodeId ?? '') || b.createdAt - a.createdAt)
      .map((t) => taskView(t, service, t.nodeId ? (state.node(t.nodeId)?.hostname ?? null) : null));
  }

  #findService(idOrName: string): ServiceRecord {
    const state = this.#store.state;
    const exact = state.service(idOrName);
    if (exact) return exact;
    const matches = state.services().filter((s) => s.name === idOrName || s.id.startsWith(idOrName));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1)
      throw new ApiError(
        400,
        'bad_request',
        `"${idOrName}" matches ${matches.length} services (${matches.map((s) => s.id).join(', ')}): use the full <stack>_<service> id`,
      );
    throw new ApiError(404, 'not_found', `No service named ${idOrName}: \`shoal service ls\` lists them`);
  }

  async #findNode(idOrName: string, signal?: AbortSignal): Promise<string> {
    // A full node id this node knows needs no read to resolve: the write that follows is refused
    // by apply if the node is gone meanwhile. Prefixes and hostnames are resolved on fresh state.
    if (this.#store.state.node(idOrName)) return idOrName;
    await this.#read(signal);
    const nodes = this.#store.state.nodes();
    const matches = nodes.filter((n) => n.id.startsWith(idOrName) || n.hostname === idOrName);
    if (matches.length === 1) return matches[0]!.id;
    if (matches.length > 1)
      throw new ApiError(400, 'bad_request', `"${idOrName}" matches ${matches.length} nodes: use a longer id prefix`);
    throw new ApiError(404, 'not_found', `No node ${idOrName}: \`shoal node ls\` lists them`);
  }

  #nodeView(id: string): NodeView {
    return buildNodes(this.#deps.raftView(), this.#store.state, this.#deps.nodeHealth()).find((n) => n.id === id)!;
  }

  async #maybeRead(options: ReadOptions): Promise<void> {
    this.#store.requireJoined();
    if (options.consistency !== 'stale') await this.#read(options.signal);
  }

  async #read(signal?: AbortSignal): Promise<void> {
    await this.#store.read(signal);
  }
}

export function taskView(task: TaskRecord, service: ServiceRecord, hostname: string | null): TaskView {
  const suffix = service.spec.kind === 'global' ? (task.nodeId ?? '').slice(0, 12) : String(task.slot);
  return {
    id: task.id,
    serviceId: task.serviceId,
    name: `${service.id}.${suffix}`,
    // The image of the task's own version: during a rollout, old tasks still run the old one.
    image: imageOfVersion(service, task.serviceVersion),
    nodeId: task.nodeId,
    nodeHostname: hostname,
    desiredState: task.desiredState,
    state: task.state,
    stateSince: task.updatedAt,
    message: task.message,
    exitCode: task.exitCode,
    restarts: task.restarts,
    containerId: task.containerId,
    ports: service.spec.ports.map((p) => ({
      published: p.published,
      target: p.target,
      protocol: p.protocol,
      hostIp: p.hostIp,
    })),
  };
}

/** A stream that ends quietly instead of failing. */
async function* skipFailures<T>(stream: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* stream;
  } catch {
    // the task's node or container is gone
  }
}

/** Interleave several async streams as their items arrive. */
async function* mergeAsync<T>(streams: AsyncIterable<T>[]): AsyncIterable<T> {
  const iterators = streams.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<T> }>>();
  iterators.forEach((it, i) =>
    pending.set(
      i,
      it.next().then((r) => ({ i, r })),
    ),
  );
  try {
    while (pending.size > 0) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(i);
        continue;
      }
      pending.set(
        i,
        iterators[i]!.next().then((next) => ({ i, r: next })),
      );
      yield r.value;
    }
  } finally {
    await Promise.all(iterators.map((it) => it.return?.()));
  }
}

/** The image `version` of the service runs (its history's entry), the current one if not kept. */
function imageOfVersion(service: ServiceRecord, version: number): string {
  if (version === service.version) return service.spec.image;
  return service.history?.find((e) => e.version === version)?.spec.image ?? service.spec.image;
}
