/**
 * One ContainerDriver over two: Docker containers and host processes. A task goes to the process
 * runtime when its service says `runtime: process`, to Docker otherwise; every later call follows
 * the container id (process ids start with `proc-`).
 *
 * @module
 */
import { TaskRejectedError } from './errors.js';
import { PROCESS_ID_PREFIX } from './process/process-driver.js';
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
} from './types.js';

/** Options of {@link DriverRouter}. */
export interface DriverRouterOptions {
  /** `null` on a node without Docker: only process tasks can run there. */
  readonly docker: ContainerDriver | null;
  readonly process: ContainerDriver;
}

/**
 * Routes each call to the Docker driver or the process driver.
 *
 * @example
 * ```ts
 * const driver = new DriverRouter({ docker: new DockerDriver(), process: new ProcessDriver({ stateDir }) });
 * const runtime = new NodeRuntime({ nodeId, driver });
 * ```
 */
export class DriverRouter implements ContainerDriver {
  readonly name: string;
  readonly #docker: ContainerDriver | null;
  readonly #process: ContainerDriver;

  constructor(options: DriverRouterOptions) {
    this.#docker = options.docker;
    this.#process = options.process;
    this.name = options.docker ? `${options.docker.name}+${options.process.name}` : options.process.name;
  }

  /** Both drivers' containers; an error of either propagates (a partial list would stop the others' tasks). */
  async list(nodeId: string, options?: CallOptions): Promise<ObservedContainer[]> {
    const [docker, processes] = await Promise.all([
      this.#docker ? this.#docker.list(nodeId, options) : Promise.resolve([]),
      this.#process.list(nodeId, options),
    ]);
    return [...docker, ...processes];
  }

  create(nodeId: string, a: RunnableAssignment, options?: CallOptions): Promise<string> {
    if (a.service.spec.runtime === 'process') return this.#process.create(nodeId, a, options);
    if (!this.#docker) {
      return Promise.reject(
        new TaskRejectedError(
          `Cannot run task ${a.task.id} of ${a.service.id}: Docker is not available on this node; ` +
            'run it on a node with Docker, or set `x-shoal.runtime: process` with a command',
        ),
      );
    }
    return this.#docker.create(nodeId, a, options);
  }

  start(containerId: string, options?: CallOptions): Promise<void> {
    return this.#for(containerId).start(containerId, options);
  }

  stop(containerId: string, stop: StopOptions, options?: CallOptions): Promise<void> {
    return this.#for(containerId).stop(containerId, stop, options);
  }

  remove(containerId: string, options?: CallOptions): Promise<void> {
    return this.#for(containerId).remove(containerId, options);
  }

  logs(containerId: string, options?: LogOptions): AsyncIterable<LogLine> {
    return this.#for(containerId).logs(containerId, options);
  }

  /** Docker's stack networks (host processes have none). */
  async networks(nodeId: string, options?: CallOptions): Promise<ObservedNetwork[]> {
    return this.#docker?.networks ? this.#docker.networks(nodeId, options) : [];
  }

  async removeNetwork(network: ObservedNetwork, options?: CallOptions): Promise<boolean> {
    return (await this.#docker?.removeNetwork?.(network, options)) ?? false;
  }

  async liveUsage(containerId: string, options?: CallOptions): Promise<LiveUsage | null> {
    const driver = containerId.startsWith(PROCESS_ID_PREFIX) ? this.#process : this.#docker;
    return (await driver?.liveUsage?.(containerId, options)) ?? null;
  }

  /** Both drivers' events, merged as they come; ends when `signal` aborts. */
  events(nodeId: string, signal: AbortSignal): AsyncIterable<ContainerEvent> {
    const sources = [this.#docker, this.#process].filter(
      (d): d is ContainerDriver & Required<Pick<ContainerDriver, 'events'>> => d !== null && d.events !== undefined,
    );
    return merge(
      sources.map((d) => d.events(nodeId, signal)),
      signal,
    );
  }

  #for(containerId: string): ContainerDriver {
    if (containerId.startsWith(PROCESS_ID_PREFIX)) return this.#process;
    if (!this.#docker) throw new Error(`Cannot act on container ${containerId}: Docker is not available on this node`);
    return this.#docker;
  }
}

/**
 * The items of several async iterables as they come. An iterable that throws ends the merge with
 * its error (the runtime then retries the whole stream after an interval).
 */
async function* merge<T>(sources: AsyncIterable<T>[], signal: AbortSignal): AsyncGenerator<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<T> }>>();
  const pull = (i: number) =>
    pending.set(
      i,
      iterators[i]!.next().then((r) => ({ i, r })),
    );
  iterators.forEach((_, i) => pull(i));
  try {
    while (pending.size > 0 && !signal.aborted) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(i);
        continue;
      }
      pull(i);
      yield r.value;
    }
  } finally {
    // Not awaited: a source blocked in next() only finishes its return() once it yields again.
    for (const it of iterators) it.return?.().catch(() => undefined);
  }
}
