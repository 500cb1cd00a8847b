/**
 * The cluster as this node holds it: the replicated state machine, and what keeps it current —
 * a Raft node when this node is a Raft member (a voter or a standby learner), else the state
 * feed from a member (an observer; docs/ARCHITECTURE.md, "100 nodes") — and the only way to
 * change it, a typed `propose` through the CommandWriter (on the leader, or forwarded to it).
 *
 * Everything above the store (API services, controllers, the node's runtime) sees the same
 * surface whichever backs it: state, `read`, `propose`, `appliedIndex`, the leader and the
 * `leader:change` and `state:change` events. The node's role follows the Raft configuration:
 * an observer whose feed names it a member starts a Raft node (empty storage: the leader sends
 * a snapshot); a member that leaves the configuration goes back to following the feed.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { ApiError } from '../api/types.js';
import { READ_INDEX_METHOD, readIndexHandler } from '../follow/index.js';
import type { P2PHost, RpcService } from '../p2p/index.js';
import type { RaftStorage, RaftTransport } from '../raft/interfaces.js';
import { RaftNode, realClock, type Clock } from '../raft/driver/index.js';
import type { ConfChange, ConfState, NodeId } from '../raft/types.js';
import type { ApplyResult, ClusterStateMachine, CommandInput } from '../state/index.js';
import { AppliedIndex } from './applied-index.js';
import type { ClusterMembership } from './local-files.js';
import { startMemberFeed, type MemberFeed } from './member-feed.js';
import { ObserverLink } from './observer-link.js';
import { linearizableRead } from './reads.js';
import { ObservedStateMachine } from './observed-state.js';
import { TransportLease } from './transport-lease.js';
import type { RaftView } from './views.js';
import { CommandWriter } from './writes.js';

/** Raft member (voter or learner), observer (follows the feed), or none (no cluster yet). */
export type NodeRole = 'member' | 'observer' | 'none';

/** What the store is built from. */
export interface ClusterStoreDeps {
  readonly selfId: NodeId;
  /** The replicated state machine this store applies to (the network's membership gate reads it too). */
  readonly state: ClusterStateMachine;
  readonly rpc: RpcService;
  /** How Raft messages reach the other members; each Raft node of this agent leases it. */
  readonly transport: RaftTransport;
  /** Serves the feed (members) and dials it (observers). */
  readonly host: Pick<P2PHost, 'handle' | 'unhandle' | 'dialProtocol'>;
  /** Where a peer listens: its node record, or what a join answer said. */
  readonly addressesOf: (peerId: NodeId) => readonly string[];
  /** Raft members to follow before the feed names the configuration (the join answer's, or remembered). */
  readonly knownMembers: () => readonly NodeId[];
  /** Opens this node's Raft storage; `fresh` drops what an earlier membership left. */
  readonly openStorage: (options: { readonly fresh: boolean }) => Promise<RaftStorage>;
  readonly tickMs: number;
  readonly snapshotEvery: number;
  readonly clock?: Clock;
  readonly log: Logger;
  /** Told how long each proposal this node made took (metrics). */
  readonly onProposed?: (seconds: number) => void;
}

export interface ClusterStoreEvents {
  'leader:change': [leader: NodeId | null, term: number];
  /** Entries were applied or a snapshot restored: once per burst, in a microtask. */
  'state:change': [];
  /** This node became a Raft member or an observer. */
  'role:change': [role: NodeRole];
  /** The Raft configuration as this node last learned it changed. */
  'conf:change': [conf: ConfState];
}

/** Options of a write: an abort signal, a deadline, the request id (the API request's by default). */
export interface ProposeOptions {
  readonly signal?: AbortSignal;
  readonly deadlineMs?: number;
  readonly requestId?: string;
}

const NOT_A_MEMBER =
  'This agent is not part of a cluster yet: run `shoal init` to create one or `shoal join` to join one';

export class ClusterStore extends EventEmitter<ClusterStoreEvents> {
  readonly state: ClusterStateMachine;
  /** Proposes and forwards; serves forwarded writes (`serveWrites`). */
  readonly writer: CommandWriter;
  readonly #deps: ClusterStoreDeps;
  readonly #clock: Clock;
  readonly #applied = new AppliedIndex();
  readonly #machine: ObservedStateMachine;
  #raft: RaftNode | null = null;
  #feed: MemberFeed | null = null;
  #observer: ObserverLink | null = null;
  #membership: ClusterMembership | null = null;
  #openedAt = 0;
  /** Role changes, one at a time. */
  #switching: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(deps: ClusterStoreDeps) {
    super();
    this.#deps = deps;
    this.#clock = deps.clock ?? realClock;
    this.state = deps.state;
    this.#machine = new ObservedStateMachine(deps.state, this.#applied, () => this.emit('state:change'));
    this.writer = new CommandWriter({
      rpc: deps.rpc,
      selfId: deps.selfId,
      raft: () => this.#raft,
      joined: () => this.joined(),
      leader: () => this.leader,
      leaderChanges: this,
      applied: this.#applied,
      ...(deps.onProposed ? { onProposed: deps.onProposed } : {}),
    });
  }

  /** The Raft node, while this agent is a Raft member. */
  raft(): RaftNode | null {
    return this.#raft;
  }

  membership(): ClusterMembership | null {
    return this.#membership;
  }

  get role(): NodeRole {
    return this.#raft ? 'member' : this.#observer ? 'observer' : 'none';
  }

  /** This agent belongs to a cluster (as a member or an observer). */
  joined(): boolean {
    return this.#membership !== null && !this.#stopped;
  }

  /** When this node entered the cluster or last started a Raft node (its clock); 0 before. */
  get openedAt(): number {
    return this.#openedAt;
  }

  /** The index the local state reflects. */
  get appliedIndex(): number {
    return this.#applied.index;
  }

  get leader(): NodeId | null {
    return this.#raft?.leader ?? this.#observer?.leader ?? null;
  }

  /** The Raft configuration as this node knows it (Raft's applied one, or the feed's). */
  get conf(): ConfState {
    return this.#raft?.appliedConf ?? this.#observer?.conf ?? { voters: [], learners: [] };
  }

  /** Raft's status on a member; on an observer, what its feed says (for the admin views). */
  raftView(): RaftView | null {
    if (this.#raft) return this.#raft.status();
    if (!this.joined()) return null;
    const applied = this.#applied.index;
    return { leader: this.leader, term: 0, commit: applied, applied, role: 'observer', conf: this.conf };
  }

  isLeader(): boolean {
    return this.#raft !== null && this.#raft.leader === this.#deps.selfId;
  }

  /** The Raft node, or `not_initialized` when this agent is not a Raft member. */
  requireRaft(): RaftNode {
    if (!this.#raft) throw new ApiError(409, 'not_initialized', NOT_A_MEMBER);
    return this.#raft;
  }

  /** `not_initialized` unless this agent belongs to a cluster (member or observer). */
  requireJoined(): void {
    if (!this.joined()) throw new ApiError(409, 'not_initialized', NOT_A_MEMBER);
  }

  /** Serve the writes followers forward here and read indexes for observers (before RPC starts). */
  serveWrites(): void {
    this.writer.register();
    this.#deps.rpc.handle(
      READ_INDEX_METHOD,
      readIndexHandler({
        readIndex: async ({ signal }) => {
          const raft = this.#raft;
          if (!raft) throw Object.assign(new Error('this node is not a Raft member'), { code: 'retry' });
          await raft.read({ signal });
          return raft.applied;
        },
      }),
    );
  }

  /**
   * Enter the cluster for `membership` (init, join or a restart): as an observer when
   * `observe` is set (a join), else with a Raft node, which goes back to observing at once when
   * its storage shows this node is no longer (or never was) a member. Idempotent.
   */
  async open(membership: ClusterMembership, options: { readonly observe?: boolean } = {}): Promise<void> {
    if (this.#membership) return;
    this.#membership = membership;
    this.#openedAt = this.#clock.now();
    await this.#switch(async () => {
      if (options.observe === true) return this.#observe(0);
      const raft = await this.#startRaft(false);
      // the configuration in force once the whole stored log is in, not only its applied part
      const { conf, lastIndex } = raft.status();
      const empty = conf.voters.length === 0 && conf.learners.length === 0;
      if (!this.#inConf(conf) && (!empty || (lastIndex === 0 && membership.origin === 'join'))) {
        await this.#stopRaft();
        this.#observe(this.#applied.index);
      }
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#switch(async () => {
      await this.#observer?.stop();
      this.#observer = null;
      await this.#stopRaft();
    });
  }

  /**
   * Propose `command` through the leader (typed: `CommandInput` distributes over the command
   * union); resolves with its apply result once this node has applied it. Refusals are ApiErrors.
   */
  propose(command: CommandInput, options: ProposeOptions = {}): Promise<ApplyResult & { ok: true }> {
    return this.writer.submit(command, options);
  }

  /** A Raft membership change through the leader. */
  changeMembership(change: ConfChange, options: ProposeOptions = {}): Promise<void> {
    return this.writer.changeMembership(change, options);
  }

  /** Resolves once the local state reflects every write committed before the call (retried through elections). */
  async read(signal?: AbortSignal): Promise<void> {
    this.requireJoined();
    await linearizableRead((s) => this.readOnce({ signal: s }), signal);
  }

  /** One read barrier, not retried: Raft's ReadIndex on a member, the leader's read index on an observer. */
  readOnce(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    if (this.#raft) return this.#raft.read(options);
    if (this.#observer) return this.#observer.read(options);
    return Promise.reject(new ApiError(409, 'not_initialized', NOT_A_MEMBER));
  }

  #inConf(conf: ConfState): boolean {
    return conf.voters.includes(this.#deps.selfId) || conf.learners.includes(this.#deps.selfId);
  }

  #switch(work: () => Promise<void>): Promise<void> {
    const next = this.#switching.then(work);
    this.#switching = next.catch((error: unknown) =>
      this.#deps.log.error({ err: error }, 'changing between Raft member and observer failed'),
    );
    return next;
  }

  async #startRaft(fresh: boolean): Promise<RaftNode> {
    const deps = this.#deps;
    const raft = new RaftNode({
      id: deps.selfId,
      storage: await deps.openStorage({ fresh }),
      transport: new TransportLease(deps.transport),
      stateMachine: this.#machine,
      bootstrapConf: { voters: [...(this.#membership?.bootstrapVoters ?? [])], learners: [] },
      tickMs: deps.tickMs,
      snapshotEvery: deps.snapshotEvery,
      clock: this.#clock,
      logger: deps.log.child({ component: 'raft' }),
    });
    let wasMember = false;
    raft.on('leader:change', (leader, term) => this.emit('leader:change', leader, term));
    raft.on('snapshot:restore', (index, term) =>
      deps.log.info({ index, term }, 'installed a snapshot from the leader'),
    );
    raft.on('fatal', (error) =>
      deps.log.fatal({ err: error }, 'raft stopped: this agent can no longer take part in the cluster'),
    );
    raft.on('conf:change', (conf) => {
      this.emit('conf:change', conf);
      if (this.#inConf(conf)) wasMember = true;
      else if (wasMember && this.#removed(raft)) void this.#switch(() => this.#leaveRaft(raft)).catch(() => undefined);
    });
    this.#raft = raft;
    await raft.start();
    wasMember = this.#inConf(raft.status().conf);
    this.#feed = await startMemberFeed({
      host: deps.host,
      raft,
      appliedIndex: () => Math.max(raft.applied, this.#applied.index),
      snapshot: () => this.state.snapshot(),
      clock: this.#clock,
      log: deps.log,
    });
    this.emit('role:change', 'member');
    return raft;
  }

  async #stopRaft(): Promise<void> {
    const raft = this.#raft;
    if (!raft) return;
    await this.#feed?.stop();
    this.#feed = null;
    await raft.stop();
    if (this.#raft === raft) this.#raft = null;
  }

  /**
   * Whether this node's removal is committed: the applied configuration and the one the whole log
   * leads to both leave it out (a replayed older configuration, or a removal not yet committed,
   * must never stop a member: it may be a voter whose log and votes count).
   */
  #removed(raft: RaftNode): boolean {
    return this.#raft === raft && !this.#inConf(raft.appliedConf) && !this.#inConf(raft.status().conf);
  }

  /** This member left the Raft configuration: follow the feed from where Raft left the state. */
  async #leaveRaft(raft: RaftNode): Promise<void> {
    if (this.#stopped || !this.#removed(raft)) return;
    this.#deps.log.info('this node left the Raft configuration: following the state feed as an observer');
    const applied = Math.max(raft.applied, this.#applied.index);
    await this.#stopRaft();
    this.#observe(applied);
  }

  #observe(applied: number): void {
    const deps = this.#deps;
    const link = new ObserverLink({
      selfId: deps.selfId,
      stateMachine: this.#machine,
      applied,
      open: (peer, protocol, { signal }) =>
        deps.host.dialProtocol(peer, protocol, { addresses: deps.addressesOf(peer), signal }),
      members: deps.knownMembers,
      rpc: deps.rpc,
      clock: this.#clock,
      log: deps.log,
    });
    link.on('leader:change', (leader) => this.emit('leader:change', leader, 0));
    link.on('conf:change', (conf) => {
      this.emit('conf:change', conf);
      if (this.#inConf(conf)) void this.#switch(() => this.#joinRaft(link)).catch(() => undefined);
    });
    this.#observer = link;
    link.start();
    this.emit('role:change', 'observer');
  }

  /** The feed says this node is now a learner (or voter): start a Raft node on fresh storage. */
  async #joinRaft(link: ObserverLink): Promise<void> {
    if (this.#observer !== link || this.#stopped || !this.#inConf(link.conf)) return;
    this.#deps.log.info('this node joined the Raft configuration: starting its Raft node');
    await link.stop();
    this.#observer = null;
    // The state machine is ahead of the new Raft node: what Raft replays up to here is skipped.
    this.#openedAt = this.#clock.now();
    // Fresh storage only for a learner: the policy adds observers as learners, and a voter's log
    // and votes must never be dropped (a voter here would be a node that lost track of itself).
    await this.#startRaft(!link.conf.voters.includes(this.#deps.selfId));
  }
}
