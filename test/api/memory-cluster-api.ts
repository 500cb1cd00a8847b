/**
 * An in-memory {@link ClusterApi}: a small cluster held in plain objects, with the same error
 * behaviour the agent has (not initialized, not found, conflict). It is the seam the HTTP server
 * and the CLI are tested against, and the bench's agent.
 */
import {
  ApiError,
  type ClusterApi,
  type InitRequest,
  type InitResult,
  type JoinRequest,
  type JoinResult,
  type MemberView,
  type NodeView,
  type ReadOptions,
  type StatusView,
  type TokenResult,
  type WriteOptions,
} from '../../src/api/types.js';

/** Fixed peer ids (real Ed25519 peer id shapes) so tables are predictable. */
export const PEER_IDS = [
  '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo',
  '12D3KooWAbCdEfGhJkLmNoPqRsTuVwXyZ1234567890abcdefghi',
  '12D3KooWQYhTZZZZr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo',
] as const;

/** A call the API received, for assertions. */
export interface RecordedCall {
  readonly method: keyof ClusterApi;
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
    raftRole: 'voter',
    leader,
    resources: { cpus: 8, memoryBytes: 16 * 1024 ** 3, gpus: index === 0 ? 1 : 0 },
    version: '0.1.0',
    joinedAt: 1_700_000_000_000 + index,
  };
}

/** An in-memory cluster; `self` is the node that answers. */
export class MemoryClusterApi implements ClusterApi {
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
    return api;
  }

  async #enter(method: keyof ClusterApi, args: unknown[], signal?: AbortSignal): Promise<void> {
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
}
