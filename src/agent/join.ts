/**
 * Joining a cluster with a token, over libp2p RPC. The token's secret never crosses the wire:
 *
 *   joiner → member  join.challenge {clusterId}          member answers a fresh single-use nonce
 *   joiner → member  join.request   {nonce, proof, node} proof = HMAC(tokenKey, nonce, both peer ids)
 *
 * Noise has already authenticated both peer ids, and the proof binds them and the nonce, so a
 * listener can neither replay it nor use it for another node. The member verifies against the
 * current token key (after a linearizable read, so a rotated token fails at once), registers the
 * node and adds it as a Raft learner; the leader's membership controller promotes it later.
 */
import { normalizeArch } from '../stack/platform.js';
import { ApiError, type JoinRequest, type JoinResult } from '../api/types.js';
import { detectResources } from '../host/index.js';
import {
  computeJoinProof,
  createJoinNonce,
  InvalidJoinTokenError,
  parseJoinToken,
  tokenKey,
  verifyJoinProof,
} from '../security/index.js';
import type { AgentContext } from './agent.js';
import { SHOAL_VERSION } from './version.js';
import { writeMembership } from './local-files.js';
import type { CommandWriter } from './writes.js';
import { toApiError } from './writes.js';

const NONCE_TTL_MS = 60_000;
const MAX_OUTSTANDING_NONCES = 1024;

interface Challenge {
  readonly clusterId: string;
  readonly memberId: string;
  readonly nonce: Uint8Array;
}

interface JoinAnswer {
  readonly clusterId: string;
  readonly members: { id: string; addresses: string[] }[];
}

/** What the joiner says about itself; the member checks it again through command validation. */
interface NodeFacts {
  readonly hostname: string;
  readonly addresses: string[];
  readonly labels: Record<string, string>;
  readonly resources: {
    cpus: number;
    memoryBytes: number;
    gpus: { index: number; uuid: string; name: string; memoryBytes: number }[];
  };
  readonly version: string;
  /** OS and architecture in Docker's names; absent from joiners of earlier versions. */
  readonly platform?: { readonly os: string; readonly arch: string };
}

export class JoinService {
  readonly #agent: AgentContext;
  readonly #writer: CommandWriter;
  /** Outstanding nonces: hex → the peer it was issued to and when it expires. */
  readonly #nonces = new Map<string, { peerId: string; expiresAt: number }>();

  constructor(agent: AgentContext, writer: CommandWriter) {
    this.#agent = agent;
    this.#writer = writer;
  }

  register(): void {
    this.#agent.rpc.handle('join.challenge', (_payload, { peerId }) => this.#challenge(peerId), {
      allowNonMembers: true,
    });
    this.#agent.rpc.handle('join.request', (payload, { peerId, signal }) => this.#request(payload, peerId, signal), {
      allowNonMembers: true,
    });
  }

  /** Joiner side: prove the token to the member at `request.address`, then start Raft as a learner. */
  async join(request: JoinRequest, options: { signal?: AbortSignal } = {}): Promise<JoinResult> {
    if (this.#agent.membership())
      throw new ApiError(
        409,
        'conflict',
        'This agent is already part of a cluster: remove its data dir to join another one',
      );
    let token;
    try {
      token = parseJoinToken(request.token);
    } catch (error) {
      if (error instanceof InvalidJoinTokenError) throw new ApiError(400, 'bad_request', error.message);
      throw error;
    }
    const memberId = /\/p2p\/([^/]+)$/.exec(request.address)?.[1];
    if (!memberId) {
      throw new ApiError(
        400,
        'bad_request',
        `address: expected a multiaddr ending in /p2p/<peer id>, got "${request.address}" (\`shoal status\` on a member shows its addresses)`,
      );
    }
    const self = this.#agent.host.peerId;
    const call = (method: string, payload: unknown) =>
      this.#agent.rpc
        .call(memberId, method, payload, { addresses: [request.address], signal: options.signal, timeoutMs: 15_000 })
        .catch((error: unknown) => {
          throw toApiError(error);
        });
    const challenge = (await call('join.challenge', { clusterId: token.clusterId })) as Challenge;
    if (challenge.clusterId !== token.clusterId) {
      throw new ApiError(
        400,
        'bad_request',
        `The token is for cluster ${token.clusterId} but the member at ${request.address} belongs to cluster ${challenge.clusterId}: use that cluster's token`,
      );
    }
    const proof = computeJoinProof({
      tokenKey: tokenKey(token.secret),
      clusterId: token.clusterId,
      nonce: challenge.nonce,
      joinerPeerId: self,
      memberPeerId: memberId,
    });
    const answer = (await call('join.request', {
      nonce: challenge.nonce,
      proof,
      node: await this.#facts(),
    })) as JoinAnswer;
    const membership = {
      version: 1 as const,
      clusterId: answer.clusterId,
      origin: 'join' as const,
      bootstrapVoters: [],
    };
    await writeMembership(this.#agent.config.dataDir, membership);
    await this.#agent.startRaft(membership, answer.members);
    return { clusterId: answer.clusterId, nodeId: self, members: answer.members.length };
  }

  /** This node's facts for node.register. */
  async #facts(): Promise<NodeFacts> {
    const detected = await detectResources();
    for (const warning of detected.warnings ?? []) this.#agent.log.warn({ warning }, 'resource detection');
    return {
      hostname: detected.hostname,
      addresses: this.#agent.advertisedAddresses(),
      labels: { ...this.#agent.config.labels },
      resources: {
        cpus: detected.cpus,
        memoryBytes: detected.memoryBytes,
        gpus: detected.gpus.map((g) => ({ index: g.index, uuid: g.uuid, name: g.name, memoryBytes: g.memoryBytes })),
      },
      version: SHOAL_VERSION,
      // what `platform:` in a Compose file is matched against (node.platform.os / .arch)
      platform: { os: process.platform, arch: normalizeArch(process.arch) },
    };
  }

  /** The registration command for this node itself (init, and address updates after a restart). */
  async selfRegistration(): Promise<NodeFacts & { id: string }> {
    return { id: this.#agent.host.peerId, ...(await this.#facts()) };
  }

  #challenge(peerId: string): Challenge {
    const cluster = this.#agent.state.cluster();
    if (!this.#agent.raft() || !cluster)
      throw new ApiError(
        409,
        'not_initialized',
        'This node is not part of an initialized cluster yet: join through another member',
      );
    this.#expireNonces();
    if (this.#nonces.size >= MAX_OUTSTANDING_NONCES)
      throw new ApiError(503, 'unavailable', 'Too many joins in progress: retry in a minute');
    const nonce = createJoinNonce();
    this.#nonces.set(Buffer.from(nonce).toString('hex'), { peerId, expiresAt: Date.now() + NONCE_TTL_MS });
    return { clusterId: cluster.id, memberId: this.#agent.host.peerId, nonce };
  }

  async #request(payload: unknown, peerId: string, signal: AbortSignal): Promise<JoinAnswer> {
    const request = payload as { nonce?: unknown; proof?: unknown; node?: NodeFacts } | null;
    if (
      !request ||
      !(request.nonce instanceof Uint8Array) ||
      !(request.proof instanceof Uint8Array) ||
      typeof request.node !== 'object' ||
      request.node === null
    ) {
      throw new ApiError(400, 'bad_request', 'join.request: expected {nonce: bytes, proof: bytes, node: {...}}');
    }
    const key = Buffer.from(request.nonce).toString('hex');
    const issued = this.#nonces.get(key);
    this.#nonces.delete(key);
    if (!issued || issued.peerId !== peerId || issued.expiresAt < Date.now()) {
      throw new ApiError(
        401,
        'unauthorized',
        'Join refused: the challenge is unknown, expired or was issued to another peer: start the join again',
      );
    }
    const raft = this.#agent.raft();
    if (!raft) throw new ApiError(409, 'not_initialized', 'This node left its cluster');
    await raft.read({ signal }).catch((error: unknown) => {
      throw toApiError(error);
    });
    const state = this.#agent.state;
    if (state.isRevoked(peerId)) {
      throw new ApiError(
        401,
        'unauthorized',
        `Join refused: node ${peerId} was removed from this cluster and cannot come back with the same identity; delete its identity.key to join as a new node`,
      );
    }
    const token = state.state().token;
    const cluster = state.cluster();
    if (!token || !cluster)
      throw new ApiError(409, 'not_initialized', 'The cluster has no join token yet: run `shoal token rotate`');
    const verdict = verifyJoinProof({
      tokenKey: token.key,
      clusterId: cluster.id,
      nonce: request.nonce,
      joinerPeerId: peerId,
      memberPeerId: this.#agent.host.peerId,
      proof: request.proof,
    });
    if (!verdict.ok) {
      this.#agent.log.warn({ peer: peerId, reason: verdict.reason }, 'join refused');
      throw new ApiError(
        401,
        'unauthorized',
        'Join refused: the token is wrong or was rotated: get a current token with `shoal token show` on any member',
      );
    }
    const node = request.node;
    await this.#writer.submit(
      {
        type: 'node.register',
        id: peerId,
        hostname: node.hostname,
        addresses: node.addresses,
        labels: node.labels,
        resources: node.resources,
        roles: { voter: 'auto', workloads: true },
        version: node.version,
        ...(node.platform === undefined ? {} : { platform: node.platform }),
      },
      { signal },
    );
    const conf = raft.appliedConf;
    if (!conf.voters.includes(peerId) && !conf.learners.includes(peerId)) {
      // A retried join may find its first attempt's change appended but not yet applied: that is success.
      await this.#writer.changeMembership({ type: 'addLearner', node: peerId }, { signal }).catch((error: unknown) => {
        if (!/already a (learner|voter)/.test(String((error as Error).message))) throw error;
      });
    }
    this.#agent.log.info({ peer: peerId, hostname: node.hostname }, 'node joined');
    return { clusterId: cluster.id, members: state.nodes().map((n) => ({ id: n.id, addresses: [...n.addresses] })) };
  }

  #expireNonces(): void {
    const now = Date.now();
    for (const [key, issued] of this.#nonces) if (issued.expiresAt < now) this.#nonces.delete(key);
  }
}
