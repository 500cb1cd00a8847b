/**
 * The shoal agent: one per machine, identical everywhere. It wires the libp2p host, the Raft
 * node (file storage, libp2p transport), the replicated cluster state, the admin API and, while
 * it leads, the controllers.
 *
 * Lifecycle: `start()` brings up identity, host, RPC and the admin API. If the data dir belongs
 * to a cluster (cluster.json) the Raft node starts at once; otherwise the agent waits for
 * `init` or `join` (from the admin API or the --init/--join flags).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { createHost, loadOrCreateIdentity, Libp2pRaftTransport, RpcService, type P2PHost } from '../p2p/index.js';
import { RaftNode } from '../raft/driver/index.js';
import { FileRaftStorage } from '../raft/storage/index.js';
import { ClusterStateMachine } from '../state/index.js';
import type { Entry } from '../raft/types.js';
import type { StateMachine } from '../raft/interfaces.js';
import type { ApplyResult } from '../state/index.js';
import type { AgentConfig } from './config.js';
import { readMembership, type ClusterMembership } from './local-files.js';
import { CommandWriter } from './writes.js';
import { AppliedIndex } from './applied-index.js';
import { JoinService } from './join.js';
import { LeaderLoop } from './leader-loop.js';
import { AdminService } from './admin.js';
import type { MemberHealth } from '../controllers/raft-membership.js';
import type { LogLine, LogsRequest } from '../api/types.js';
import type { ServiceRecord, TaskRecord } from '../state/workloads.js';
import { WorkloadHost } from './workloads.js';
import { WorkloadService } from './workload-api.js';
import { BatchService } from './job-api.js';

export { SHOAL_VERSION } from './version.js';

/** The parts of a running agent that its services share. */
export interface AgentContext {
  readonly config: AgentConfig;
  readonly log: Logger;
  readonly host: P2PHost;
  readonly rpc: RpcService;
  readonly state: ClusterStateMachine;
  readonly transport: Libp2pRaftTransport;
  /** The Raft node, once this agent belongs to a cluster. */
  raft(): RaftNode | null;
  membership(): ClusterMembership | null;
  /** Join or create: persist membership and start Raft. */
  startRaft(
    membership: ClusterMembership,
    knownPeers?: readonly { id: string; addresses: readonly string[] }[],
  ): Promise<RaftNode>;
  /** The addresses peers should dial to reach this agent (with /p2p/<id>). */
  advertisedAddresses(): string[];
  /** Members' health as the leader sees it; null when this agent does not lead. */
  memberHealth(): MemberHealth[] | null;
  /** When the leader last heard from each member (its Raft traffic is the node heartbeat). */
  lastHeard(): ReadonlyMap<string, number>;
  /** A task's logs, from the node that runs it. */
  taskLogs(
    task: TaskRecord,
    service: ServiceRecord,
    request: LogsRequest,
    signal?: AbortSignal,
  ): AsyncIterable<LogLine>;
}

export class Agent implements AgentContext {
  readonly config: AgentConfig;
  readonly log: Logger;
  readonly state = new ClusterStateMachine();
  readonly #applied = new AppliedIndex();
  #host: P2PHost | null = null;
  #rpc: RpcService | null = null;
  #transport: Libp2pRaftTransport | null = null;
  #raft: RaftNode | null = null;
  #membership: ClusterMembership | null = null;
  /** Peers learned from a join answer, admitted before the replicated state names them. */
  readonly #bootstrapPeers = new Set<string>();
  readonly #knownAddresses = new Map<string, string>();
  /** Peers with no open connection, since when: silence counts from there (node health). */
  readonly #disconnectedAt = new Map<string, number>();
  /** Addresses a peer announced itself (node.hello), in force until its replicated record says the same. */
  readonly #announced = new Map<string, string>();
  #addressSyncQueued = false;
  #leaderLoop: LeaderLoop | null = null;
  readonly admin: AdminService;
  readonly writer: CommandWriter;
  readonly joins: JoinService;
  readonly workloads: WorkloadService;
  readonly batch: BatchService;
  readonly #workloadHost: WorkloadHost;

  constructor(config: AgentConfig, logger?: Logger) {
    this.config = config;
    this.log = logger ?? pino({ level: config.logLevel, base: { service: 'shoal' } });
    this.writer = new CommandWriter(this, this.#applied);
    this.joins = new JoinService(this, this.writer);
    this.admin = new AdminService(this, this.writer, this.joins);
    this.workloads = new WorkloadService(this, this.writer);
    this.batch = new BatchService(this, this.writer);
    this.#workloadHost = new WorkloadHost(this, this.writer);
  }

  get host(): P2PHost {
    if (!this.#host) throw new Error('Cannot use the host before the agent started');
    return this.#host;
  }
  get rpc(): RpcService {
    if (!this.#rpc) throw new Error('Cannot use RPC before the agent started');
    return this.#rpc;
  }
  get transport(): Libp2pRaftTransport {
    if (!this.#transport) throw new Error('Cannot use the transport before the agent started');
    return this.#transport;
  }
  get id(): string {
    return this.host.peerId;
  }
  raft(): RaftNode | null {
    return this.#raft;
  }
  membership(): ClusterMembership | null {
    return this.#membership;
  }

  async start(): Promise<void> {
    await mkdir(this.config.dataDir, { recursive: true, mode: 0o700 });
    const identity = await loadOrCreateIdentity(this.config.dataDir);
    this.#host = await createHost({
      privateKey: identity.privateKey,
      listen: this.config.listen,
      mdns: this.config.mdns,
      logger: this.log.child({ component: 'p2p' }),
      gate: {
        isMember: (peerId) => this.state.isMember(peerId) || this.#bootstrapPeers.has(peerId),
        isRevoked: (peerId) => this.state.isRevoked(peerId),
      },
    });
    this.#rpc = new RpcService(this.#host, {
      logger: this.log.child({ component: 'rpc' }),
      addressesOf: (peerId) => this.state.node(peerId)?.addresses ?? [],
    });
    this.#transport = new Libp2pRaftTransport(this.#host, { logger: this.log.child({ component: 'raft-transport' }) });
    // A closed connection to the leader (its process died) starts an election at once.
    this.#host.libp2p.addEventListener('peer:connect', (event) => this.#disconnectedAt.delete(event.detail.toString()));
    this.#host.libp2p.addEventListener('peer:disconnect', (event) => {
      const peer = event.detail.toString();
      this.#disconnectedAt.set(peer, Date.now());
      this.#workloadHost.memberDisconnected();
      this.log.debug({ peer, leader: this.#raft?.leader === peer }, 'peer disconnected');
      this.#raft?.reportUnreachable(peer);
    });
    this.writer.register();
    this.joins.register();
    this.admin.register();
    this.#workloadHost.register();
    this.#rpc.handle('node.hello', (payload, { peerId }) => this.#hello(payload, peerId));
    await this.#rpc.start();
    this.log.info({ nodeId: this.id, addresses: this.advertisedAddresses() }, 'agent started');

    const membership = await readMembership(this.config.dataDir);
    if (membership) await this.startRaft(membership);
  }

  async stop(): Promise<void> {
    this.#leaderLoop?.stop();
    await this.#workloadHost.stop().catch((error: unknown) => this.log.warn({ err: error }, 'runtime stop failed'));
    await this.#raft?.stop().catch((error: unknown) => this.log.warn({ err: error }, 'raft stop failed'));
    await this.#rpc?.stop();
    await this.#host?.stop();
  }

  /**
   * When the leader last heard from each member. Raft's activity flag lags a dead peer by up to
   * an election timeout; a closed connection is known at once, so silence counts from it.
   */
  lastHeard(): ReadonlyMap<string, number> {
    const heard = new Map(this.#leaderLoop?.lastActive ?? []);
    for (const [peer, at] of this.#disconnectedAt) {
      const last = heard.get(peer);
      if (last !== undefined && at < last) heard.set(peer, at);
    }
    return heard;
  }

  taskLogs(
    task: TaskRecord,
    service: ServiceRecord,
    request: LogsRequest,
    signal?: AbortSignal,
  ): AsyncIterable<LogLine> {
    return this.#workloadHost.taskLogs(task, service, request, signal);
  }

  memberHealth(): MemberHealth[] | null {
    const raft = this.#raft;
    if (!raft || raft.leader !== this.id || !this.#leaderLoop) return null;
    return this.#leaderLoop.health();
  }

  advertisedAddresses(): string[] {
    const id = this.host.peerId;
    const base = this.config.announce.length > 0 ? [...this.config.announce] : this.host.multiaddrs();
    return base.map((addr) => (addr.includes('/p2p/') ? addr : `${addr}/p2p/${id}`));
  }

  async startRaft(
    membership: ClusterMembership,
    knownPeers: readonly { id: string; addresses: readonly string[] }[] = [],
  ): Promise<RaftNode> {
    if (this.#raft) return this.#raft;
    this.#membership = membership;
    for (const peer of knownPeers) {
      if (peer.id === this.id) continue;
      this.#bootstrapPeers.add(peer.id);
      this.transport.setPeerAddresses(peer.id, peer.addresses);
    }
    const storage = await FileRaftStorage.open(join(this.config.dataDir, 'raft'));
    const raft = new RaftNode({
      id: this.id,
      storage,
      transport: this.transport,
      stateMachine: this.#observedStateMachine(),
      bootstrapConf: { voters: [...membership.bootstrapVoters], learners: [] },
      tickMs: this.config.tickMs,
      snapshotEvery: this.config.snapshotEvery,
      logger: this.log.child({ component: 'raft' }),
    });
    raft.on('leader:change', (leader, term) => {
      this.log.info({ leader, term }, leader === this.id ? 'this node is now the leader' : 'leader changed');
      if (leader === this.id) {
        this.#leaderLoop?.start();
        this.#workloadHost.leadershipGained();
      } else {
        this.#leaderLoop?.stop();
        this.#workloadHost.leadershipLost();
      }
    });
    raft.on('snapshot:restore', (index, term) =>
      this.log.info({ index, term }, 'installed a snapshot from the leader'),
    );
    raft.on('fatal', (error) =>
      this.log.fatal({ err: error }, 'raft stopped: this agent can no longer take part in the cluster'),
    );
    this.#raft = raft;
    this.#leaderLoop = new LeaderLoop(this, this.writer);
    await raft.start();
    this.#syncPeerAddresses();
    this.#announceSelf();
    void this.#keepSelfRecordCurrent();
    await this.#workloadHost.start(this.config.runtime);
    return raft;
  }

  /**
   * Tell every known member where this node listens now. After a restart on a new address the
   * others cannot reach it, and it cannot update its replicated record without a leader: this
   * direct hello breaks that circle. Members accept only the caller's own addresses.
   */
  #announceSelf(): void {
    const addresses = this.advertisedAddresses();
    for (const node of this.state.nodes()) {
      if (node.id === this.id) continue;
      void this.rpc
        .call(node.id, 'node.hello', { addresses }, { timeoutMs: 3_000, addresses: node.addresses })
        .catch(() => undefined);
    }
  }

  #hello(payload: unknown, peerId: string): null {
    const addresses = (payload as { addresses?: unknown } | null)?.addresses;
    if (
      !Array.isArray(addresses) ||
      addresses.length > 16 ||
      !addresses.every((a) => typeof a === 'string' && a.endsWith(`/p2p/${peerId}`))
    ) {
      throw Object.assign(new Error('node.hello: expected addresses: string[] ending in /p2p/<your peer id>'), {
        code: 'bad_request',
      });
    }
    this.transport.setPeerAddresses(peerId, addresses as string[]);
    this.#announced.set(peerId, (addresses as string[]).join(' '));
    return null;
  }

  /**
   * After a restart this node's addresses may differ from its record (a new port, a new IP):
   * update the record, and finish an `init` that was interrupted before its first commands.
   */
  async #keepSelfRecordCurrent(): Promise<void> {
    for (let attempt = 0; attempt < 600 && this.#raft; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, attempt === 0 ? 200 : 1000));
      try {
        if (this.#membership?.origin === 'init' && !this.state.cluster()) {
          if (this.#raft.leader !== this.id) continue;
          await this.admin.completeInit('shoal');
          return;
        }
        const record = this.state.node(this.id);
        if (!record) continue;
        // Addresses change with a new port or IP; resources when GPUs were added or removed.
        const { addresses, resources, platform } = await this.joins.selfRegistration();
        const change = {
          ...(record.addresses.join(' ') === addresses.join(' ') ? {} : { addresses }),
          ...(JSON.stringify(record.resources) === JSON.stringify(resources) ? {} : { resources }),
          // nodes registered before shoal recorded platforms learn theirs on their next start
          ...(platform === undefined || JSON.stringify(record.platform) === JSON.stringify(platform)
            ? {}
            : { platform }),
        };
        if (Object.keys(change).length === 0) return;
        await this.writer.submit({ type: 'node.update', id: this.id, ...change }, { deadlineMs: 5_000 });
        this.log.info(change, "updated this node's record");
        return;
      } catch (error) {
        this.log.debug({ err: error }, 'self record update failed; retrying');
      }
    }
  }

  /** Wrap the state machine so the transport learns members' addresses as they are applied. */
  #observedStateMachine(): StateMachine<ApplyResult> {
    const state = this.state;
    return {
      apply: (entry: Entry) => {
        const result = state.apply(entry);
        this.#applied.advance(entry.index);
        this.#queueAddressSync();
        return result;
      },
      snapshot: () => state.snapshot(),
      restore: (data: Uint8Array, index: number) => {
        state.restore(data, index);
        this.#applied.advance(index);
        this.#queueAddressSync();
      },
    };
  }

  #queueAddressSync(): void {
    if (this.#addressSyncQueued) return;
    this.#addressSyncQueued = true;
    queueMicrotask(() => {
      this.#addressSyncQueued = false;
      this.#syncPeerAddresses();
      this.#workloadHost.stateChanged();
    });
  }

  #syncPeerAddresses(): void {
    if (!this.#transport) return;
    for (const node of this.state.nodes()) {
      if (node.id === this.id) continue;
      const key = node.addresses.join(' ');
      const announced = this.#announced.get(node.id);
      if (announced !== undefined) {
        if (announced !== key) continue;
        this.#announced.delete(node.id);
        this.#knownAddresses.set(node.id, key);
        continue;
      }
      if (this.#knownAddresses.get(node.id) === key) continue;
      this.#knownAddresses.set(node.id, key);
      this.#transport.setPeerAddresses(node.id, node.addresses);
    }
    let revokedSome = false;
    for (const revoked of this.state.revoked()) {
      if (!this.#knownAddresses.has(revoked.id) && !this.#bootstrapPeers.has(revoked.id)) continue;
      this.#knownAddresses.delete(revoked.id);
      this.#bootstrapPeers.delete(revoked.id);
      this.#transport.removePeer(revoked.id);
      revokedSome = true;
    }
    // The gater refuses new connections from revoked peers; open ones are cut here.
    if (revokedSome) void this.#host?.enforceGate().catch(() => undefined);
  }
}
