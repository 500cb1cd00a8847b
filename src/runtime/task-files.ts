/**
 * Secrets and configs for the runtime: a driver decorator that, when a task's service uses any,
 * resolves them just before its container is created (configs from the replicated state,
 * secrets from a Raft member over libp2p) and hands them to the driver as `files` of the
 * assignment. Nothing is fetched for a task that uses none, and nothing is kept in memory after
 * the create.
 * @module
 */
import type {
  CallOptions,
  ContainerDriver,
  ContainerEvent,
  LiveUsage,
  LogLine,
  LogOptions,
  ObservedContainer,
  ObservedNetwork,
  RunnableAssignment,
  StopOptions,
  TaskFile,
} from './types.js';

/** Resolves a task's files; throws TaskRejectedError when the task may not have them (refused, missing). */
export type ResolveTaskFiles = (
  nodeId: string,
  assignment: RunnableAssignment,
  signal?: AbortSignal,
) => Promise<readonly TaskFile[]>;

/** Whether the task's service names secrets or configs. */
export function usesTaskFiles(a: RunnableAssignment): boolean {
  return (a.service.spec.secrets?.length ?? 0) + (a.service.spec.configs?.length ?? 0) > 0;
}

/**
 * `inner` with each create given the task's files.
 * @example const driver = new TaskFilesDriver(router, (nodeId, a, signal) => delivery.resolve(nodeId, a, signal));
 */
export class TaskFilesDriver implements ContainerDriver {
  readonly name: string;
  readonly #inner: ContainerDriver;
  readonly #resolve: ResolveTaskFiles;

  constructor(inner: ContainerDriver, resolve: ResolveTaskFiles) {
    this.#inner = inner;
    this.#resolve = resolve;
    this.name = inner.name;
    if (inner.events) this.events = (nodeId, signal) => inner.events!(nodeId, signal);
    if (inner.networks) this.networks = (nodeId, options) => inner.networks!(nodeId, options);
    if (inner.removeNetwork) this.removeNetwork = (network, options) => inner.removeNetwork!(network, options);
    if (inner.liveUsage) this.liveUsage = (containerId, options) => inner.liveUsage!(containerId, options);
  }

  events?: (nodeId: string, signal: AbortSignal) => AsyncIterable<ContainerEvent>;
  networks?: (nodeId: string, options?: CallOptions) => Promise<ObservedNetwork[]>;
  removeNetwork?: (network: ObservedNetwork, options?: CallOptions) => Promise<boolean>;
  liveUsage?: (containerId: string, options?: CallOptions) => Promise<LiveUsage | null>;

  list(nodeId: string, options?: CallOptions): Promise<ObservedContainer[]> {
    return this.#inner.list(nodeId, options);
  }

  async create(nodeId: string, a: RunnableAssignment, options: CallOptions = {}): Promise<string> {
    if (!usesTaskFiles(a)) return this.#inner.create(nodeId, a, options);
    const files = await this.#resolve(nodeId, a, options.signal);
    return this.#inner.create(nodeId, { ...a, files }, options);
  }

  start(containerId: string, options?: CallOptions): Promise<void> {
    return this.#inner.start(containerId, options);
  }

  stop(containerId: string, stop: StopOptions, options?: CallOptions): Promise<void> {
    return this.#inner.stop(containerId, stop, options);
  }

  remove(containerId: string, options?: CallOptions): Promise<void> {
    return this.#inner.remove(containerId, options);
  }

  logs(containerId: string, options?: LogOptions): AsyncIterable<LogLine> {
    return this.#inner.logs(containerId, options);
  }
}
