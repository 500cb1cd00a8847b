/**
 * The shoal agent: one per machine, identical everywhere. This file is the composition root: it
 * makes each part with the parts it uses (no part sees the agent) and runs them in order.
 *
 *   AgentNetwork (identity, libp2p host, RPC, Raft transport, peer addresses), PresenceTracker
 *     └► ClusterStore (state machine; a Raft node on a member, the state feed on an observer;
 *          │           CommandWriter, reads)
 *          ├► NodeWorkloads (this node's runtime on the injected drivers; task logs)
 *          ├► LeaderScope ─ started on `leader:change` to this node, stopped on any other:
 *          │     MemberHealthTracker → MembershipLoop → ControllerLoop (workloads.ts)
 *          ├► SelfRegistration (keeps this node's record current; finishes an interrupted init)
 *          └► AdminService, JoinService, WorkloadService, BatchService (the admin API)
 *
 * Start: network → the services register their RPC methods → RPC listens → if the data dir
 * belongs to a cluster (cluster.json), enter it: Raft (or the feed, on an observer), peer
 * addresses, hello, self-registration, runtime; else wait for `init` or `join`. Stop, in reverse:
 * leader scope, self-registration, runtime, Raft or feed, presence, RPC and host.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { BatchApi } from '../api/job-types.js';
import type { ClusterApi, WorkloadApi } from '../api/types.js';
import { detectResources, type HostResources } from '../host/index.js';
import { createHost } from '../p2p/index.js';
import { PresenceTracker } from '../follow/index.js';
import { realClock, type Clock, type RaftNode } from '../raft/driver/index.js';
import type { RaftStorage } from '../raft/interfaces.js';
import { FileRaftStorage } from '../raft/storage/index.js';
import { ClusterStateMachine } from '../state/index.js';
import { AdminService } from './admin.js';
import { agentApi } from './api-facade.js';
import { completeInit } from './cluster-init.js';
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
import { hostDrivers, type OpenDrivers } from './runtime-drivers.js';
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
}

/** The parts of a started agent. */
interface Parts {
  readonly network: AgentNetwork;
  readonly presence: PresenceTracker;
  readonly store: ClusterStore;
  readonly workloads: NodeWorkloads;
  readonly leaderScope: LeaderScope;
  readonly selfRegistration: SelfRegistration;
  readonly admin: AdminService;
  readonly api: ClusterApi & WorkloadApi & BatchApi;
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
  get api(): ClusterApi & WorkloadApi & BatchApi {
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
    await parts.workloads.stop().catch((error: unknown) => this.log.warn({ err: error }, 'runtime stop failed'));
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
    const cluster = new ClusterStore({
      selfId,
      state,
      rpc: network.rpc,
      transport: network.transport,
      host: network.host,
      addressesOf: (peer) => network.addressesOf(peer),
      // before the feed names the configuration: the members the join answer or peers.json named
      knownMembers: () => network.bootstrapPeers(),
      openStorage:
        components.openRaftStorage ??
        (async ({ fresh }) => {
          if (fresh) await rm(raftDir, { recursive: true, force: true });
          return FileRaftStorage.open(raftDir);
        }),
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
    const leaderScope = new LeaderScope({
      selfId,
      leadership: cluster,
      tasks: [health, membershipLoop, controllers],
      log,
    });
    const workloads = new NodeWorkloads({
      selfId,
      rpc: network.rpc,
      store: cluster,
      config,
      openDrivers: components.openDrivers ?? hostDrivers(config.runtime, config.dataDir),
      clock,
      log,
    });
    const facts = nodeFacts({
      detect: components.detectHost ?? (() => detectResources()),
      addresses: () => network.advertisedAddresses(),
      labels: config.labels,
      log,
    });
    const init = (name: string, signal?: AbortSignal) =>
      completeInit({ selfId, dataDir: config.dataDir, store: cluster, facts }, name, signal);
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
      }),
      new BatchService({ store: cluster, taskLogs: workloads.taskLogs }),
    );

    // Events between parts, in the order they must see them.
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
    return { network, presence, store: cluster, workloads, leaderScope, selfRegistration, admin, api };
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
    await parts.workloads.start();
  }
}

/** The later of two last-heard times per node. */
function latest(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): ReadonlyMap<string, number> {
  const merged = new Map(a);
  for (const [id, at] of b) if (at > (merged.get(id) ?? -Infinity)) merged.set(id, at);
  return merged;
}
