/**
 * This node's part of the service mesh (docs/ARCHITECTURE.md, "the service mesh"): keeps the
 * VIPs on `shoal0`, the mesh DNS, the balancers and the service listeners in step with the
 * replicated state and this node's observed tasks, and serves mesh streams to its tasks.
 *
 * Level-triggered: every sync computes the whole table (mesh-table.ts) and makes the parts match;
 * a sync runs on each state change (coalesced) and every `syncIntervalMs` (local container
 * addresses appear when the runtime observes them, between state changes).
 *
 * Leaving rotation: the leader's `task.desire shutdown` takes a task out of every node's balancer
 * when applied; its own node's runtime then calls {@link drain} before stopping it, which refuses
 * new mesh streams to it and waits (bounded) until the connections it carries end.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  Balancer,
  MeshDns,
  MeshService,
  ServiceProxy,
  VipInterface,
  type CommandRunner,
  type ListenFailure,
  type LocalTarget,
} from '../mesh/index.js';
import { policyOf, SingleFlight, type WakeReceipt } from '../autoscale/index.js';
import type { P2PHost } from '../p2p/index.js';
import type { ObservedContainer } from '../runtime/index.js';
import { MESH_DNS_ADDRESS, type CommandInput, type IndexedState } from '../state/index.js';
import type { MeshAutoscaleLink } from './autoscale-parts.js';
import { EndpointCache, buildMeshTable, inZone, lookupName, type MeshTable } from './mesh-table.js';

export interface MeshNodeDeps {
  readonly selfId: string;
  readonly host: P2PHost;
  readonly state: { view(): IndexedState };
  /** Proposes this node's message (the listeners it cannot open) through the leader. */
  readonly propose: (command: CommandInput, options: { signal?: AbortSignal }) => Promise<unknown>;
  /** This node's containers and processes as its runtime last observed them. */
  readonly observed: () => readonly ObservedContainer[];
  /** Where a node listens, when no connection to it is open. */
  readonly addressesOf: (nodeId: string) => readonly string[];
  /** Runs `ip` (execRunner in production). */
  readonly run: CommandRunner;
  /** The resolv.conf containers get (bind-mounted): written at start. */
  readonly resolvConfPath: string;
  /** Upstream DNS servers for names outside the mesh; default: the host's /etc/resolv.conf. */
  readonly upstream?: readonly string[];
  /** Default 1 000 ms. */
  readonly syncIntervalMs?: number;
  /** The longest a task's drain may hold its stop. Default 5 000 ms. */
  readonly drainMs?: number;
  /** Scale to zero and the rps target: report connections and requests to the leader, wake services at zero. */
  readonly autoscale?: MeshAutoscaleLink;
  /** How often connections are reported. Default 2 000 ms. */
  readonly activityIntervalMs?: number;
  readonly log: Logger;
}

/** A listener this node could not open, as reported in logs and by {@link MeshNode.problems}. */
export interface MeshProblem {
  readonly service: string;
  readonly address: string;
  readonly port: number;
  readonly error: string;
}

export class MeshNode {
  readonly #deps: MeshNodeDeps;
  readonly #log: Logger;
  readonly #vips: VipInterface;
  readonly #balancers = new Map<string, Balancer>();
  /** The endpoint list each balancer was last given (the cache keeps it while nothing changed). */
  readonly #given = new Map<string, readonly unknown[]>();
  readonly #cache = new EndpointCache();
  readonly #mesh: MeshService;
  readonly #proxy: ServiceProxy;
  /** Tasks drained here, with the start time of the container that was drained. */
  readonly #drained = new Map<string, number | null>();
  #dns: MeshDns | null = null;
  #table: MeshTable | null = null;
  #appliedVips = '';
  #problems: MeshProblem[] = [];
  #problemKey = '';
  #timer: NodeJS.Timeout | null = null;
  #activityTimer: NodeJS.Timeout | null = null;
  readonly #wakes = new SingleFlight<string, WakeReceipt>();
  #telling = false;
  #syncing: Promise<void> | null = null;
  #again = false;
  #started = false;

  constructor(deps: MeshNodeDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ component: 'mesh' });
    this.#vips = new VipInterface({ run: deps.run, logger: deps.log });
    this.#mesh = new MeshService(deps.host, {
      resolveLocal: (taskId, port) => this.#resolveLocal(taskId, port),
      addressesOf: deps.addressesOf,
      logger: this.#log,
    });
    this.#proxy = new ServiceProxy({
      localNodeId: deps.selfId,
      balancers: this.#balancers,
      dialRemote: (nodeId, taskId, port, options) => this.#mesh.dial(nodeId, taskId, port, options),
      onHold: (service) => this.#wake(service),
      logger: deps.log,
    });
  }

  /** Listeners this node could not open at the last sync (a published port taken here...). */
  problems(): readonly MeshProblem[] {
    return this.#problems;
  }

  /**
   * Write the containers' resolv.conf, put the DNS address on `shoal0`, start the DNS and the mesh
   * stream service, then sync. On a failure (no root, no `ip`, port 53 taken) it undoes what it
   * started and throws: the agent runs on without the mesh.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    try {
      await this.#start();
    } catch (err) {
      await this.#dns?.stop();
      this.#dns = null;
      await this.#mesh.stop();
      throw err;
    }
    this.#started = true;
    this.#timer = setInterval(() => this.stateChanged(), this.#deps.syncIntervalMs ?? 1_000);
    this.#timer.unref();
    if (this.#deps.autoscale !== undefined) {
      this.#activityTimer = setInterval(() => void this.#reportActivity(), this.#deps.activityIntervalMs ?? 2_000);
      this.#activityTimer.unref();
    }
    await this.sync();
  }

  async #start(): Promise<void> {
    await mkdir(join(this.#deps.resolvConfPath, '..'), { recursive: true });
    await writeFile(this.#deps.resolvConfPath, `# shoal service mesh\nnameserver ${MESH_DNS_ADDRESS}\n`);
    await this.#vips.sync(new Set([MESH_DNS_ADDRESS]));
    this.#appliedVips = MESH_DNS_ADDRESS;
    const upstream = this.#deps.upstream ?? (await hostNameservers());
    this.#dns = new MeshDns({
      host: MESH_DNS_ADDRESS,
      port: 53,
      lookup: (name, client) => (this.#table === null ? null : lookupName(this.#table, name, client)),
      zone: (name) => this.#table === null || inZone(this.#table, name),
      upstream,
      logger: this.#deps.log,
    });
    await this.#dns.start();
    await this.#mesh.start();
    this.#log.info({ dns: MESH_DNS_ADDRESS, upstream }, 'service mesh started');
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    if (this.#timer !== null) clearInterval(this.#timer);
    if (this.#activityTimer !== null) clearInterval(this.#activityTimer);
    this.#timer = this.#activityTimer = null;
    await this.#syncing?.catch(() => undefined);
    await this.#proxy.stop();
    await this.#dns?.stop();
    await this.#mesh.stop();
    // The addresses stay on shoal0: the next start syncs them (level-triggered).
  }

  /** The state or the local tasks changed: sync soon (coalesced). */
  stateChanged(): void {
    if (!this.#started) return;
    if (this.#syncing !== null) {
      this.#again = true;
      return;
    }
    void this.sync();
  }

  /** Make the parts match the state now; resolves when done. */
  sync(): Promise<void> {
    if (this.#syncing !== null) {
      this.#again = true;
      return this.#syncing;
    }
    this.#syncing = (async () => {
      try {
        do {
          this.#again = false;
          await this.#syncOnce();
        } while (this.#again && this.#started);
      } catch (err) {
        this.#log.warn({ err }, 'service mesh sync failed; retrying on the next change');
      } finally {
        this.#syncing = null;
      }
    })();
    return this.#syncing;
  }

  /**
   * Take `taskId` out of rotation on this node and wait until the connections it carries through
   * this node end (at most `drainMs`). The runtime calls it before stopping the task.
   */
  async drain(taskId: string, options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    const container = this.#deps.observed().find((c) => c.taskId === taskId && c.status === 'running');
    this.#drained.set(taskId, container?.startedAt ?? null);
    const serviceId = this.#deps.state.view().tasks.get(taskId)?.serviceId;
    const balancer = serviceId === undefined ? undefined : this.#balancers.get(serviceId);
    const bound = AbortSignal.timeout(this.#deps.drainMs ?? 5_000);
    const signal = options.signal === undefined ? bound : AbortSignal.any([options.signal, bound]);
    const open = (balancer?.openConnections(taskId) ?? 0) + this.#mesh.openStreams(taskId);
    if (open > 0) this.#log.info({ task: taskId, open }, 'draining a task before it stops');
    await Promise.all([balancer?.drain(taskId, { signal }), this.#mesh.whenIdle(taskId, { signal })]).catch(() => {
      if (bound.aborted) this.#log.info({ task: taskId }, 'drain time over: stopping with connections open');
    });
  }

  async #syncOnce(): Promise<void> {
    const table = buildMeshTable(
      { selfId: this.#deps.selfId, state: this.#deps.state.view(), observed: this.#deps.observed() },
      this.#cache,
    );
    this.#cache.retain(new Set(table.services.keys()));
    this.#forgetRestartedDrains();
    for (const [id, entry] of table.services) {
      let balancer = this.#balancers.get(id);
      if (balancer === undefined) {
        balancer = new Balancer();
        this.#balancers.set(id, balancer);
      }
      if (this.#given.get(id) !== entry.endpoints) {
        balancer.setEndpoints(entry.endpoints);
        this.#given.set(id, entry.endpoints);
      }
    }
    this.#table = table;
    const vipKey = [...table.vips].sort().join(',');
    if (vipKey !== this.#appliedVips) {
      await this.#vips.sync(table.vips);
      this.#appliedVips = vipKey;
    }
    const { failed } = await this.#proxy.setListeners(table.listeners);
    // Balancers of removed services go once their listeners are closed.
    for (const id of this.#balancers.keys()) {
      if (table.services.has(id)) continue;
      this.#balancers.delete(id);
      this.#given.delete(id);
    }
    this.#report(failed);
    this.#tellCluster();
    // A wake that failed (no leader yet) is asked again while connections wait.
    for (const id of table.services.keys()) if (this.#proxy.held(id) > 0) this.#wake(id);
  }

  /**
   * Ask the leader to wake a service at zero for the connections held here (one request at a
   * time per service). A service the state already gives replicas needs none: its task is coming.
   */
  #wake(serviceId: string): void {
    const link = this.#deps.autoscale;
    const service = this.#deps.state.view().services[serviceId];
    if (link === undefined || service === undefined || service.replicas > 0 || this.#wakes.has(serviceId)) return;
    if (policyOf(service.spec)?.min !== 0) return;
    this.#log.info(
      { service: serviceId, held: this.#proxy.held(serviceId) },
      'cold start: asking the leader to wake a service at zero',
    );
    this.#wakes
      .run(serviceId, () => link.wake(serviceId, { signal: AbortSignal.timeout(15_000) }))
      .catch((err: unknown) =>
        this.#log.warn(
          { service: serviceId, err },
          'cold start: cannot wake the service yet; asking again while connections wait',
        ),
      );
  }

  /**
   * Tell the leader this node's connections and requests to services that scale to zero or on
   * requests per second (an empty report still says the mesh runs).
   */
  async #reportActivity(): Promise<void> {
    const link = this.#deps.autoscale;
    if (link === undefined || !this.#started) return;
    const services = this.#deps.state.view().services;
    const reported = new Set(
      Object.keys(services).filter((id) => {
        const policy = policyOf(services[id]!.spec);
        return policy !== null && (policy.min === 0 || policy.targets.some((t) => t.kind === 'rps'));
      }),
    );
    this.#proxy.retainActivity(reported);
    const activity = this.#proxy.activity().filter((a) => reported.has(a.serviceId));
    await link
      .report({ v: 1, services: activity })
      .catch((err: unknown) => this.#log.debug({ err }, 'cannot report mesh activity to the leader; next round'));
  }

  /**
   * Put the listeners this node cannot open in its node record (`shoal node inspect`), or clear
   * them; compared with the record each sync, so a lost write is made again.
   */
  #tellCluster(): void {
    const said = this.#deps.state.view().nodes[this.#deps.selfId]?.message ?? '';
    const message = this.#problems
      .map((p) => `cannot listen on ${p.address}:${p.port} for service ${p.service}: ${p.error}`)
      .join('; ')
      .slice(0, 1000);
    if (message === said || this.#telling || !this.#deps.state.view().nodes[this.#deps.selfId]) return;
    this.#telling = true;
    this.#deps
      .propose({ type: 'node.update', id: this.#deps.selfId, message }, { signal: AbortSignal.timeout(10_000) })
      .catch((err: unknown) => this.#log.debug({ err }, 'cannot record the mesh problems in the node record yet'))
      .finally(() => (this.#telling = false));
  }

  /** A drained task whose container restarted in place (same task id) is back in rotation. */
  #forgetRestartedDrains(): void {
    if (this.#drained.size === 0) return;
    const state = this.#deps.state.view();
    for (const [taskId, startedAt] of this.#drained) {
      const task = state.tasks.get(taskId);
      const running = this.#deps.observed().find((c) => c.taskId === taskId && c.status === 'running');
      if (task === undefined || task.nodeId !== this.#deps.selfId) this.#drained.delete(taskId);
      else if (running !== undefined && running.startedAt !== startedAt) {
        this.#drained.delete(taskId);
        this.#balancers.get(task.serviceId)?.undrain(taskId);
      }
    }
  }

  /** Say once, at warn level, which listeners this node could not open (and when they are fixed). */
  #report(failed: readonly ListenFailure[]): void {
    this.#problems = failed.map((f) => ({
      service: f.listener.service,
      address: f.listener.address,
      port: f.listener.port,
      error: f.error.message,
    }));
    const key = this.#problems.map((p) => `${p.service}@${p.address}:${p.port}:${p.error}`).join('|');
    if (key === this.#problemKey) return;
    this.#problemKey = key;
    if (this.#problems.length === 0) this.#log.info('every service listener of this node is open');
    else
      this.#log.warn(
        { problems: this.#problems },
        'this node cannot listen on some service ports: they do not answer here (free the port on this node)',
      );
  }

  #resolveLocal(taskId: string, port: number): LocalTarget {
    const task = this.#deps.state.view().tasks.get(taskId);
    if (task === undefined || task.nodeId !== this.#deps.selfId)
      return { refused: 'unknown-task', reason: `task ${taskId} does not run on this node` };
    if (task.state !== 'running' || task.desiredState !== 'running' || this.#drained.has(taskId))
      return {
        refused: 'not-ready',
        reason: `task ${taskId} is not in rotation (${task.state}, ${task.desiredState})`,
      };
    const address = this.#table?.local.get(taskId);
    if (address === undefined)
      return { refused: 'not-ready', reason: `task ${taskId} has no address on this node yet` };
    return { host: address, port };
  }
}

/** The IPv4 nameservers of this host's /etc/resolv.conf, the mesh's own address left out. */
async function hostNameservers(): Promise<string[]> {
  const text = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  return [...text.matchAll(/^\s*nameserver\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/gm)]
    .map((m) => m[1]!)
    .filter((a) => a !== MESH_DNS_ADDRESS);
}
