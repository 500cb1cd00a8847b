/**
 * An in-memory {@link ClusterApi} and {@link WorkloadApi}: a small cluster held in plain objects,
 * with the same error behaviour the agent has (not initialized, not found, conflict, a Compose
 * file's errors). It is the seam the HTTP server and the CLI are tested against, and the bench's agent.
 */
import {
  type DiscoveredView,
  ApiError,
  type ClusterApi,
  type InitRequest,
  type InitResult,
  type JoinRequest,
  type JoinResult,
  type LogLine,
  type LogsRequest,
  type MemberView,
  type NodeView,
  type ReadOptions,
  type StatusView,
  type ServiceInspectView,
  type ServiceView,
  type StackDeployRequest,
  type StackDeployResult,
  type StackView,
  type TaskView,
  type TokenResult,
  type WorkloadApi,
  type WriteOptions,
} from '../../src/api/types.js';
import {
  LogFeed,
  MEMORY_NOW,
  diffDeploy,
  parseDeploy,
  tasksFor,
  type MemoryService,
  type MemoryStack,
} from './memory-workloads.js';

/** Fixed peer ids (real Ed25519 peer id shapes) so tables are predictable. */
export const PEER_IDS = [
  '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo',
  '12D3KooWAbCdEfGhJkLmNoPqRsTuVwXyZ1234567890abcdefghi',
  '12D3KooWQYhTZZZZr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo',
] as const;

/** A call the API received, for assertions. */
export interface RecordedCall {
  readonly method: keyof ClusterApi | keyof WorkloadApi;
  readonly args: unknown[];
  readonly signal?: AbortSignal;
}

function node(id: string, hostname: string, index: number, leader: boolean): NodeView {
  return {
    id,
    hostname,
    addresses: [`/ip4/10.0.0.${index + 1}/tcp/7946`],
    labels: index === 0 ? { zone: 'a', gpu: 'h100' } : {},
    availability: 'active',
    status: 'ready',
    reachable: true,
    raftRole: 'voter',
    leader,
    resources: { cpus: 8, memoryBytes: 16 * 1024 ** 3, gpus: index === 0 ? 1 : 0 },
    version: '0.1.0',
    joinedAt: 1_700_000_000_000 + index,
  };
}

/** An in-memory cluster; `self` is the node that answers. */
export class MemoryClusterApi implements ClusterApi, WorkloadApi {
  readonly calls: RecordedCall[] = [];
  initialized = false;
  clusterId = 'c-memory';
  nodes: NodeView[] = [];
  leader: string | null = null;
  term = 0;
  commit = 0;
  token = 'shoal-join-v1-memory-secret-0';
  warnings: string[] = [];
  /** When set, the next call throws it. */
  failNext: unknown;
  /** When true, every call waits until its signal aborts (to test client disconnects). */
  hang = false;
  stacks: MemoryStack[] = [];
  services: MemoryService[] = [];
  /** Finished tasks, shown with `all`. */
  history: TaskView[] = [];
  /** Service logs: `logs.push(line)` feeds followers, `logs.end()` ends them. */
  readonly logs = new LogFeed();

  constructor(readonly self: string = PEER_IDS[0]) {}

  /** Make a 3-node initialized cluster led by `self`. */
  static cluster(): MemoryClusterApi {
    const api = new MemoryClusterApi();
    api.initialized = true;
    api.nodes = [
      node(PEER_IDS[0], 'alpha', 0, true),
      node(PEER_IDS[1], 'beta', 1, false),
      node(PEER_IDS[2], 'gamma', 2, false),
    ];
    api.leader = PEER_IDS[0];
    api.term = 3;
    api.commit = 42;
    api.stacks = [{ name: 'web', createdAt: MEMORY_NOW - 3_600_000, updatedAt: MEMORY_NOW - 60_000 }];
    const service = (name: string, kind: ServiceView['kind'], image: string, replicas: number, ports: string[]) => ({
      id: `web_${name}`,
      stack: 'web',
      name,
      kind,
      image,
      replicas,
      ports,
      version: 2,
      updatedAt: MEMORY_NOW - 60_000,
      spec: { name, image },
    });
    api.services = [
      service('api', 'replicated', 'nginx:1.25', 2, ['8080:80']),
      service('agent', 'global', 'example/agent:1', 0, []),
    ];
    const [first] = tasksFor(api.services[0]!, api.nodes);
    api.history = [
      {
        ...first!,
        id: 'tfailedapi1'.padEnd(25, 'x'),
        state: 'failed',
        desiredState: 'shutdown',
        stateSince: MEMORY_NOW - 10 * 60_000,
        message: 'task: non-zero exit (1)',
        exitCode: 1,
      },
    ];
    return api;
  }

  async #enter(method: RecordedCall['method'], args: unknown[], signal?: AbortSignal): Promise<void> {
    this.calls.push({ method, args, signal });
    if (this.failNext !== undefined) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    if (this.hang) {
      await new Promise<void>((_, reject) => {
        if (!signal) return; // without a signal it would hang forever: tests always pass one through HTTP
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
  }

  #requireInit(): void {
    if (!this.initialized)
      throw new ApiError(
        409,
        'not_initialized',
        'this agent is not part of a cluster yet: run `shoal init` or `shoal join` first',
      );
  }

  async status(options?: ReadOptions): Promise<StatusView> {
    await this.#enter('status', [options?.consistency], options?.signal);
    const members: MemberView[] = this.nodes.map((n) => ({
      id: n.id,
      hostname: n.hostname,
      addresses: n.addresses,
      raftRole: n.raftRole,
      leader: n.id === this.leader,
      match: this.self === this.leader ? this.commit - (n.id === this.leader ? 0 : 1) : null,
      lag: this.self === this.leader ? (n.id === this.leader ? 0 : 1) : null,
      reachable: this.self === this.leader ? true : null,
    }));
    return {
      initialized: this.initialized,
      clusterId: this.initialized ? this.clusterId : null,
      nodeId: this.self,
      leader: this.leader,
      term: this.term,
      commit: this.commit,
      applied: this.commit,
      role: this.self === this.leader ? 'leader' : 'follower',
      targetVoters: 3,
      members,
      warnings: this.warnings,
    };
  }

  async listNodes(options?: ReadOptions): Promise<NodeView[]> {
    await this.#enter('listNodes', [options?.consistency], options?.signal);
    this.#requireInit();
    return this.nodes;
  }

  async init(request: InitRequest, options?: WriteOptions): Promise<InitResult> {
    await this.#enter('init', [request], options?.signal);
    if (this.initialized) throw new ApiError(409, 'conflict', `this agent is already in cluster ${this.clusterId}`);
    this.initialized = true;
    this.clusterId = request.clusterName ? `c-${request.clusterName}` : 'c-memory';
    this.nodes = [node(this.self, 'alpha', 0, true)];
    this.leader = this.self;
    this.term = 1;
    return { clusterId: this.clusterId, nodeId: this.self, token: this.token };
  }

  async join(request: JoinRequest, options?: WriteOptions): Promise<JoinResult> {
    await this.#enter('join', [request], options?.signal);
    if (this.initialized) throw new ApiError(409, 'conflict', `this agent is already in cluster ${this.clusterId}`);
    if (request.token !== this.token)
      throw new ApiError(401, 'unauthorized', 'the join token was refused: get a current one with `shoal token show`');
    this.initialized = true;
    return { clusterId: this.clusterId, nodeId: this.self, members: 2 };
  }

  async removeNode(id: string, options?: WriteOptions & { readonly force?: boolean }): Promise<void> {
    await this.#enter('removeNode', [id, options?.force], options?.signal);
    this.#requireInit();
    const target = this.nodes.find((n) => n.id === id);
    if (!target) throw new ApiError(404, 'not_found', `no node ${id} in the cluster: \`shoal node ls\` lists them`);
    if (target.status === 'ready' && !options?.force) {
      throw new ApiError(409, 'conflict', `node ${id} is up: stop its agent first, or use --force`);
    }
    this.nodes = this.nodes.filter((n) => n.id !== id);
  }

  async rotateToken(options?: WriteOptions): Promise<TokenResult> {
    await this.#enter('rotateToken', [], options?.signal);
    this.#requireInit();
    const next = Number(this.token.split('-').pop()) + 1;
    this.token = `shoal-join-v1-memory-secret-${next}`;
    return { token: this.token, fingerprint: `fp${next}` };
  }

  /** Agents found on the LAN: tests set them directly. */
  discovered: DiscoveredView[] = [];

  async discover(): Promise<DiscoveredView[]> {
    return this.discovered;
  }

  async showToken(options?: ReadOptions): Promise<TokenResult> {
    await this.#enter('showToken', [options?.consistency], options?.signal);
    this.#requireInit();
    return { token: this.token, fingerprint: `fp${this.token.split('-').pop()}` };
  }

  async transferLeader(to?: string, options?: WriteOptions): Promise<{ readonly leader: string }> {
    await this.#enter('transferLeader', [to], options?.signal);
    this.#requireInit();
    if (this.leader === null) throw new ApiError(503, 'unavailable', 'no leader right now: retry in a few seconds');
    const target = to ?? this.nodes.find((n) => n.id !== this.leader)?.id;
    if (target === undefined || !this.nodes.some((n) => n.id === target)) {
      throw new ApiError(404, 'not_found', `no voter ${to} to transfer leadership to`);
    }
    this.leader = target;
    this.term++;
    return { leader: target };
  }

  // --- WorkloadApi -------------------------------------------------------------------------

  #service(idOrName: string): MemoryService {
    const found = this.services.find((s) => s.id === idOrName) ?? this.services.filter((s) => s.name === idOrName);
    if (!Array.isArray(found)) return found;
    if (found.length === 1) return found[0]!;
    throw new ApiError(404, 'not_found', `no service ${idOrName}: \`shoal service ls\` lists them`);
  }

  #tasks(service: MemoryService, all: boolean): TaskView[] {
    const live = tasksFor(service, this.nodes);
    return all ? [...live, ...this.history.filter((t) => t.serviceId === service.id)] : live;
  }

  #serviceView(service: MemoryService): ServiceView {
    const desired = service.kind === 'global' ? this.nodes.length : service.replicas;
    return {
      id: service.id,
      stack: service.stack,
      name: service.name,
      kind: service.kind,
      image: service.image,
      running: desired,
      desired,
      ports: service.ports,
      version: service.version,
      updatedAt: service.updatedAt,
    };
  }

  #node(id: string): NodeView {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new ApiError(404, 'not_found', `no node ${id} in the cluster: \`shoal node ls\` lists them`);
    return node;
  }

  #replaceNode(next: NodeView): NodeView {
    this.nodes = this.nodes.map((n) => (n.id === next.id ? next : n));
    return next;
  }

  async deployStack(request: StackDeployRequest, options?: WriteOptions): Promise<StackDeployResult> {
    await this.#enter('deployStack', [request], options?.signal);
    this.#requireInit();
    const { services, warnings } = parseDeploy(request);
    const before = this.services.filter((s) => s.stack === request.name);
    const { changes, keep } = diffDeploy(request.name, before, services);
    this.services = [...this.services.filter((s) => s.stack !== request.name), ...keep];
    const existing = this.stacks.find((s) => s.name === request.name);
    if (existing) existing.updatedAt = MEMORY_NOW;
    else this.stacks.push({ name: request.name, createdAt: MEMORY_NOW, updatedAt: MEMORY_NOW });
    return { stack: request.name, services: changes, warnings };
  }

  async listStacks(options?: ReadOptions): Promise<StackView[]> {
    await this.#enter('listStacks', [options?.consistency], options?.signal);
    this.#requireInit();
    return this.stacks.map((stack) => {
      const views = this.services.filter((s) => s.stack === stack.name).map((s) => this.#serviceView(s));
      return {
        name: stack.name,
        services: views.length,
        tasksRunning: views.reduce((sum, v) => sum + v.running, 0),
        tasksDesired: views.reduce((sum, v) => sum + v.desired, 0),
        createdAt: stack.createdAt,
        updatedAt: stack.updatedAt,
      };
    });
  }

  async removeStack(
    name: string,
    options?: WriteOptions,
  ): Promise<{ readonly removed: string; readonly services: number }> {
    await this.#enter('removeStack', [name], options?.signal);
    this.#requireInit();
    if (!this.stacks.some((s) => s.name === name)) {
      throw new ApiError(404, 'not_found', `no stack ${name}: \`shoal stack ls\` lists them`);
    }
    const count = this.services.filter((s) => s.stack === name).length;
    this.stacks = this.stacks.filter((s) => s.name !== name);
    this.services = this.services.filter((s) => s.stack !== name);
    return { removed: name, services: count };
  }

  async stackTasks(name: string, options?: ReadOptions & { readonly all?: boolean }): Promise<TaskView[]> {
    await this.#enter('stackTasks', [name, options?.all === true], options?.signal);
    this.#requireInit();
    if (!this.stacks.some((s) => s.name === name)) {
      throw new ApiError(404, 'not_found', `no stack ${name}: \`shoal stack ls\` lists them`);
    }
    return this.services.filter((s) => s.stack === name).flatMap((s) => this.#tasks(s, options?.all === true));
  }

  async listServices(options?: ReadOptions & { readonly stack?: string }): Promise<ServiceView[]> {
    await this.#enter('listServices', [options?.stack], options?.signal);
    this.#requireInit();
    return this.services
      .filter((s) => options?.stack === undefined || s.stack === options.stack)
      .map((s) => this.#serviceView(s));
  }

  async inspectService(idOrName: string, options?: ReadOptions): Promise<ServiceInspectView> {
    await this.#enter('inspectService', [idOrName], options?.signal);
    this.#requireInit();
    const service = this.#service(idOrName);
    return {
      ...this.#serviceView(service),
      spec: service.spec,
      replicas: service.replicas,
      tasks: this.#tasks(service, false),
    };
  }

  async serviceTasks(idOrName: string, options?: ReadOptions & { readonly all?: boolean }): Promise<TaskView[]> {
    await this.#enter('serviceTasks', [idOrName, options?.all === true], options?.signal);
    this.#requireInit();
    return this.#tasks(this.#service(idOrName), options?.all === true);
  }

  async scaleService(idOrName: string, replicas: number, options?: WriteOptions): Promise<ServiceView> {
    await this.#enter('scaleService', [idOrName, replicas], options?.signal);
    this.#requireInit();
    const service = this.#service(idOrName);
    if (service.kind !== 'replicated') {
      throw new ApiError(
        400,
        'bad_request',
        `service ${service.id} is ${service.kind}: only replicated services scale`,
      );
    }
    service.replicas = replicas;
    return this.#serviceView(service);
  }

  async *serviceLogs(request: LogsRequest, options?: { readonly signal?: AbortSignal }): AsyncIterable<LogLine> {
    await this.#enter('serviceLogs', [request], options?.signal);
    this.#requireInit();
    const service = this.#service(request.service);
    const ids = new Set([...this.#tasks(service, true)].map((t) => t.id));
    yield* this.logs.read(request, ids, options?.signal);
  }

  async setNodeAvailability(
    id: string,
    availability: 'active' | 'drain' | 'pause',
    options?: WriteOptions,
  ): Promise<NodeView> {
    await this.#enter('setNodeAvailability', [id, availability], options?.signal);
    this.#requireInit();
    return this.#replaceNode({ ...this.#node(id), availability });
  }

  async updateNodeLabels(
    id: string,
    change: { readonly add?: Readonly<Record<string, string>>; readonly remove?: readonly string[] },
    options?: WriteOptions,
  ): Promise<NodeView> {
    await this.#enter('updateNodeLabels', [id, change], options?.signal);
    this.#requireInit();
    const node = this.#node(id);
    const labels: Record<string, string> = { ...node.labels, ...change.add };
    for (const key of change.remove ?? []) {
      if (!Object.hasOwn(labels, key)) throw new ApiError(404, 'not_found', `node ${id} has no label ${key}`);
      delete labels[key];
    }
    return this.#replaceNode({ ...node, labels });
  }
}
