/**
 * The node runtime's vocabulary: what the agent hands it (assignments), what it observes (the
 * node's containers), what it sends back (task reports), and the driver interface that stands
 * between the runtime and a container engine, so that drivers other than Docker can follow.
 *
 * @module
 */
import type { ServiceSpec } from '../stack/spec.js';
import type { TaskRecord } from '../state/workloads.js';

/** The service a task belongs to, as much of it as a node needs to run the task. */
export interface RuntimeService {
  /** `<stack>_<name>`. */
  readonly id: string;
  readonly stack: string;
  readonly name: string;
  readonly version: number;
  readonly spec: ServiceSpec;
}

/**
 * One task assigned to this node, with its service: the level-triggered desired state.
 * `service` is `null` when the service record is gone (its stack was removed) while the task
 * still waits for its container to stop: the task is then shut down, whatever its desired state,
 * and its container stopped the way it was created to be stopped.
 */
export interface RuntimeAssignment {
  readonly task: TaskRecord;
  readonly service: RuntimeService | null;
}

/** An assignment that can be run: its service is known. */
export interface RunnableAssignment extends RuntimeAssignment {
  readonly service: RuntimeService;
  /** The task's secrets and configs, resolved at create (task-files.ts); absent when it uses none. */
  readonly files?: readonly TaskFile[];
}

/** A secret or config as a task receives it: a file at `target` with this owner and mode. */
export interface TaskFile {
  readonly kind: 'secret' | 'config';
  /** The cluster object's name. */
  readonly name: string;
  /** Absolute path in the task. */
  readonly target: string;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  readonly data: Uint8Array;
}

/** What the runtime observed of one task: exactly an entry of a `task.report` command. */
export type { TaskReport } from '../state/workload-commands.js';

/** Docker's container states (other drivers map onto them). */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** Healthcheck status; `none` when the container has no healthcheck. */
export type HealthStatus = 'none' | 'starting' | 'healthy' | 'unhealthy';

/** One container of this node as the driver sees it. Times are ms since the epoch, `null` when never. */
export interface ObservedContainer {
  readonly id: string;
  readonly name: string;
  /** From the labels; `null` when a label is missing or garbled (the container is then removed). */
  readonly nodeId: string | null;
  readonly taskId: string | null;
  readonly generation: number | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly status: ContainerStatus;
  /** Exit code of the last run; `null` while it never exited. */
  readonly exitCode: number | null;
  readonly health: HealthStatus;
  /** Output of the last healthcheck probe, trimmed (for `unhealthy` messages). */
  readonly healthOutput: string;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** The engine's error for the last start, '' if none. */
  readonly error: string;
  readonly oomKilled: boolean;
  /** How the container asked to be stopped when created (used for strays, whose spec is unknown). */
  readonly stopSignal: string | null;
  readonly stopGraceMs: number | null;
  /**
   * Where this node reaches the container: its IPv4 address on its first stack network (by name),
   * when it has one (the service mesh connects to it). Absent for drivers without networks.
   */
  readonly address?: string | null;
  /** CPU time and peak memory of the finished or running process tree, when the driver knows them (0 = unknown). */
  readonly usage?: { readonly cpuMs: number; readonly peakMemoryBytes: number } | null;
}

/** How to stop a container: send `signal`, then kill after `graceMs`. */
export interface StopOptions {
  readonly graceMs: number;
  /** e.g. `SIGTERM`, `SIGINT`; the driver's default is `SIGTERM`. */
  readonly signal: string;
}

/** Options for {@link ContainerDriver.logs}. */
export interface LogOptions {
  /** Keep the iterable open and yield new lines as they come. */
  readonly follow?: boolean;
  /** Only the last N lines; default all. */
  readonly tail?: number;
  /** Only lines after this time (ms since the epoch). */
  readonly since?: number;
  readonly signal?: AbortSignal;
}

/** One line of a container's output. */
export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  /** ms since the epoch, as the engine stamped it. */
  readonly time: number;
  /** Without the trailing newline. */
  readonly line: string;
}

/** A state change of one of this node's containers (only a hint to reconcile sooner). */
export interface ContainerEvent {
  readonly containerId: string;
  /** The engine's action: `start`, `die`, `health_status: healthy`, `destroy`, ... */
  readonly action: string;
}

/** Common option of every async driver call. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /** `create` only: how its image pull is going ("pulling 45 %"), rate-limited by the driver. */
  readonly progress?: (message: string) => void;
}

/**
 * A container engine, as the runtime needs it. Errors a task must be failed for are
 * {@link TaskRejectedError} (the node cannot run this task at all: missing image, port taken,
 * invalid spec); anything else is an engine error the runtime retries by the restart policy.
 */
export interface ContainerDriver {
  /** For logs and messages (`docker`, `process`). */
  readonly name: string;
  /** This node's containers: those labelled with `nodeId`, in any state. */
  list(nodeId: string, options?: CallOptions): Promise<ObservedContainer[]>;
  /** Creates (does not start) the container of an assignment; resolves to its id. */
  create(nodeId: string, assignment: RunnableAssignment, options?: CallOptions): Promise<string>;
  start(containerId: string, options?: CallOptions): Promise<void>;
  /** Sends `stop.signal`, waits up to `stop.graceMs` for the exit, then kills. Resolves once stopped. */
  stop(containerId: string, stop: StopOptions, options?: CallOptions): Promise<void>;
  /** Removes the container (forcibly if still running); a missing container is not an error. */
  remove(containerId: string, options?: CallOptions): Promise<void>;
  logs(containerId: string, options?: LogOptions): AsyncIterable<LogLine>;
  /** State changes of this node's containers until `signal` aborts. Optional: the interval loop suffices. */
  events?(nodeId: string, signal: AbortSignal): AsyncIterable<ContainerEvent>;
  /** The stack networks this node's runtime created (labelled with its node id). Optional: drivers without networks. */
  networks?(nodeId: string, options?: CallOptions): Promise<ObservedNetwork[]>;
  /**
   * Removes one of {@link networks} unless a container (running or not) is on it or being created on
   * it: such a network is kept, and that is not an error; nor is a network that is gone already.
   * Resolves to whether it removed the network.
   */
  removeNetwork?(network: ObservedNetwork, options?: CallOptions): Promise<boolean>;
  /**
   * A running container's CPU time so far and memory in use now, for the autoscaler's samples
   * (src/agent/task-stats.ts); `null` when it has no such measure (stopped, gone). Optional.
   */
  liveUsage?(containerId: string, options?: CallOptions): Promise<LiveUsage | null>;
}

/** What {@link ContainerDriver.liveUsage} measured. */
export interface LiveUsage {
  /** CPU time used since the container started (the caller turns two readings into a rate). */
  readonly cpuMs: number;
  /** Memory in use now (without the page cache the kernel can reclaim), bytes. */
  readonly memoryBytes: number;
}

/** A stack network of this node, as the driver sees it. */
export interface ObservedNetwork {
  readonly id: string;
  /** `<stack>_<network>_<node short id>` (create-options.ts `stackNetworks`). */
  readonly name: string;
  /** Its `shoal.stack` label. */
  readonly stack: string;
}

/** Container labels the runtime owns. */
export const LABELS = {
  nodeId: 'shoal.node.id',
  taskId: 'shoal.task.id',
  generation: 'shoal.task.generation',
  serviceId: 'shoal.service.id',
  stack: 'shoal.stack',
  slot: 'shoal.task.slot',
  serviceVersion: 'shoal.service.version',
} as const;
