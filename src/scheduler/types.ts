/**
 * The scheduler's own view of the cluster: plain data, no classes, so that an adapter can map
 * the replicated state onto it and tests can build it by hand.
 *
 * Units: CPU in millicores (1000 = one core), memory in bytes, GPUs as device ids that are
 * handed out exclusively, generic resources as counts of interchangeable units (Swarm's
 * "discrete" generic resources, e.g. `{ ssd: 2 }`).
 */

/** A node's role in the cluster (`node.role` in constraints). */
export type NodeRole = 'manager' | 'worker';

/**
 * What the admin allows on a node: `active` takes new tasks, `pause` keeps its tasks but takes no
 * new ones, `drain` takes none and its tasks are moved away (by the orchestrator, not here).
 */
export type NodeAvailability = 'active' | 'pause' | 'drain';

/** What the cluster observes of a node: `down` nodes get nothing. */
export type NodeStatus = 'ready' | 'down';

/** Transport protocol of a published host port; `tcp` when left out. */
export type PortProtocol = 'tcp' | 'udp';

/** A host port, published by a task or already taken on a node. */
export interface HostPort {
  readonly port: number;
  readonly protocol?: PortProtocol;
}

/** A node's total capacity (not what is free: the scheduler subtracts placed tasks itself). */
export interface NodeResources {
  /** Millicores. */
  readonly cpus: number;
  readonly memoryBytes: number;
  /** Device ids (e.g. GPU UUIDs), each given to at most one task; assigned in this order. */
  readonly gpus?: readonly string[];
  /** Counted generic resources by name, e.g. `{ ssd: 2, fpga: 1 }`. */
  readonly generic?: Readonly<Record<string, number>>;
}

/** One node as the scheduler sees it. */
export interface NodeView {
  /** Node id (the libp2p peer id in shoal); also the final tie-breaker between equal nodes. */
  readonly id: string;
  readonly hostname: string;
  readonly role: NodeRole;
  /** Admin-set labels (`node.labels.<name>` in constraints and preferences). */
  readonly labels: Readonly<Record<string, string>>;
  /** Labels reported by the node's engine (`engine.labels.<name>`). */
  readonly engineLabels?: Readonly<Record<string, string>>;
  /** `node.platform.os` / `node.platform.arch` in constraints. */
  readonly platform?: { readonly os: string; readonly arch: string };
  readonly availability: NodeAvailability;
  readonly status: NodeStatus;
  readonly resources: NodeResources;
  /** Host ports taken by something other than placed tasks (placed tasks' ports are added from them). */
  readonly portsInUse?: readonly HostPort[];
}

/** What one task reserves on its node. Every field defaults to 0 / none. */
export interface Reservations {
  /** Millicores. */
  readonly cpus?: number;
  readonly memoryBytes?: number;
  /** Number of GPU devices; the scheduler picks which ones. */
  readonly gpus?: number;
  /** Counted generic resources by name. */
  readonly generic?: Readonly<Record<string, number>>;
}

/** The service kind the task belongs to; informational for placement (global tasks come pinned by a `node.id==` constraint). */
export type TaskKind = 'replicated' | 'global' | 'job';

/** `spread` (default): fewest tasks of the service on a node first. `binpack`: fullest node that fits first. */
export type Strategy = 'spread' | 'binpack';

/** Swarm's placement preference: spread tasks evenly over the values of a node attribute, e.g. `node.labels.zone`. */
export interface PlacementPreference {
  readonly spread: string;
}

/**
 * Affinity to another service's tasks. `affinity`: on a node that runs at least one task of
 * `service`; `anti-affinity`: on a node that runs none. `required` rules filter nodes out,
 * the others only score (weighted by `weight`, default 1).
 */
export interface AffinityRule {
  readonly service: string;
  readonly type: 'affinity' | 'anti-affinity';
  readonly required: boolean;
  readonly weight?: number;
}

/** One task waiting for a node. Tasks with equal fields (apart from `id`) are scheduled as one group. */
export interface TaskRequest {
  readonly id: string;
  readonly serviceId: string;
  readonly kind?: TaskKind;
  /** Higher goes first; default 0. */
  readonly priority?: number;
  readonly reservations?: Reservations;
  /** Swarm constraint expressions, all of which must hold: `node.labels.zone==eu`, `node.role!=manager`. */
  readonly constraints?: readonly string[];
  /** Hierarchical: the first preference is balanced first, then the next one inside each of its values. */
  readonly preferences?: readonly PlacementPreference[];
  /** At most this many tasks of the service on one node; 0 or absent means no limit. */
  readonly maxReplicasPerNode?: number;
  /** Host ports the task publishes (mode `host`); they must be free on the node. */
  readonly ports?: readonly HostPort[];
  readonly affinity?: readonly AffinityRule[];
  readonly strategy?: Strategy;
}

/** A task already on a node: it holds its reservations, ports and devices there. */
export interface PlacedTask {
  readonly id: string;
  readonly serviceId: string;
  readonly nodeId: string;
  readonly reservations?: Reservations;
  readonly ports?: readonly HostPort[];
  /** Device ids the task holds. */
  readonly gpus?: readonly string[];
}

/** The state the scheduler decides on. */
export interface ClusterSnapshot {
  readonly nodes: readonly NodeView[];
  readonly tasks: readonly PlacedTask[];
}

/** A decision: run `taskId` on `nodeId`, with these GPU devices if it asked for any. */
export interface Placement {
  readonly taskId: string;
  readonly nodeId: string;
  readonly gpus?: readonly string[];
}

/** How many nodes one filter turned down for one reason. */
export interface Rejection {
  /** The filter's name, e.g. `resources`. */
  readonly filter: string;
  /** The filter's reason, e.g. `memory`, or the constraint text. */
  readonly detail: string;
  readonly nodes: number;
  /** The same in words: `insufficient memory on 2 nodes`. */
  readonly message: string;
}

/** A task that could not be placed, and why, in words a person can act on. */
export interface Unplaced {
  readonly taskId: string;
  /** e.g. `no suitable node (1 node draining; insufficient memory on 2 nodes)`. */
  readonly reason: string;
  /** The counts behind `reason`; empty when the task itself is invalid. */
  readonly rejections: readonly Rejection[];
}

export interface ScheduleResult {
  readonly placements: readonly Placement[];
  readonly unplaced: readonly Unplaced[];
}

/**
 * Weights of the score families in the total (each score is 0–100). The defaults make placement
 * preferences dominate soft affinity, which dominates the strategy, as in Swarm.
 */
export interface ScoreWeights {
  readonly preferences: number;
  readonly affinity: number;
  readonly strategy: number;
}

export interface ScheduleOptions {
  /** Break ties between equal nodes by a seeded shuffle instead of by node id. */
  readonly seed?: number;
  readonly weights?: Partial<ScoreWeights>;
}

/** Default {@link ScoreWeights}. */
export const DEFAULT_WEIGHTS: ScoreWeights = Object.freeze({ preferences: 100, affinity: 10, strategy: 1 });
