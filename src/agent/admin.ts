/**
 * The admin API as this agent implements it. Reads that need the leader's view (status, nodes:
 * reachability and lag are only known there) are answered by the leader, so every peer gives
 * the same answer; `stale` reads answer from local state. Writes go through the CommandWriter.
 */
import {
  ApiError,
  type ClusterApi,
  type DiscoveredView,
  type InitRequest,
  type InitResult,
  type JoinRequest,
  type JoinResult,
  type NodeView,
  type ReadOptions,
  type StatusView,
  type TokenResult,
  type WriteOptions,
} from '../api/types.js';
import type { Logger } from 'pino';
import type { DiscoveredPeer } from '../p2p/index.js';
import { createClusterId, createJoinToken, fingerprint, parseJoinToken, tokenKeyHex } from '../security/index.js';
import type { ClusterStore } from './cluster-store.js';
import type { AgentConfig } from './config.js';
import type { JoinService, KnownPeers } from './join.js';
import { readLocalToken, writeLocalToken, writeMembership, type ClusterMembership } from './local-files.js';
import { buildNodes, buildStatus, isReachable, type NodeHealth } from './views.js';
import { toApiError } from './writes.js';

export interface AdminServiceDeps {
  readonly selfId: string;
  readonly store: ClusterStore;
  readonly config: Pick<AgentConfig, 'dataDir' | 'targetVoters'>;
  readonly joins: Pick<JoinService, 'join'>;
  /** Start Raft as a member of `membership` (init: the only voter). */
  readonly enterCluster: (membership: ClusterMembership, peers: KnownPeers) => Promise<unknown>;
  /** Write the new cluster's first commands (cluster-init.ts). */
  readonly completeInit: (name: string, signal?: AbortSignal) => Promise<string>;
  /** Who the leader hears (members by Raft, observers by presence) while this node leads; null when it does not. */
  readonly nodeHealth: () => NodeHealth | null;
  /** Agents seen on the LAN (mDNS). */
  readonly discovered: () => DiscoveredPeer[];
  readonly log: Logger;
}

export class AdminService implements ClusterApi {
  readonly #deps: AdminServiceDeps;
  readonly #store: ClusterStore;

  constructor(deps: AdminServiceDeps) {
    this.#deps = deps;
    this.#store = deps.store;
  }

  register(): void {
    this.#store.writer.handleOnLeader('admin.status', async () => this.#localStatus(true));
    this.#store.writer.handleOnLeader('admin.nodes', async () => this.#localNodes(true));
    this.#store.writer.handleOnLeader('admin.removeNode', (payload, signal) =>
      this.#removeHere(payload as { id: string; force: boolean }, signal),
    );
    this.#store.writer.handleOnLeader('admin.transfer', (payload, signal) =>
      this.#transferHere((payload as { to?: string }).to, signal),
    );
  }

  async status(options: ReadOptions = {}): Promise<StatusView> {
    if (!this.#store.joined() || options.consistency === 'stale') return this.#localStatus(false);
    const view = (await this.#onLeader('admin.status', {}, () => this.#localStatus(true), options)) as StatusView;
    // The cluster-wide part is the leader's view; the answering node's own role and progress are local.
    const local = this.#store.raft()?.status();
    return {
      ...view,
      nodeId: this.#deps.selfId,
      role: local?.role ?? 'observer',
      applied: local?.applied ?? this.#store.appliedIndex,
    };
  }

  async listNodes(options: ReadOptions = {}): Promise<NodeView[]> {
    this.#requireCluster();
    if (options.consistency === 'stale') return this.#localNodes(false);
    return (await this.#onLeader('admin.nodes', {}, () => this.#localNodes(true), options)) as NodeView[];
  }

  async init(request: InitRequest, options: WriteOptions = {}): Promise<InitResult> {
    if (this.#store.membership())
      throw new ApiError(
        409,
        'conflict',
        'This agent is already part of a cluster: `shoal status` shows it; remove its data dir to start over',
      );
    const clusterId = createClusterId();
    const membership = {
      version: 1 as const,
      clusterId,
      origin: 'init' as const,
      bootstrapVoters: [this.#deps.selfId],
    };
    await writeMembership(this.#deps.config.dataDir, membership);
    await this.#deps.enterCluster(membership, []);
    this.#store.requireRaft().campaign();
    const token = await this.#deps.completeInit(request.clusterName ?? 'shoal', options.signal);
    return { clusterId, nodeId: this.#deps.selfId, token };
  }

  join(request: JoinRequest, options: WriteOptions = {}): Promise<JoinResult> {
    return this.#deps.joins.join(request, options);
  }

  async removeNode(id: string, options: WriteOptions & { readonly force?: boolean } = {}): Promise<void> {
    this.#requireCluster();
    const payload = { id, force: options.force ?? false };
    await this.#onLeader('admin.removeNode', payload, (signal) => this.#removeHere(payload, signal), options);
  }

  async rotateToken(options: WriteOptions = {}): Promise<TokenResult> {
    const cluster = this.#requireCluster();
    const token = createJoinToken(cluster.id);
    const key = tokenKeyHex(token.secret);
    await this.#store.propose({ type: 'token.rotate', tokenKey: key, fingerprint: fingerprint(key) }, options);
    await writeLocalToken(this.#deps.config.dataDir, token.text);
    return { token: token.text, fingerprint: fingerprint(key) };
  }

  async showToken(options: ReadOptions = {}): Promise<TokenResult> {
    this.#requireCluster();
    if (options.consistency !== 'stale') await this.#read(options.signal);
    const current = this.#store.state.state().token;
    const local = await readLocalToken(this.#deps.config.dataDir);
    if (current && local) {
      const key = tokenKeyHex(parseJoinToken(local).secret);
      if (fingerprint(key) === current.fingerprint) return { token: local, fingerprint: current.fingerprint };
    }
    throw new ApiError(
      404,
      'not_found',
      `This node does not hold the current join token (fingerprint ${current?.fingerprint ?? 'none'}): only its secret's key is replicated. Run \`shoal token show\` on the node that created it, or \`shoal token rotate\` here for a new one`,
    );
  }

  async discover(): Promise<DiscoveredView[]> {
    return this.#deps
      .discovered()
      .map((peer) => ({ ...peer, addresses: [...peer.addresses], member: this.#store.state.isMember(peer.peerId) }));
  }

  async transferLeader(to?: string, options: WriteOptions = {}): Promise<{ leader: string }> {
    this.#requireCluster();
    return (await this.#onLeader('admin.transfer', { to }, (signal) => this.#transferHere(to, signal), options)) as {
      leader: string;
    };
  }

  async #localStatus(onLeader: boolean): Promise<StatusView> {
    if (onLeader && this.#store.joined()) await this.#read();
    const target =
      this.#deps.config.targetVoters === 'auto'
        ? this.#store.state.nodes().length >= 5
          ? 5
          : 3
        : this.#deps.config.targetVoters;
    return buildStatus(this.#deps.selfId, this.#store.raftView(), this.#store.state, this.#health(onLeader), target);
  }

  async #localNodes(onLeader: boolean): Promise<NodeView[]> {
    if (onLeader && this.#store.joined()) await this.#read();
    return buildNodes(this.#store.raftView(), this.#store.state, this.#health(onLeader));
  }

  #health(onLeader: boolean): NodeHealth | null {
    return onLeader ? this.#deps.nodeHealth() : null;
  }

  async #removeHere({ id, force }: { id: string; force: boolean }, signal?: AbortSignal): Promise<null> {
    const raft = this.#store.raft()!;
    const conf = raft.status().conf;
    const inConf = conf.voters.includes(id) || conf.learners.includes(id);
    if (!this.#store.state.node(id) && !inConf)
      throw new ApiError(404, 'not_found', `No node ${id} in this cluster: \`shoal node ls\` lists them`);
    if (id === this.#deps.selfId) {
      // A leader does not remove itself: hand over first, the new leader does the removal.
      await this.#transferHere(undefined, signal);
      throw Object.assign(new Error('leadership moved; retry on the new leader'), { code: 'retry' });
    }
    if (isReachable(this.#deps.nodeHealth(), id) === true && !force) {
      throw new ApiError(
        409,
        'conflict',
        `Node ${id} is up: drain it first, or remove it anyway with \`shoal node rm --force ${id}\``,
      );
    }
    if (inConf) await raft.changeMembership({ type: 'remove', node: id }, { signal });
    if (this.#store.state.node(id)) await this.#store.propose({ type: 'node.remove', id }, { signal });
    this.#deps.log.info({ node: id }, 'node removed and revoked');
    return null;
  }

  async #transferHere(to: string | undefined, signal?: AbortSignal): Promise<{ leader: string }> {
    const raft = this.#store.raft()!;
    const self = this.#deps.selfId;
    if (to === self) return { leader: self };
    const status = raft.status();
    const target =
      to ??
      [...(status.progress ?? [])]
        .filter((p) => p.voter && p.id !== self && p.recentActive)
        .sort((a, b) => b.match - a.match || a.id.localeCompare(b.id))[0]?.id;
    if (!target) throw new ApiError(409, 'conflict', 'No other reachable voter to hand leadership to: add nodes first');
    if (!status.conf.voters.includes(target))
      throw new ApiError(
        400,
        'bad_request',
        `Cannot transfer leadership to ${target}: it is not a voter (\`shoal status\` shows the voters)`,
      );
    await raft.transferLeadership(target, { signal }).catch((error: unknown) => {
      throw toApiError(error);
    });
    return { leader: target };
  }

  #onLeader(
    method: string,
    payload: unknown,
    here: (signal?: AbortSignal) => Promise<unknown>,
    options: { signal?: AbortSignal },
  ): Promise<unknown> {
    return this.#store.writer.viaLeader(method, payload, here, options);
  }

  async #read(signal?: AbortSignal): Promise<void> {
    if (this.#store.joined()) await this.#store.read(signal);
  }

  #requireCluster() {
    const cluster = this.#store.state.cluster();
    if (!this.#store.joined())
      throw new ApiError(
        409,
        'not_initialized',
        'This agent is not part of a cluster yet: run `shoal init` to create one or `shoal join` to join one',
      );
    if (!cluster)
      throw new ApiError(503, 'unavailable', 'This agent has not received the cluster state yet: retry in a moment');
    return cluster;
  }
}
