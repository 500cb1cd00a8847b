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
import { createClusterId, createJoinToken, fingerprint, parseJoinToken, tokenKeyHex } from '../security/index.js';
import type { AgentContext } from './agent.js';
import type { JoinService } from './join.js';
import { readLocalToken, writeLocalToken, writeMembership } from './local-files.js';
import { buildNodes, buildStatus } from './views.js';
import { toApiError, type CommandWriter } from './writes.js';
import { linearizableRead } from './reads.js';

export class AdminService implements ClusterApi {
  readonly #agent: AgentContext;
  readonly #writer: CommandWriter;
  readonly #joins: JoinService;

  constructor(agent: AgentContext, writer: CommandWriter, joins: JoinService) {
    this.#agent = agent;
    this.#writer = writer;
    this.#joins = joins;
  }

  register(): void {
    this.#writer.handleOnLeader('admin.status', async () => this.#localStatus(true));
    this.#writer.handleOnLeader('admin.nodes', async () => this.#localNodes(true));
    this.#writer.handleOnLeader('admin.removeNode', (payload, signal) =>
      this.#removeHere(payload as { id: string; force: boolean }, signal),
    );
    this.#writer.handleOnLeader('admin.transfer', (payload, signal) =>
      this.#transferHere((payload as { to?: string }).to, signal),
    );
  }

  async status(options: ReadOptions = {}): Promise<StatusView> {
    if (!this.#agent.raft() || options.consistency === 'stale') return this.#localStatus(false);
    const view = (await this.#onLeader('admin.status', {}, () => this.#localStatus(true), options)) as StatusView;
    // The cluster-wide part is the leader's view; the answering node's own role and progress are local.
    const local = this.#agent.raft()!.status();
    return { ...view, nodeId: this.#agent.host.peerId, role: local.role, applied: local.applied };
  }

  async listNodes(options: ReadOptions = {}): Promise<NodeView[]> {
    this.#requireCluster();
    if (options.consistency === 'stale') return this.#localNodes(false);
    return (await this.#onLeader('admin.nodes', {}, () => this.#localNodes(true), options)) as NodeView[];
  }

  async init(request: InitRequest, options: WriteOptions = {}): Promise<InitResult> {
    if (this.#agent.membership())
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
      bootstrapVoters: [this.#agent.host.peerId],
    };
    await writeMembership(this.#agent.config.dataDir, membership);
    const raft = await this.#agent.startRaft(membership);
    raft.campaign();
    const token = await this.completeInit(request.clusterName ?? 'shoal', options.signal);
    return { clusterId, nodeId: this.#agent.host.peerId, token };
  }

  /**
   * Write the cluster's first commands. Idempotent: an agent restarted in the middle of `init`
   * calls it again and finishes the job.
   */
  async completeInit(name: string, signal?: AbortSignal): Promise<string> {
    const raft = this.#agent.raft()!;
    const clusterId = this.#agent.membership()!.clusterId;
    const token = createJoinToken(clusterId);
    if (!this.#agent.state.cluster()) {
      await this.#writer.submit(
        {
          type: 'cluster.init',
          clusterId,
          name,
          tokenKey: tokenKeyHex(token.secret),
          fingerprint: fingerprint(tokenKeyHex(token.secret)),
        },
        { signal },
      );
      await writeLocalToken(this.#agent.config.dataDir, token.text);
    }
    await this.#writer.submit(
      {
        type: 'node.register',
        ...(await this.#joins.selfRegistration()),
        roles: { voter: 'auto', workloads: true },
      },
      { signal },
    );
    // Joiners must start from a snapshot: it carries the bootstrap configuration, the log does not.
    await raft.snapshotNow();
    return (await readLocalToken(this.#agent.config.dataDir)) ?? token.text;
  }

  join(request: JoinRequest, options: WriteOptions = {}): Promise<JoinResult> {
    return this.#joins.join(request, options);
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
    await this.#writer.submit({ type: 'token.rotate', tokenKey: key, fingerprint: fingerprint(key) }, options);
    await writeLocalToken(this.#agent.config.dataDir, token.text);
    return { token: token.text, fingerprint: fingerprint(key) };
  }

  async showToken(options: ReadOptions = {}): Promise<TokenResult> {
    this.#requireCluster();
    if (options.consistency !== 'stale') await this.#read(options.signal);
    const current = this.#agent.state.state().token;
    const local = await readLocalToken(this.#agent.config.dataDir);
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
    return this.#agent.host
      .discovered()
      .map((peer) => ({ ...peer, addresses: [...peer.addresses], member: this.#agent.state.isMember(peer.peerId) }));
  }

  async transferLeader(to?: string, options: WriteOptions = {}): Promise<{ leader: string }> {
    this.#requireCluster();
    return (await this.#onLeader('admin.transfer', { to }, (signal) => this.#transferHere(to, signal), options)) as {
      leader: string;
    };
  }

  async #localStatus(onLeader: boolean): Promise<StatusView> {
    const raft = this.#agent.raft();
    if (onLeader && raft) await this.#read();
    const target =
      this.#agent.config.targetVoters === 'auto'
        ? this.#agent.state.nodes().length >= 5
          ? 5
          : 3
        : this.#agent.config.targetVoters;
    return buildStatus(
      this.#agent.host.peerId,
      raft?.status() ?? null,
      this.#agent.state,
      onLeader ? this.#agent.memberHealth() : null,
      target,
    );
  }

  async #localNodes(onLeader: boolean): Promise<NodeView[]> {
    const raft = this.#agent.raft();
    if (onLeader && raft) await this.#read();
    return buildNodes(raft?.status() ?? null, this.#agent.state, onLeader ? this.#agent.memberHealth() : null);
  }

  async #removeHere({ id, force }: { id: string; force: boolean }, signal?: AbortSignal): Promise<null> {
    const raft = this.#agent.raft()!;
    const conf = raft.status().conf;
    const inConf = conf.voters.includes(id) || conf.learners.includes(id);
    if (!this.#agent.state.node(id) && !inConf)
      throw new ApiError(404, 'not_found', `No node ${id} in this cluster: \`shoal node ls\` lists them`);
    if (id === this.#agent.host.peerId) {
      // A leader does not remove itself: hand over first, the new leader does the removal.
      await this.#transferHere(undefined, signal);
      throw Object.assign(new Error('leadership moved; retry on the new leader'), { code: 'retry' });
    }
    const health = this.#agent.memberHealth()?.find((h) => h.id === id);
    if (health?.reachable && !force) {
      throw new ApiError(
        409,
        'conflict',
        `Node ${id} is up: drain it first, or remove it anyway with \`shoal node rm --force ${id}\``,
      );
    }
    if (inConf) await raft.changeMembership({ type: 'remove', node: id }, { signal });
    if (this.#agent.state.node(id)) await this.#writer.submit({ type: 'node.remove', id }, { signal });
    this.#agent.log.info({ node: id }, 'node removed and revoked');
    return null;
  }

  async #transferHere(to: string | undefined, signal?: AbortSignal): Promise<{ leader: string }> {
    const raft = this.#agent.raft()!;
    const self = this.#agent.host.peerId;
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
    return this.#writer.viaLeader(method, payload, here, options);
  }

  async #read(signal?: AbortSignal): Promise<void> {
    const raft = this.#agent.raft();
    if (!raft) return;
    await linearizableRead(raft, signal);
  }

  #requireCluster() {
    const cluster = this.#agent.state.cluster();
    if (!this.#agent.raft())
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
