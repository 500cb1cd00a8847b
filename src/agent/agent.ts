/**
 * The shoal agent: one per machine, identical everywhere. This file is the composition root: it
 * makes each part with the parts it uses (no part sees the agent) and runs them in order.
 *
 *   AgentNetwork (identity, libp2p host, RPC, Raft transport, peer addresses), PresenceTracker
 *     └► ClusterStore (state machine; a Raft node on a member, the state feed on an observer;
 *          │           CommandWriter, reads)
 *          ├► NodeWorkloads (this node's runtime on the injected drivers; task logs)
 *          ├► MeshNode (with --mesh: service addresses, names and published ports; mesh-node.ts)
 *          ├► LeaderScope ─ started on `leader:change` to this node, stopped on any other:
 *          │     MemberHealthTracker → MembershipLoop → ControllerLoop (workloads.ts)
 *          ├► SelfRegistration (keeps this node's record current; finishes an interrupted init)
 *          └► AdminService, JoinService, WorkloadService, BatchService (the admin API)
 *
 * Start: network → the services register their RPC methods → RPC listens → if the data dir
 * belongs to a cluster (cluster.json), enter it: Raft (or the feed, on an observer), peer
 * addresses, hello, self-registration, service mesh, runtime; else wait for `init` or `join`.
 * Stop, in reverse: leader scope, self-registration, runtime, service mesh, Raft or feed,
 * presence, RPC and host.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { detectResources, type HostResources } from '../host/index.js';
import { createHost } from '../p2p/index.js';
import { PresenceTracker } from '../follow/index.js';
import { realClock, type Clock, type RaftNode } from '../raft/driver/index.js';
import type { RaftStorage } from '../raft/interfaces.js';
import { FileRaftStorage } from '../raft/storage/index.js';
import { ClusterStateMachine } from '../state/index.js';
import { AdminService } from './admin.js';
import { autoscaleParts, type AutoscaleParts, type MeshAutoscaleLink } from './autoscale-parts.js';
import { agentApi, type AgentApi } from './api-facade.js';
import { completeInit, singleFlight } from './cluster-init.js';
import { ClusterStore } from './cluster-store.js';
import type { AgentConfig } from './config.js';
import { JoinService, type KnownPeers } from './join.js';
import { BatchService } from './job-api.js';
import { LeaderScope } from './leader-scope.js';
import { readKnownPeers, readMembership, writeKnownPeers, type ClusterMembership } from './local-files.js';
import { MemberHealthTracker } from './member-health.js';
import { MembershipLoop } from './membership-loop.js';
import { AgentNetwork, type HostFactory } from './network.js';
import { nodeFacts } from './node-facts.js';
import { NodeWorkloads } from './node-workloads.js';
import { MeshNode } from './mesh-node.js';
import { VipAllocator } from './mesh-vips.js';
import { execRunner, type CommandRunner } from '../mesh/index.js';
import { AgentObservability } from './observability.js';
import { timedRaftStorage } from '../metrics/timed-storage.js';
import { hostDrivers, withPullCredentials, withTaskFiles, type OpenDrivers } from './runtime-drivers.js';
import { DataKeyStore } from './data-key-store.js';
import { imageParts } from './image-parts.js';
import type { ImageSources } from './image-resolver.js';
import { SecretDelivery } from './secret-delivery.js';
import { SecretService } from './secret-api.js';
import { SelfRegistration } from './self-registration.js';
import { WorkloadService } from './workload-api.js';
import type { NodeHealth } from './views.js';
import { ControllerLoop } from './workloads.js';

export { SHOAL_VERSION } from './version.js';

/**
 * What the agent runs on, injected; each defaults to production's. Tests run whole agents in one
 * process on the in-memory transport, memory Raft storage and a fake driver.
 */
export interface AgentComponents {
  readonly logger?: Logger;
  /** Makes the libp2p host: `createHost` (TCP) by default. */
  readonly createHost?: HostFactory;
  /**
   * Opens Raft's storage: the WAL and snapshots under DATA_DIR/raft by default. `fresh`: an
   * observer made a learner starts on empty storage (the leader sends it a snapshot).
   */
  readonly openRaftStorage?: (options: { readonly fresh: boolean }) => Promise<RaftStorage>;
  /** Opens the runtime's drivers: Docker and host processes as `--runtime` says by default. */
  readonly openDrivers?: OpenDrivers;
  /** This host's name and resources: `detectResources` (nvidia-smi for GPUs) by default. */
  readonly detectHost?: () => Promise<HostResources>;
  readonly clock?: Clock;
  /** Runs `ip` for the service mesh (with `--mesh`): on this machine by default. */
  readonly meshRunner?: CommandRunner;
  /**
   * Where deploys pin images to digests (image-resolver.ts); `null`: images stay as written. By
   * default the registry and the local Docker Engine with `--runtime docker` and the production
   * drivers, else off (a fake driver's images are in no registry).
   */
  readonly images?: ImageSources | null;
}

/** The parts of a started agent. */
interface Parts {
  readonly network: AgentNetwork;
  readonly presence: PresenceTracker;
  readonly store: ClusterStore;
  readonly workloads: NodeWorkloads;
  /** This node's service mesh; null without `--mesh`. */
  readonly mesh: MeshNode | null;
  readonly leaderScope: LeaderScope;
  readonly autoscale: AutoscaleParts;
  readonly selfRegistration: SelfRegistration;
  readonly admin: AdminService;
  readonly api: AgentApi;
}

export class Agent {
  readonly config: AgentConfig;
  readonly log: Logger;
  readonly #components: AgentComponents;
  readonly #clock: Clock;
  #parts: Parts | null = null;

  constructor(config: AgentConfig, components: AgentComponents = {}) {
    this.config = config;
    this.#components = components;
    this.log = components.logger ?? pino({ level: config.logLevel, base: { service: 'shoal' } });
    this.#clock = components.clock ?? realClock;
  }

  /** This node's id (its libp2p peer id). */
  get id(): string {
    return this.#started().network.peerId;
  }

  /** The admin API this agent serves (cluster, workloads, batch). */
  get api(): AgentApi {
    return this.#started().api;
  }

  /** The admin service, for `--init` and `--join` at start and the leader hand-over at stop. */
  get admin(): AdminService {
    return this.#started().admin;
  }

  /** The cluster as this node holds it. */
  get store(): ClusterStore {
    return this.#started().store;
  }

  /** How this node's mesh reports connections and requests to the leader's autoscaler (and wakes services). */
  get meshAutoscaleLink(): MeshAutoscaleLink {
    return this.#started().autoscale.meshLink;
  }

  raft(): RaftNode | null {
    return this.#parts?.store.raft() ?? null;
  }

  membership(): ClusterMembership | null {
    return this.#parts?.store.membership() ?? null;
  }

  /** The addresses peers should dial to reach this agent (with /p2p/<id>). */
  advertisedAddresses(): string[] {
    return this.#started().network.advertisedAddresses();
  }

  async start(): Promise<void> {
    if (this.#parts) return;
    await mkdir(this.config.dataDir, { recursive: true, mode: 0o700 });
    const parts = await this.#assemble();
    this.#parts = parts;
    await parts.presence.start();
    await parts.network.listen();
    this.log.info({ nodeId: this.id, addresses: this.advertisedAddresses() }, 'agent started');
    const membership = await readMembership(this.config.dataDir);
    if (membership) await this.#enterCluster(parts, membership, await readKnownPeers(this.config.dataDir));
  }

  async stop(): Promise<void> {
    const parts = this.#parts;
    if (!parts) return;
    parts.leaderScope.stop();
    parts.selfRegistration.stop();
    parts.autoscale.sampler.stop();
    await parts.workloads.stop().catch((error: unknown) => this.log.warn({ err: error }, 'runtime stop failed'));
    await parts.mesh?.stop().catch((error: unknown) => this.log.warn({ err: error }, 'service mesh stop failed'));
    await parts.store.stop().catch((error: unknown) => this.log.warn({ err: error }, 'raft stop failed'));
    await parts.presence.stop();
    await parts.network.stop();
  }

  #started(): Parts {
    if (!this.#parts) throw new Error('Cannot use the agent before it started: call start() first');
    return this.#parts;
  }

  /** Make every part with what it uses, and register their RPC methods. */
  async #assemble(): Promise<Parts> {
    const { config, log } = this;
    const clock = this.#clock;
    const components = this.#components;
    // The state machine comes first: the host's membership gate reads it.
    const state = new ClusterStateMachine();
    const network = await AgentNetwork.open({
      config,
      createHost: components.createHost ?? createHost,
      members: state,
      clock,
      log,
    });
    const selfId = network.peerId;
    const raftDir = join(config.dataDir, 'raft');
    // Events and metrics read the store, made next; they are made first so that the store's
    // writer and storage report to them from the start.
    const observability: AgentObservability = new AgentObservability({
      selfId,
      state,
      raftStatus: () => cluster.raft()?.status() ?? null,
      appliedIndex: () => cluster.appliedIndex,
      isLeader: () => cluster.isLeader(),
      now: () => Date.now(),
      log: log.child({ component: 'events' }),
    });
    const openStorage =
      components.openRaftStorage ??
      (async ({ fresh }: { readonly fresh: boolean }) => {
        if (fresh) await rm(raftDir, { recursive: true, force: true });
        return FileRaftStorage.open(raftDir);
      });
    const cluster = new ClusterStore({
      selfId,
      state,
      rpc: network.rpc,
      transport: network.transport,
      host: network.host,
      addressesOf: (peer) => network.addressesOf(peer),
      // before the feed names the configuration: the members the join answer or peers.json named
      knownMembers: () => network.bootstrapPeers(),
      openStorage: async (options) => timedRaftStorage(await openStorage(options), observability.raft.walSynced),
      onProposed: observability.raft.proposed,
      tickMs: config.tickMs,
      snapshotEvery: config.snapshotEvery,
      clock,
      log,
    });
    const raft = () => cluster.raft();
    // Observers are not Raft members: the leader hears them through presence instead.
    const presence = new PresenceTracker({ host: network.host, clock, logger: log.child({ component: 'presence' }) });
    const health = new MemberHealthTracker({
      selfId,
      raft,
      since: () => cluster.openedAt,
      disconnectedAt: () => network.disconnectedAt(),
      clock,
    });
    const nodeHealth = (): NodeHealth | null => {
      const members = health.leaderView();
      return members && { members, observersHeard: presence.lastHeard(), now: clock.now() };
    };
    const controllers = new ControllerLoop(
      {
        raft,
        host: { peerId: selfId },
        state: cluster.state,
        lastHeard: () => latest(health.lastHeard(), presence.lastHeard()),
        config,
        log,
      },
      cluster.writer,
      clock,
    );
    const membershipLoop = new MembershipLoop({
      selfId,
      raft,
      state: cluster.state,
      config,
      health,
      presence: () => presence.lastHeard(),
      changeMembership: (change, options) => cluster.changeMembership(change, options),
      clock,
      log,
    });
    const autoscale = autoscaleParts({
      selfId,
      rpc: network.rpc,
      store: cluster,
      workloads: () => workloads,
      clock,
      log,
    });
    // Services from an older snapshot get their address from the leader (mesh-vips.ts).
    const vipAllocator = new VipAllocator({
      state: cluster.state,
      propose: (command, options) => cluster.propose(command, options),
      log,
    });
    // Secrets and configs (issue 14): the data key, handing tasks their secrets, the admin API.
    const dataKeys = new DataKeyStore({ selfId, dataDir: config.dataDir, store: cluster, rpc: network.rpc, log });
    const secretDelivery = new SecretDelivery({ selfId, store: cluster, rpc: network.rpc, keys: dataKeys, log });
    const secrets = new SecretService({ store: cluster, keys: dataKeys });
    // Images (issue 15): pinning at deploy, registry credentials for the pulling nodes, the watch.
    const {
      registryAuth,
      resolver: images,
      watch: imageWatch,
    } = imageParts({
      selfId,
      config,
      store: cluster,
      rpc: network.rpc,
      keys: dataKeys,
      sources: components.images,
      driversInjected: components.openDrivers !== undefined,
      clock,
      log,
    });
    const leaderScope = new LeaderScope({
      selfId,
      leadership: cluster,
      tasks: [health, membershipLoop, controllers, autoscale.loop, vipAllocator, imageWatch],
      log,
    });
    const resolvConf = join(config.dataDir, 'mesh', 'resolv.conf');
    const meshContainers = config.mesh === true ? { resolvConf } : null;
    // The runtime drains a task through the mesh before stopping it; the mesh reads what it observes.
    let mesh: MeshNode | null = null;
    const workloads = new NodeWorkloads({
      selfId,
      rpc: network.rpc,
      store: cluster,
      config,
      openDrivers: withTaskFiles(
        withPullCredentials(
          components.openDrivers ?? hostDrivers(config.runtime, config.dataDir, meshContainers),
          registryAuth.forPull,
        ),
        (nodeId, a, signal) => secretDelivery.resolve(nodeId, a, signal),
      ),
      clock,
      log,
      beforeStop: (taskId, options) => mesh?.drain(taskId, options) ?? Promise.resolve(),
    });
    if (config.mesh === true)
      mesh = new MeshNode({
        selfId,
        host: network.host,
        state: cluster.state,
        propose: (command, options) => cluster.propose(command, options),
        observed: () => workloads.observed(),
        addressesOf: (peer) => network.addressesOf(peer),
        run: components.meshRunner ?? execRunner(),
        resolvConfPath: resolvConf,
        autoscale: autoscale.meshLink,
        log,
      });
    const facts = nodeFacts({
      detect: components.detectHost ?? (() => detectResources()),
      addresses: () => network.advertisedAddresses(),
      labels: config.labels,
      log,
    });
    const init = singleFlight((name: string, signal?: AbortSignal) =>
      completeInit({ selfId, dataDir: config.dataDir, store: cluster, facts }, name, signal),
    );
    const selfRegistration = new SelfRegistration({ selfId, store: cluster, facts, completeInit: init, clock, log });
    const enterCluster = (membership: ClusterMembership, peers: KnownPeers, options?: { observe?: boolean }) =>
      this.#enterCluster(this.#started(), membership, peers, options);
    const joins = new JoinService({
      selfId,
      rpc: network.rpc,
      store: cluster,
      dataDir: config.dataDir,
      facts,
      enterCluster,
      log,
    });
    const admin = new AdminService({
      selfId,
      store: cluster,
      config,
      joins,
      enterCluster,
      completeInit: init,
      nodeHealth,
      discovered: () => network.host.discovered(),
      log,
    });
    const api = agentApi(
      admin,
      new WorkloadService({
        store: cluster,
        taskLogs: workloads.taskLogs,
        nodeHealth,
        raftView: () => cluster.raftView(),
        prepareStack: (spec, options) => secrets.prepareStack(spec, options),
        afterStackRemove: (stack, options) => secrets.removeStackObjects(stack, options),
        autoscaleLive: () => autoscale.live(),
        namesAcrossNodes: config.mesh === true,
        ...(images ? { resolveImage: (image, signal, auth) => images.resolve(image, signal, auth) } : {}),
        sealRegistryAuth: (stack, services, credentials, signal) =>
          registryAuth.sealForDeploy(stack, services, credentials, signal),
      }),
      new BatchService({ store: cluster, taskLogs: workloads.taskLogs }),
      observability,
      secrets,
    );

    // Events between parts, in the order they must see them.
    cluster.on('leader:change', (leader, term) => observability.leaderChanged(leader, term));
    cluster.on('conf:change', (conf) => {
      // an observer restarts with no state: it remembers whom to follow
      if (cluster.role !== 'observer') return;
      const peers = [...conf.voters, ...conf.learners].map((id) => ({ id, addresses: network.addressesOf(id) }));
      void writeKnownPeers(config.dataDir, peers).catch((error: unknown) =>
        log.warn({ err: error }, 'cannot remember the Raft members (peers.json)'),
      );
    });
    cluster.on('state:change', () => {
      network.syncPeerAddresses();
      workloads.stateChanged();
      controllers.stateChanged();
      vipAllocator.stateChanged();
      mesh?.stateChanged();
    });
    network.onDisconnect((peer) => {
      controllers.memberDisconnected();
      log.debug({ peer, leader: cluster.leader === peer }, 'peer disconnected');
      // A closed connection to the leader (its process died) starts an election at once.
      cluster.raft()?.reportUnreachable(peer);
    });
    cluster.serveWrites();
    joins.register();
    admin.register();
    workloads.register();
    dataKeys.register();
    secretDelivery.register();
    registryAuth.register();
    images?.register();
    return {
      network,
      presence,
      store: cluster,
      workloads,
      mesh,
      leaderScope,
      autoscale,
      selfRegistration,
      admin,
      api,
    };
  }

  /**
   * Join or create (or restart in) a cluster: Raft or the feed (`observe`: a join), then
   * everything that needs it, in order.
   */
  async #enterCluster(
    parts: Parts,
    membership: ClusterMembership,
    peers: KnownPeers,
    options: { readonly observe?: boolean } = {},
  ): Promise<void> {
    if (parts.store.joined()) return;
    parts.network.admit(peers);
    if (options.observe === true) await writeKnownPeers(this.config.dataDir, peers);
    parts.leaderScope.start();
    await parts.store.open(membership, options);
    parts.network.syncPeerAddresses();
    parts.network.announceSelf();
    parts.selfRegistration.start();
    // Before the runtime: containers it creates bind-mount the mesh's resolv.conf.
    await parts.mesh
      ?.start()
      .catch((error: unknown) =>
        this.log.error(
          { err: error },
          'the service mesh cannot start: service names and published ports do not work here',
        ),
      );
    await parts.workloads.start();
    parts.autoscale.sampler.start();
  }
}

/** The later of two last-heard times per node. */
function latest(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): ReadonlyMap<string, number> {
  const merged = new Map(a);
  for (const [id, at] of b) if (at > (merged.get(id) ?? -Infinity)) merged.set(id, at);
  return merged;
}
