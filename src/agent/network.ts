/**
 * This agent on the network: its libp2p host (made by the injected factory: TCP in production,
 * the in-memory transport in tests), RPC, the Raft transport, and the address book that keeps the
 * transport's peer addresses in line with the replicated node records. The membership gate reads
 * the replicated state, plus the peers a join answer named before the state does.
 */
import type { Logger } from 'pino';
import { Libp2pRaftTransport, loadOrCreateIdentity, RpcService, type HostOptions, type P2PHost } from '../p2p/index.js';
import type { Clock } from '../raft/driver/index.js';
import type { ClusterStateMachine } from '../state/index.js';
import type { AgentConfig } from './config.js';

/** Makes the started libp2p host (`createHost` in production). */
export type HostFactory = (options: HostOptions) => Promise<P2PHost>;

export interface AgentNetworkDeps {
  readonly config: Pick<AgentConfig, 'dataDir' | 'listen' | 'announce' | 'mdns'>;
  readonly createHost: HostFactory;
  /** The replicated membership: who may talk to this node, and where the members listen. */
  readonly members: Pick<ClusterStateMachine, 'isMember' | 'isRevoked' | 'node' | 'nodes' | 'revoked'>;
  readonly clock: Clock;
  readonly log: Logger;
}

export class AgentNetwork {
  readonly host: P2PHost;
  readonly rpc: RpcService;
  readonly transport: Libp2pRaftTransport;
  readonly #deps: AgentNetworkDeps;
  /** Peers learned from a join answer, admitted before the replicated state names them. */
  readonly #bootstrapPeers: Set<string>;
  /** Where those peers listen, until their node records say. */
  readonly #bootstrapAddresses = new Map<string, readonly string[]>();
  readonly #knownAddresses = new Map<string, string>();
  /** Peers with no open connection, since when: silence counts from there (node health). */
  readonly #disconnectedAt = new Map<string, number>();
  /** Addresses a peer announced itself (node.hello), in force until its replicated record says the same. */
  readonly #announced = new Map<string, string>();
  readonly #onDisconnect: ((peer: string) => void)[] = [];

  private constructor(deps: AgentNetworkDeps, host: P2PHost, bootstrapPeers: Set<string>) {
    this.#deps = deps;
    this.host = host;
    this.#bootstrapPeers = bootstrapPeers;
    this.rpc = new RpcService(host, {
      logger: deps.log.child({ component: 'rpc' }),
      addressesOf: (peerId) => this.addressesOf(peerId),
    });
    this.transport = new Libp2pRaftTransport(host, { logger: deps.log.child({ component: 'raft-transport' }) });
    host.libp2p.addEventListener('peer:connect', (event) => this.#disconnectedAt.delete(event.detail.toString()));
    host.libp2p.addEventListener('peer:disconnect', (event) => {
      const peer = event.detail.toString();
      this.#disconnectedAt.set(peer, deps.clock.now());
      for (const listener of this.#onDisconnect) listener(peer);
    });
    this.rpc.handle('node.hello', (payload, { peerId }) => this.#hello(payload, peerId));
  }

  /** Load (or create) this node's identity and start its host; RPC is served from `listen()`. */
  static async open(deps: AgentNetworkDeps): Promise<AgentNetwork> {
    const identity = await loadOrCreateIdentity(deps.config.dataDir);
    const bootstrapPeers = new Set<string>();
    const host = await deps.createHost({
      privateKey: identity.privateKey,
      listen: deps.config.listen,
      mdns: deps.config.mdns,
      logger: deps.log.child({ component: 'p2p' }),
      gate: {
        isMember: (peerId) => deps.members.isMember(peerId) || bootstrapPeers.has(peerId),
        isRevoked: (peerId) => deps.members.isRevoked(peerId),
      },
    });
    return new AgentNetwork(deps, host, bootstrapPeers);
  }

  get peerId(): string {
    return this.host.peerId;
  }

  /** Serve RPC (after every component registered its methods). */
  async listen(): Promise<void> {
    await this.rpc.start();
  }

  async stop(): Promise<void> {
    await this.rpc.stop();
    // Raft nodes only lease the transport (transport-lease.ts): it stops here, with the host.
    await this.transport.stop();
    await this.host.stop();
  }

  /** Where `peerId` listens: its node record, else what a join answer (or the peers file) said. */
  addressesOf(peerId: string): readonly string[] {
    return this.#deps.members.node(peerId)?.addresses ?? this.#bootstrapAddresses.get(peerId) ?? [];
  }

  /** The peers admitted before the replicated state named them. */
  bootstrapPeers(): readonly string[] {
    return [...this.#bootstrapPeers];
  }

  /** Called with the peer id when a connection to a peer closes. */
  onDisconnect(listener: (peer: string) => void): void {
    this.#onDisconnect.push(listener);
  }

  /** Peers with no open connection, since when (this node's clock). */
  disconnectedAt(): ReadonlyMap<string, number> {
    return this.#disconnectedAt;
  }

  /** The addresses peers should dial to reach this agent (with /p2p/<id>). */
  advertisedAddresses(): string[] {
    const id = this.host.peerId;
    const base = this.#deps.config.announce.length > 0 ? [...this.#deps.config.announce] : this.host.multiaddrs();
    return base.map((addr) => (addr.includes('/p2p/') ? addr : `${addr}/p2p/${id}`));
  }

  /** Admit the members a join answer named, and dial them where they said they listen. */
  admit(peers: readonly { id: string; addresses: readonly string[] }[]): void {
    for (const peer of peers) {
      if (peer.id === this.peerId) continue;
      this.#bootstrapPeers.add(peer.id);
      this.#bootstrapAddresses.set(peer.id, [...peer.addresses]);
      this.transport.setPeerAddresses(peer.id, peer.addresses);
    }
  }

  /**
   * Tell every known member where this node listens now. After a restart on a new address the
   * others cannot reach it, and it cannot update its replicated record without a leader: this
   * direct hello breaks that circle. Members accept only the caller's own addresses.
   */
  announceSelf(): void {
    const addresses = this.advertisedAddresses();
    for (const node of this.#deps.members.nodes()) {
      if (node.id === this.peerId) continue;
      void this.rpc
        .call(node.id, 'node.hello', { addresses }, { timeoutMs: 3_000, addresses: node.addresses })
        .catch(() => undefined);
    }
  }

  /** Bring the transport's addresses in line with the node records; cut revoked peers. */
  syncPeerAddresses(): void {
    for (const node of this.#deps.members.nodes()) {
      if (node.id === this.peerId) continue;
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
      this.transport.setPeerAddresses(node.id, node.addresses);
    }
    let revokedSome = false;
    for (const revoked of this.#deps.members.revoked()) {
      if (!this.#knownAddresses.has(revoked.id) && !this.#bootstrapPeers.has(revoked.id)) continue;
      this.#knownAddresses.delete(revoked.id);
      this.#bootstrapPeers.delete(revoked.id);
      this.#bootstrapAddresses.delete(revoked.id);
      this.transport.removePeer(revoked.id);
      revokedSome = true;
    }
    // The gater refuses new connections from revoked peers; open ones are cut here.
    if (revokedSome) void this.host.enforceGate().catch(() => undefined);
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
}
