/**
 * The Docker Engine driver (dockerode): the thin edge between the runtime and real containers.
 * Everything a test cannot do without an engine is here; what can be decided without one is in
 * create-options.ts (the create options) and log-decoder.ts (the log stream).
 *
 * @module
 */
import Docker from 'dockerode';
import { InspectCache, type ContainerSummary } from './inspect-cache.js';
import { containerCreateOptions, namedVolumes, stackNetworks, type MeshCreateOptions } from './create-options.js';
import { StackNetworks } from './stack-networks.js';
import {
  EngineUnavailableError,
  errorMessage,
  ImageMissingError,
  PortConflictError,
  TaskRejectedError,
} from './errors.js';
import { LogDecoder } from './log-decoder.js';
import { engineImage, pullReference, type PullCredentials } from './image-lookup.js';
import { pullImage } from './image-pull.js';
import { UsageSampler, sampleOf } from './usage-sampler.js';
import { liveUsageOf } from './live-usage.js';
import {
  LABELS,
  type CallOptions,
  type ContainerDriver,
  type ContainerEvent,
  type ContainerStatus,
  type HealthStatus,
  type LiveUsage,
  type LogLine,
  type LogOptions,
  type ObservedContainer,
  type ObservedNetwork,
  type RunnableAssignment,
  type StopOptions,
} from './types.js';

/** Options of {@link DockerDriver}. */
export interface DockerDriverOptions {
  /** The engine client; default: the local socket (or `DOCKER_HOST`). */
  readonly docker?: Docker;
  /** Pull a missing image (`missing`, the default) or never (air-gapped nodes). */
  readonly pull?: 'never' | 'missing';
  /** Give up a pull when the engine reports no progress for this long (image-pull.ts). Default 60 s. */
  readonly pullStallMs?: number;
  /** Registry credentials for a task's pull (given at deploy with --with-registry-auth); none by default. */
  readonly pullCredential?: PullCredentials;
  /** How often `stop` polls for the exit. Default 100 ms. */
  readonly pollMs?: number;
  /** Inspect a container again after this long even if nothing says it changed. Default 2 s. */
  readonly inspectMaxAgeMs?: number;
  /** Sample a running container's CPU time and peak memory at most this often (usage-sampler.ts). Default 5 s. */
  readonly usageSampleMs?: number;
  /** This node's service mesh, when on: containers use its DNS, and it publishes `ingress` ports. */
  readonly mesh?: MeshCreateOptions;
}

const STATUSES = new Set<ContainerStatus>(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);
const NEVER = '0001-01-01T00:00:00Z';

/** How long an image seen on the engine is taken to be still there. */
const IMAGE_SEEN_MS = 10_000;

/**
 * Runs tasks as Docker containers labelled with the node id, task id and generation.
 *
 * @example
 * ```ts
 * const driver = new DockerDriver({ pull: 'never' });
 * const mine = await driver.list(nodeId);
 * ```
 */
export class DockerDriver implements ContainerDriver {
  readonly name = 'docker';
  readonly docker: Docker;
  readonly #pull: 'never' | 'missing';
  readonly #pullStallMs: number;
  readonly #pullCredential: PullCredentials | null;
  readonly #pollMs: number;
  readonly #inspected: InspectCache;
  readonly #usage: UsageSampler;
  readonly #networks: StackNetworks;
  readonly #mesh: MeshCreateOptions | null;

  constructor(options: DockerDriverOptions = {}) {
    this.docker = options.docker ?? new Docker();
    this.#inspected = new InspectCache(
      options.inspectMaxAgeMs === undefined ? {} : { maxAgeMs: options.inspectMaxAgeMs },
    );
    this.#pull = options.pull ?? 'missing';
    this.#pullStallMs = options.pullStallMs ?? 60_000;
    this.#pullCredential = options.pullCredential ?? null;
    this.#pollMs = options.pollMs ?? 100;
    this.#networks = new StackNetworks(this.docker);
    this.#mesh = options.mesh ?? null;
    this.#usage = new UsageSampler(
      async (id) => sampleOf(await this.docker.getContainer(id).stats({ stream: false, 'one-shot': true })),
      options.usageSampleMs === undefined ? {} : { intervalMs: options.usageSampleMs },
    );
  }

  /** Checks the engine answers; throws {@link EngineUnavailableError} saying what to do otherwise. */
  async ping(options: CallOptions = {}): Promise<void> {
    try {
      options.signal?.throwIfAborted();
      await this.docker.ping();
    } catch (error) {
      throw new EngineUnavailableError(
        `Cannot reach the Docker Engine (${errorMessage(error)}): start it (systemctl start docker) or set DOCKER_HOST`,
        { cause: error },
      );
    }
  }

  async list(nodeId: string, options: CallOptions = {}): Promise<ObservedContainer[]> {
    const summaries = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.nodeId}=${nodeId}`] },
      abortSignal: options.signal,
    });
    this.#inspected.retain(new Set(summaries.map((s) => s.Id)));
    const out = await Promise.all(
      summaries.map(async (s) => this.#inspected.get(s) ?? (await this.#observe(s, options))),
    );
    return this.#usage.observe(out.filter((c): c is ObservedContainer => c !== null));
  }

  /** CPU time and memory in use now, from one stats call (live-usage.ts). */
  async liveUsage(containerId: string, options: CallOptions = {}): Promise<LiveUsage | null> {
    options.signal?.throwIfAborted();
    return liveUsageOf(await this.docker.getContainer(containerId).stats({ stream: false, 'one-shot': true }));
  }

  async #observe(summary: ContainerSummary, options: CallOptions): Promise<ObservedContainer | null> {
    const epoch = this.#inspected.epoch(summary.Id);
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(summary.Id).inspect({ abortSignal: options.signal });
    } catch (error) {
      if (statusOf(error) === 404) return null; // removed between list and inspect
      throw error;
    }
    return this.#inspected.set(summary, observedFrom(info), epoch);
  }

  async create(nodeId: string, a: RunnableAssignment, options: CallOptions = {}): Promise<string> {
    const image = await this.#ensureImage(a, options);
    for (const name of namedVolumes(a)) await this.#ensureVolume(name, a, options);
    const networks = stackNetworks(nodeId, a).map((n) => n.name);
    return this.#networks.around(networks, nodeId, a, () => this.#createContainer(nodeId, a, image, options));
  }

  async #createContainer(nodeId: string, a: RunnableAssignment, image: string, options: CallOptions): Promise<string> {
    // The engine's own reference for the image: a pinned one by digest or image id (image-lookup.ts).
    const createOptions = { ...containerCreateOptions(nodeId, a, this.#mesh), Image: image };
    try {
      const c = await this.docker.createContainer({ ...createOptions, abortSignal: options.signal });
      return c.id;
    } catch (error) {
      const status = statusOf(error);
      if (status === 409) return this.#adoptByName(createOptions.name!, nodeId, a, error);
      if (status === 404) this.#imagesSeen.delete(a.service.spec.image); // removed since it was seen
      if (status === 404) throw new ImageMissingError(a.service.spec.image, engineMessage(error), { cause: error });
      if (status === 400) {
        throw new TaskRejectedError(`Docker refused the container of task ${a.task.id}: ${engineMessage(error)}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  /** A name conflict is our own earlier create when the labels match (a retried create): use it. */
  async #adoptByName(name: string, nodeId: string, a: RunnableAssignment, cause: unknown): Promise<string> {
    const info = await this.docker.getContainer(name).inspect();
    const labels = info.Config.Labels ?? {};
    if (
      labels[LABELS.nodeId] === nodeId &&
      labels[LABELS.taskId] === a.task.id &&
      labels[LABELS.generation] === String(a.task.generation)
    ) {
      return info.Id;
    }
    if (labels[LABELS.nodeId] === nodeId) {
      // An older generation of this node's: the runtime removes it, then creates again.
      throw new Error(`Cannot create container ${name} yet: an older container of this node still holds the name`, {
        cause,
      });
    }
    throw new TaskRejectedError(
      `Cannot create container ${name}: the name is taken by container ${info.Id.slice(0, 12)}, which is not this task's; remove it`,
      { cause },
    );
  }

  /** Makes sure the engine has the task's image (pulling it if allowed); resolves to the reference to create with. */
  async #ensureImage(a: RunnableAssignment, options: CallOptions): Promise<string> {
    const image = a.service.spec.image;
    // A burst of creates of one image (a deploy, an array job) asks the engine once.
    const seen = this.#imagesSeen.get(image);
    if (seen !== undefined && Date.now() - seen.at < IMAGE_SEEN_MS) return seen.ref;
    const found = await engineImage(this.docker, image);
    if (found !== null) {
      this.#imagesSeen.set(image, { at: Date.now(), ref: found });
      return found;
    }
    if (this.#pull === 'never') throw new ImageMissingError(image, 'pulling is disabled on this node');
    const ref = pullReference(image);
    try {
      const credential = await this.#pullCredential?.(a, options.signal);
      await pullImage(this.docker, ref, {
        stallMs: this.#pullStallMs,
        ...(options.progress ? { onProgress: options.progress } : {}),
        ...(credential ? { credential } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      options.signal?.throwIfAborted();
      throw new ImageMissingError(image, errorMessage(error), { cause: error });
    }
    return (await engineImage(this.docker, image)) ?? ref;
  }

  /** When each image was last seen present on the engine. */
  readonly #imagesSeen = new Map<string, { at: number; ref: string }>();

  /** The stack networks of {@link list}'s node (network-gc.ts). */
  networks(nodeId: string, options: CallOptions = {}): Promise<ObservedNetwork[]> {
    return this.#networks.list(nodeId, options);
  }

  /** Removes a network of {@link networks} unless a container is on it or being created on it. */
  removeNetwork(network: ObservedNetwork, options: CallOptions = {}): Promise<boolean> {
    options.signal?.throwIfAborted();
    return this.#networks.remove(network.name);
  }

  async #ensureVolume(name: string, a: RunnableAssignment, options: CallOptions): Promise<void> {
    try {
      await this.docker.getVolume(name).inspect({ abortSignal: options.signal });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      await this.docker.createVolume({
        Name: name,
        Labels: { [LABELS.stack]: a.service.stack },
        abortSignal: options.signal,
      });
    }
  }

  async start(containerId: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.docker.getContainer(containerId).start({ abortSignal: options.signal });
      this.#inspected.forget(containerId);
    } catch (error) {
      this.#inspected.forget(containerId);
      if (statusOf(error) === 304) return; // already started
      const message = engineMessage(error);
      if (/port is already allocated|address already in use/i.test(message)) {
        throw new PortConflictError(
          `Cannot publish the task's port: it is already in use on this node (${message}); free it or publish another port`,
          { cause: error },
        );
      }
      throw new Error(`Cannot start container ${containerId.slice(0, 12)}: ${message}`, { cause: error });
    }
  }

  async stop(containerId: string, stop: StopOptions, options: CallOptions = {}): Promise<void> {
    try {
      await this.#stop(containerId, stop, options);
    } finally {
      this.#inspected.forget(containerId);
    }
  }

  async #stop(containerId: string, stop: StopOptions, options: CallOptions): Promise<void> {
    const c = this.docker.getContainer(containerId);
    if (!(await this.#signal(c, stop.signal || 'SIGTERM'))) return;
    if (await this.#waitStopped(c, stop.graceMs, options)) return;
    if (!(await this.#signal(c, 'SIGKILL'))) return;
    await this.#waitStopped(c, 10_000, options);
  }

  /** Sends a signal; false when the container is not running (or gone). A paused container is unpaused first. */
  async #signal(c: Docker.Container, signal: string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.kill({ signal });
        return true;
      } catch (error) {
        const status = statusOf(error);
        if (status === 409 && attempt === 0 && /paused/i.test(engineMessage(error))) {
          await c.unpause().catch(() => undefined);
          continue;
        }
        if (status === 404 || status === 409 || status === 304) return false;
        throw error;
      }
    }
  }

  /** Polls until the container stopped (true) or `ms` passed (false). */
  async #waitStopped(c: Docker.Container, ms: number, options: CallOptions): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      let running: boolean;
      try {
        running = (await c.inspect({ abortSignal: options.signal })).State.Running;
      } catch (error) {
        if (statusOf(error) === 404) return true;
        throw error;
      }
      if (!running) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, Math.min(this.#pollMs, Math.max(1, deadline - Date.now()))));
    }
  }

  /**
   * Removes the container. Its stack networks stay: the runtime's network GC (network-gc.ts), run
   * right after, knows whether a task still needs them (a service scaled to zero starts again on
   * them: making a bridge network again cost its cold start 130–250 ms).
   */
  async remove(containerId: string, options: CallOptions = {}): Promise<void> {
    this.#inspected.forget(containerId);
    const container = this.docker.getContainer(containerId);
    try {
      // v: anonymous volumes go with the container; named volumes stay.
      await container.remove({ force: true, v: true, abortSignal: options.signal });
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 || status === 409) return; // gone, or removal already in progress
      throw error;
    }
  }

  async *logs(containerId: string, options: LogOptions = {}): AsyncIterable<LogLine> {
    const c = this.docker.getContainer(containerId);
    const info = await c.inspect({ abortSignal: options.signal });
    const decoder = new LogDecoder(info.Config.Tty);
    const since = options.since;
    const keep = (l: LogLine) => since === undefined || l.time >= since;
    const base = {
      stdout: true,
      stderr: true,
      timestamps: true,
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
      ...(since !== undefined ? { since: Math.floor(since / 1000) } : {}),
    };
    if (!options.follow) {
      const buffer = await c.logs({ ...base, follow: false, abortSignal: options.signal });
      for (const l of [...decoder.push(Buffer.from(buffer)), ...decoder.end()]) if (keep(l)) yield l;
      return;
    }
    const stream = await c.logs({ ...base, follow: true });
    for await (const chunk of chunksUntil(stream, options.signal)) {
      for (const l of decoder.push(chunk)) if (keep(l)) yield l;
    }
    if (!options.signal?.aborted) for (const l of decoder.end()) if (keep(l)) yield l;
  }

  async *events(nodeId: string, signal: AbortSignal): AsyncIterable<ContainerEvent> {
    const stream = await this.docker.getEvents({
      filters: { type: ['container'], label: [`${LABELS.nodeId}=${nodeId}`] },
    });
    let rest = '';
    for await (const chunk of chunksUntil(stream, signal)) {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        const e = JSON.parse(line) as { id?: string; Actor?: { ID?: string }; Action?: string; status?: string };
        const containerId = e.id ?? e.Actor?.ID;
        const action = e.Action ?? e.status ?? '';
        // A healthcheck's exec changes nothing the planner reads until its health_status event.
        if (containerId && !action.startsWith('exec_')) this.#inspected.forget(containerId);
        if (containerId) yield { containerId, action };
      }
    }
  }
}

/**
 * The chunks of an engine stream until it ends or `signal` aborts. Each read races the abort:
 * an aborted HTTP response may never emit `end`, `error` or `close`, which would leave a plain
 * `for await` (and whoever awaits it, such as `NodeRuntime.stop()`) hanging forever.
 */
async function* chunksUntil(stream: NodeJS.ReadableStream, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  const it = stream[Symbol.asyncIterator]();
  let onAbort = () => {};
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    if (signal?.aborted) resolve('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    for (;;) {
      const next = await Promise.race([it.next(), aborted]);
      if (next === 'aborted' || next.done) return;
      yield Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    }
  } catch (error) {
    if (!signal?.aborted) throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // An HTTP response at run time, though dockerode types it as a plain stream.
    if ('destroy' in stream && typeof stream.destroy === 'function') stream.destroy();
  }
}

/** Maps `docker inspect` onto what the planner needs. */
export function observedFrom(info: Docker.ContainerInspectInfo): ObservedContainer {
  const labels = info.Config.Labels ?? {};
  const state = info.State;
  const status = STATUSES.has(state.Status as ContainerStatus) ? (state.Status as ContainerStatus) : 'dead';
  const health = (state as { Health?: { Status?: string; Log?: { Output?: string }[] } }).Health;
  const generation = Number(labels[LABELS.generation]);
  const startedAt = time(state.StartedAt);
  const finishedAt = time(state.FinishedAt);
  const log = health?.Log ?? [];
  const config = info.Config as { StopTimeout?: number; StopSignal?: string };
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    nodeId: labels[LABELS.nodeId] ?? null,
    taskId: labels[LABELS.taskId] || null,
    generation: Number.isSafeInteger(generation) && labels[LABELS.generation] !== '' ? generation : null,
    labels,
    status,
    exitCode: status === 'running' || (status === 'created' && finishedAt === null) ? null : state.ExitCode,
    health: healthStatus(health?.Status),
    healthOutput: (log[log.length - 1]?.Output ?? '').trim().slice(0, 300),
    startedAt,
    finishedAt,
    error: state.Error ?? '',
    oomKilled: state.OOMKilled,
    stopSignal: config.StopSignal || null,
    stopGraceMs: typeof config.StopTimeout === 'number' ? config.StopTimeout * 1000 : null,
    address: networkAddress(info),
  };
}

/** The container's IPv4 address on the first of its networks (by name) that gave it one. */
function networkAddress(info: Docker.ContainerInspectInfo): string | null {
  const networks = info.NetworkSettings?.Networks ?? {};
  for (const name of Object.keys(networks).sort()) {
    const address = networks[name]?.IPAddress;
    if (typeof address === 'string' && address !== '') return address;
  }
  return null;
}

function healthStatus(s: string | undefined): HealthStatus {
  return s === 'starting' || s === 'healthy' || s === 'unhealthy' ? s : 'none';
}

function time(s: string | undefined): number | null {
  if (!s || s === NEVER) return null;
  const t = Date.parse(s);
  return Number.isFinite(t) && t > 0 ? t : null;
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number } | null)?.statusCode;
}

/** The engine's own message without dockerode's `(HTTP code 500) server error - ` prefix. */
function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: string } } | null)?.json;
  if (json?.message) return json.message;
  return errorMessage(error).replace(/^\(HTTP code \d+\)[^-]*- /, '');
}
