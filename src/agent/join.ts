/**
 * Joining a cluster with a token, over libp2p RPC. The token's secret never crosses the wire:
 *
 *   joiner → member  join.challenge {clusterId}          member answers a fresh single-use nonce
 *   joiner → member  join.request   {nonce, proof, node} proof = HMAC(tokenKey, nonce, both peer ids)
 *
 * Noise has already authenticated both peer ids, and the proof binds them and the nonce, so a
 * listener can neither replay it nor use it for another node. The member verifies against the
 * current token key (after a linearizable read, so a rotated token fails at once) and registers
 * the node. The joiner starts as an observer, following the state feed of the Raft members the
 * answer names (fast: one snapshot, no Raft catch-up); the leader's membership policy makes it a
 * learner, then a voter, when the cluster needs one (docs/ARCHITECTURE.md, "100 nodes").
 */
import type { Logger } from 'pino';
import { ApiError, type JoinRequest, type JoinResult } from '../api/types.js';
import type { RpcService } from '../p2p/index.js';
import {
  computeJoinProof,
  createJoinNonce,
  InvalidJoinTokenError,
  parseJoinToken,
  tokenKey,
  verifyJoinProof,
} from '../security/index.js';
import type { ClusterStore } from './cluster-store.js';
import { writeMembership, type ClusterMembership } from './local-files.js';
import type { NodeFacts, NodeFactsSource } from './node-facts.js';
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
  /** The Raft members (voters and learners), where they listen: whom the new observer follows. */
  readonly members: { id: string; addresses: string[] }[];
}

/** Members a join answer names, with where they listen. */
export type KnownPeers = readonly { id: string; addresses: readonly string[] }[];

export interface JoinServiceDeps {
  readonly selfId: string;
  readonly rpc: RpcService;
  readonly store: Pick<ClusterStore, 'state' | 'joined' | 'conf' | 'membership' | 'read' | 'propose'>;
  readonly dataDir: string;
  readonly facts: NodeFactsSource;
  /** Enter the cluster of `membership` (a joiner: as an observer), admitting the peers the join answer named. */
  readonly enterCluster: (
    membership: ClusterMembership,
    peers: KnownPeers,
    options: { readonly observe: boolean },
  ) => Promise<unknown>;
  readonly log: Logger;
}

export class JoinService {
  readonly #deps: JoinServiceDeps;
  /** Outstanding nonces: hex → the peer it was issued to and when it expires. */
  readonly #nonces = new Map<string, { peerId: string; expiresAt: number }>();

  constructor(deps: JoinServiceDeps) {
    this.#deps = deps;
  }

  register(): void {
    this.#deps.rpc.handle('join.challenge', (_payload, { peerId }) => this.#challenge(peerId), {
      allowNonMembers: true,
    });
    this.#deps.rpc.handle('join.request', (payload, { peerId, signal }) => this.#request(payload, peerId, signal), {
      allowNonMembers: true,
    });
  }

  /** Joiner side: prove the token to the member at `request.address`, then follow the cluster as an observer. */
  async join(request: JoinRequest, options: { signal?: AbortSignal } = {}): Promise<JoinResult> {
    if (this.#deps.store.membership())
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
    const self = this.#deps.selfId;
    const call = (method: string, payload: unknown) =>
      this.#deps.rpc
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
      node: await this.#deps.facts(),
    })) as JoinAnswer;
    const membership = {
      version: 1 as const,
      clusterId: answer.clusterId,
      origin: 'join' as const,
      bootstrapVoters: [],
    };
    await writeMembership(this.#deps.dataDir, membership);
    await this.#deps.enterCluster(membership, answer.members, { observe: true });
    return { clusterId: answer.clusterId, nodeId: self, members: answer.members.length };
  }

  #challenge(peerId: string): Challenge {
    const cluster = this.#deps.store.state.cluster();
    if (!this.#deps.store.joined() || !cluster)
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
    return { clusterId: cluster.id, memberId: this.#deps.selfId, nonce };
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
    if (!this.#deps.store.joined()) throw new ApiError(409, 'not_initialized', 'This node left its cluster');
    await this.#deps.store.read(signal).catch((error: unknown) => {
      throw toApiError(error);
    });
    const state = this.#deps.store.state;
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
      memberPeerId: this.#deps.selfId,
      proof: request.proof,
    });
    if (!verdict.ok) {
      this.#deps.log.warn({ peer: peerId, reason: verdict.reason }, 'join refused');
      throw new ApiError(
        401,
        'unauthorized',
        'Join refused: the token is wrong or was rotated: get a current token with `shoal token show` on any member',
      );
    }
    const node = request.node;
    await this.#deps.store.propose(
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
    this.#deps.log.info({ peer: peerId, hostname: node.hostname }, 'node joined');
    const conf = this.#deps.store.conf;
    const members = [...conf.voters, ...conf.learners].flatMap((id) => {
      const record = state.node(id);
      return record ? [{ id, addresses: [...record.addresses] }] : [];
    });
    return { clusterId: cluster.id, members };
  }

  #expireNonces(): void {
    const now = Date.now();
    for (const [key, issued] of this.#nonces) if (issued.expiresAt < now) this.#nonces.delete(key);
  }
}
