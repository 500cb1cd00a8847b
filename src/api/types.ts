/**
 * The admin API as the agent implements it and the HTTP layer serves it. Everything here is
 * plain JSON-able data: the CLI receives exactly these shapes (`-o json` prints them as is).
 */
import type { AutoscaleView } from './autoscale-types.js';

/** How fresh a read must be. `linearizable` (default) confirms with a quorum (ReadIndex); `stale` reads local state. */
export type ReadConsistency = 'linearizable' | 'stale';

export interface ReadOptions {
  readonly consistency?: ReadConsistency;
  readonly signal?: AbortSignal;
}

export interface WriteOptions {
  readonly signal?: AbortSignal;
}

export interface MemberView {
  readonly id: string;
  readonly hostname: string;
  readonly addresses: readonly string[];
  /** Raft role in the configuration; `observer`: registered, follows the state feed, not in it. */
  readonly raftRole: 'voter' | 'learner' | 'observer' | 'none';
  readonly leader: boolean;
  /** Highest log index known replicated on it (leader's view; null when this node is not the leader and cannot know). */
  readonly match: number | null;
  /** Entries behind the leader's last index (null when unknown). */
  readonly lag: number | null;
  /** Heard from within the health grace period (leader's view; null when unknown). */
  readonly reachable: boolean | null;
}

export interface StatusView {
  readonly initialized: boolean;
  readonly clusterId: string | null;
  readonly nodeId: string;
  /** The agent this answer came from (may differ from nodeId's leader). */
  readonly leader: string | null;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  /** The answering node's own role: a Raft state, or `observer` (not a Raft member). */
  readonly role: 'follower' | 'preCandidate' | 'candidate' | 'leader' | 'observer';
  readonly targetVoters: number;
  readonly members: readonly MemberView[];
  /** Plain-language limits of the current shape, e.g. "2 voters: losing either one stops all writes". */
  readonly warnings: readonly string[];
}

export interface NodeView {
  readonly id: string;
  readonly hostname: string;
  readonly addresses: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly availability: 'active' | 'drain' | 'pause';
  /**
   * The node's status in the replicated state: `down` once the leader heard nothing from it for
   * the node grace (5 s), which is when its replicas are placed elsewhere.
   */
  readonly status: 'ready' | 'down' | 'unknown';
  /**
   * Whether the leader hears the node right now (Raft traffic; an observer's presence), null when
   * not known here. Faster than `status`.
   */
  readonly reachable: boolean | null;
  readonly raftRole: 'voter' | 'learner' | 'observer' | 'none';
  readonly leader: boolean;
  readonly resources: { readonly cpus: number; readonly memoryBytes: number; readonly gpus: number };
  readonly version: string;
  readonly joinedAt: number;
  /** What the node says needs a person (a service port it cannot listen on); absent when nothing. */
  readonly message?: string;
}

export interface InitRequest {
  readonly clusterName?: string;
}

export interface InitResult {
  readonly clusterId: string;
  readonly nodeId: string;
  readonly token: string;
}

export interface JoinRequest {
  /** A member's libp2p multiaddr including /p2p/<peer id>, e.g. /ip4/10.0.0.5/tcp/7946/p2p/12D3Koo... */
  readonly address: string;
  readonly token: string;
}

export interface JoinResult {
  readonly clusterId: string;
  readonly nodeId: string;
  readonly members: number;
}

export interface TokenResult {
  readonly token: string;
  readonly fingerprint: string;
}

/** A shoal agent seen on the LAN through mDNS (`shoal agent --mdns`). */
export interface DiscoveredView {
  readonly peerId: string;
  readonly addresses: readonly string[];
  readonly lastSeen: number;
  /** Already a member of this agent's cluster. */
  readonly member: boolean;
}

/** What the admin API can do. Implemented by the agent; writes are forwarded to the leader inside. */
export interface ClusterApi {
  status(options?: ReadOptions): Promise<StatusView>;
  listNodes(options?: ReadOptions): Promise<NodeView[]>;
  init(request: InitRequest, options?: WriteOptions): Promise<InitResult>;
  join(request: JoinRequest, options?: WriteOptions): Promise<JoinResult>;
  /** Remove a node from the cluster and revoke it: its connections are refused from then on. */
  removeNode(id: string, options?: WriteOptions & { readonly force?: boolean }): Promise<void>;
  rotateToken(options?: WriteOptions): Promise<TokenResult>;
  showToken(options?: ReadOptions): Promise<TokenResult>;
  /** Move leadership to `to`, or to the most up-to-date other voter when omitted. */
  transferLeader(to?: string, options?: WriteOptions): Promise<{ readonly leader: string }>;
  /** Agents this one found on the LAN with mDNS (empty without `--mdns`). */
  discover(options?: ReadOptions): Promise<DiscoveredView[]>;
}

/**
 * An error the API reports to the caller. `code` is stable for scripts; `status` is the HTTP
 * status; the message says what failed and what to do.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type ApiErrorCode =
  | 'bad_request' // 400: the request is malformed; the message names the field
  | 'unauthorized' // 401: admin token missing or wrong
  | 'not_found' // 404
  | 'conflict' // 409: e.g. init on an initialized node
  | 'not_initialized' // 409: this agent is not part of a cluster yet: init or join first
  | 'unavailable' // 503: no leader / no quorum right now: retry
  | 'outcome_unknown' // 503: the write may or may not have been applied: retry with the same request id
  | 'timeout' // 504
  | 'internal'; // 500

// ---------------------------------------------------------------------------------------------
// Workloads (stacks, services, tasks) and node operations.
// ---------------------------------------------------------------------------------------------

export interface StackDeployRequest {
  /** The stack's name (`--name`, default: the Compose file's directory name). */
  readonly name: string;
  /** The Compose file's text; parsed and validated by the agent. */
  readonly compose: string;
  /** The file name, for error messages (`compose.yml:14 services.api...`). */
  readonly file: string;
  /** Variables for `${VAR}` interpolation (the CLI sends its environment and `.env`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Files `env_file:` may read, by path relative to the Compose file, sent by the CLI. */
  readonly files?: Readonly<Record<string, string>>;
  /**
   * `--with-registry-auth`: base64 `user:password` by registry host (`docker.io`, `ghcr.io`), from
   * the CLI user's Docker config; used to resolve the file's tags, never stored, logged or shown.
   */
  readonly registryAuth?: Readonly<Record<string, string>>;
}

export interface StackDeployResult {
  readonly stack: string;
  /** Per service: created, updated (spec changed), unchanged, or removed (no longer in the file). */
  readonly services: readonly {
    readonly name: string;
    readonly change: 'created' | 'updated' | 'unchanged' | 'removed';
  }[];
  readonly warnings: readonly string[];
}

export interface StackView {
  readonly name: string;
  readonly services: number;
  readonly tasksRunning: number;
  readonly tasksDesired: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ServiceView {
  readonly id: string;
  readonly stack: string;
  readonly name: string;
  readonly kind: 'replicated' | 'global' | 'job' | 'cron';
  readonly image: string;
  /** Running / desired, e.g. 3/3; for global services desired = eligible nodes. */
  readonly running: number;
  readonly desired: number;
  readonly ports: readonly string[];
  readonly version: number;
  readonly updatedAt: number;
  /** Its current or last rollout (issue 15); absent for services from before rollouts, jobs and cron. */
  readonly update?: ServiceUpdateView;
  /** What the user should know about the change just made (scale). */
  readonly warnings?: readonly string[];
  /** Autoscaled services: bounds, targets, current values, the last decision (autoscale-types.ts). */
  readonly autoscale?: AutoscaleView;
}

/** Where a service's rollout stands (`shoal service ls` UPDATE column). */
export interface ServiceUpdateView {
  /** updating, awaiting_promotion, paused, rolling_back, rollback_paused, completed, rolled_back. */
  readonly state: string;
  readonly reason: string;
  readonly fromVersion: number;
  readonly toVersion: number;
  /** Tasks of the new version updated (healthy), failed, and wanted. */
  readonly updated: number;
  readonly failed: number;
  readonly total: number;
  readonly startedAt: number;
  readonly updatedAt: number;
}

export interface TaskView {
  readonly id: string;
  readonly serviceId: string;
  /** `web_api.2` (replicated) or `web_agent.<node short id>` (global), like `docker service ps`. */
  readonly name: string;
  readonly image: string;
  readonly nodeId: string | null;
  readonly nodeHostname: string | null;
  readonly desiredState: string;
  readonly state: string;
  /** Since when it is in `state`. */
  readonly stateSince: number;
  readonly message: string;
  readonly exitCode: number | null;
  readonly restarts: number;
  /** The container (or process) id on its node, once started; for `-o wide`. */
  readonly containerId?: string | null;
  /** The service's published ports (`published` null: any free port), for `-o wide`. */
  readonly ports?: readonly TaskPortView[];
}

/** One published port of a task. */
export interface TaskPortView {
  readonly published: number | null;
  readonly target: number;
  readonly protocol: string;
  readonly hostIp: string | null;
}

/** The whole record, for `service inspect`. */
export interface ServiceInspectView extends ServiceView {
  readonly spec: unknown;
  readonly replicas: number;
  readonly tasks: readonly TaskView[];
}

export interface LogLine {
  readonly taskId: string;
  readonly taskName: string;
  readonly nodeId: string;
  readonly stream: 'stdout' | 'stderr';
  /** ms since epoch, from the container runtime. */
  readonly time: number;
  readonly line: string;
}

export interface LogsRequest {
  readonly service: string;
  readonly follow?: boolean;
  /** Last N lines per task. */
  readonly tail?: number;
  readonly since?: number;
}

/** What `DELETE /v1/stacks/:name` answers. */
export interface StackRemoveResult {
  readonly removed: string;
  readonly services: number;
  /** With `wait`: the tasks that were running when the stack was removed. */
  readonly tasks?: number;
  /** With `wait`: those still not ended when the wait's bound passed, and where they run. */
  readonly stillRunning?: readonly { readonly id: string; readonly node: string | null }[];
}

/** The workload part of the admin API (the services milestone). */
export interface WorkloadApi {
  deployStack(request: StackDeployRequest, options?: WriteOptions): Promise<StackDeployResult>;
  listStacks(options?: ReadOptions): Promise<StackView[]>;
  /** With `waitMs`, answers once the stack's tasks have ended, or with those still running past it. */
  removeStack(name: string, options?: WriteOptions & { readonly waitMs?: number }): Promise<StackRemoveResult>;
  /** Tasks of every service of the stack. */
  stackTasks(name: string, options?: ReadOptions & { readonly all?: boolean }): Promise<TaskView[]>;
  listServices(options?: ReadOptions & { readonly stack?: string }): Promise<ServiceView[]>;
  inspectService(idOrName: string, options?: ReadOptions): Promise<ServiceInspectView>;
  /** Tasks of one service; `all` includes finished history. */
  serviceTasks(idOrName: string, options?: ReadOptions & { readonly all?: boolean }): Promise<TaskView[]>;
  scaleService(idOrName: string, replicas: number, options?: WriteOptions): Promise<ServiceView>;
  /** Streams from the nodes that run the tasks (over libp2p), merged. */
  serviceLogs(request: LogsRequest, options?: { readonly signal?: AbortSignal }): AsyncIterable<LogLine>;
  setNodeAvailability(
    id: string,
    availability: 'active' | 'drain' | 'pause',
    options?: WriteOptions,
  ): Promise<NodeView>;
  updateNodeLabels(
    id: string,
    change: { readonly add?: Readonly<Record<string, string>>; readonly remove?: readonly string[] },
    options?: WriteOptions,
  ): Promise<NodeView>;
}

/**
 * The header that carries a write's request id: the cluster applies a write with a given id at
 * most once, so a client sends the same id again when it does not know a write's outcome.
 */
export const REQUEST_ID_HEADER = 'x-shoal-request-id';
/** What the admin API accepts as a request id (the writes of a request get `<id>:<n>`). */
export const CLIENT_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
