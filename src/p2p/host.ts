/**
 * The libp2p host: TCP + Noise + Yamux and nothing else (no identify, no DHT, no discovery:
 * shoal learns its members' addresses from its replicated state).
 *
 * Trust is enforced at two levels. The connection gater refuses revoked peers before any
 * protocol runs (both directions, checked after the Noise handshake authenticated them).
 * Member-only protocol handlers, registered through {@link P2PHost.handle}, reset streams from
 * peers that are not members; non-members may connect only to reach the join RPC.
 */
import { createLibp2p } from 'libp2p';
import type { Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { mdns } from '@libp2p/mdns';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { Connection, PeerId, PrivateKey, Stream } from '@libp2p/interface';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { admits, openGate } from './gate.js';
import type { MemberGate } from './gate.js';
import { PeerUnreachableError } from './errors.js';
import { coalesceEncrypterWrites } from './coalescing-encrypter.js';
import { cachedKeyNoiseCrypto } from './noise-crypto.js';

/** Listen on loopback with a random port unless told otherwise: exposing a node is a deliberate act. */
export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0'] as const;

/**
 * Bytes a connection's socket queues before `write` says "wait for drain". Node's default, 16 KiB,
 * is a quarter of one Noise message: @libp2p/tcp stops handing a send's buffers to the socket at
 * the first `false`, so each 64 KiB message waited for the previous write to finish (one write,
 * one drain, one round through the event loop per message). 1 MiB lets a send's messages go out
 * in one writev; a Raft heartbeat queued behind a full buffer waits about 10 ms at 100 MB/s.
 */
const SOCKET_HIGH_WATER_MARK = 1024 * 1024;

/** net.connect/createServer options of the TCP transport (`noDelay` is @libp2p/tcp's default too). */
const SOCKET_OPTIONS = { noDelay: true, highWaterMark: SOCKET_HIGH_WATER_MARK };

/** Streams a peer may open on a connection that is still being set up. */
const EARLY_STREAMS = 256;

/** Options of {@link createHost}. */
export interface HostOptions {
  /** The node's Ed25519 key (see `loadOrCreateIdentity`). */
  readonly privateKey: PrivateKey;
  /** Multiaddrs to listen on. Default {@link DEFAULT_LISTEN}. */
  readonly listen?: readonly string[];
  /** Membership view; default {@link openGate} (everyone is a member, nobody revoked). */
  readonly gate?: MemberGate;
  /** pino logger; default silent. */
  readonly logger?: Logger;
  /**
   * Discover other shoal agents on the LAN with mDNS (multicast to 224.0.0.251:5353 on every
   * interface). Off by default: enabling it is a deliberate act. See {@link P2PHost.discovered}.
   */
  readonly mdns?: boolean;
  /**
   * Pack the muxer's frames of one event-loop turn into shared Noise messages and hand each
   * send's messages to the socket in one writev (src/p2p/coalescing-encrypter.ts). Default true;
   * the bytes inside the Noise messages are the same either way (false exists to measure the
   * difference, and talks to a host with it as before).
   */
  readonly coalesceWrites?: boolean;
  /**
   * Seal and open Noise messages under a session key imported once ({@link cachedKeyNoiseCrypto})
   * instead of once per message. Default true; the bytes on the wire are the same either way
   * (false uses libp2p-noise's own crypto, to measure the difference).
   */
  readonly cachedCipherKeys?: boolean;
}

/** A shoal agent seen on the LAN through mDNS. */
export interface DiscoveredPeer {
  readonly peerId: string;
  readonly addresses: readonly string[];
  /** ms since epoch. */
  readonly lastSeen: number;
}

/** Only shoal agents answer under this tag, not every libp2p program on the LAN. */
export const MDNS_SERVICE_TAG = 'shoal-agent.local';

/** What a protocol handler is told about the stream's origin. */
export interface StreamContext {
  /** The remote peer id, authenticated by Noise. */
  readonly peerId: string;
  readonly connection: Connection;
}

/** Options of {@link P2PHost.handle}. */
export interface HandleOptions {
  /** Reset streams from peers that the gate does not admit. Default true. */
  readonly membersOnly?: boolean;
  /** Concurrent inbound streams per connection for this protocol (libp2p's default is 32). */
  readonly maxInboundStreams?: number;
  /** Concurrent outbound streams per connection for this protocol (libp2p's default is 64). */
  readonly maxOutboundStreams?: number;
}

/** Options of {@link P2PHost.dialProtocol}. */
export interface DialOptions {
  /** Where the peer listens; without them libp2p reuses an open connection or its peer store. */
  readonly addresses?: readonly string[];
  readonly signal?: AbortSignal;
  /** Concurrent outbound streams per connection for this protocol, must match the handler's limit. */
  readonly maxOutboundStreams?: number;
}

/** A started shoal libp2p host. Create with {@link createHost}; `stop()` is idempotent. */
export class P2PHost {
  /** The underlying libp2p node, for what this wrapper does not cover. */
  readonly libp2p: Libp2p;
  /** This node's peer id string (its node id). */
  readonly peerId: string;
  readonly gate: MemberGate;
  readonly log: Logger;

  constructor(libp2p: Libp2p, gate: MemberGate, log: Logger) {
    this.libp2p = libp2p;
    this.peerId = libp2p.peerId.toString();
    this.gate = gate;
    this.log = log;
  }

  readonly #discovered = new Map<string, DiscoveredPeer>();

  /** @internal Remember agents that mDNS finds (no dialing: joining is the admin's decision). */
  trackDiscovery(): void {
    this.libp2p.addEventListener('peer:discovery', (event) => {
      const peerId = event.detail.id.toString();
      if (peerId === this.peerId) return;
      const addresses = event.detail.multiaddrs.map((ma) => {
        const text = ma.toString();
        return text.includes('/p2p/') ? text : `${text}/p2p/${peerId}`;
      });
      this.#discovered.set(peerId, { peerId, addresses, lastSeen: Date.now() });
      this.log.debug({ peer: peerId, addresses }, 'discovered a shoal agent on the LAN');
    });
  }

  /** Agents seen on the LAN through mDNS (empty unless the host was created with `mdns`). */
  discovered(): DiscoveredPeer[] {
    return [...this.#discovered.values()].sort((a, b) => a.peerId.localeCompare(b.peerId));
  }

  /** The addresses peers can dial, each ending in `/p2p/<peerId>`. */
  multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((ma) => ma.toString());
  }

  /**
   * Register a protocol handler. With `membersOnly` (the default) streams from peers the gate
   * does not admit are reset and logged before the handler sees them. A handler that throws
   * gets its stream reset and the error logged; the host keeps running.
   */
  async handle(
    protocol: string,
    handler: (stream: Stream, context: StreamContext) => void | Promise<void>,
    options: HandleOptions = {},
  ): Promise<void> {
    const membersOnly = options.membersOnly ?? true;
    await this.libp2p.handle(
      protocol,
      async (stream, connection) => {
        const peerId = connection.remotePeer.toString();
        if (membersOnly && !admits(this.gate, peerId)) {
          this.log.warn({ peer: peerId, protocol }, 'refused stream from a peer that is not a cluster member');
          stream.abort(new Error(`peer ${peerId} is not a cluster member`));
          return;
        }
        try {
          await handler(stream, { peerId, connection });
        } catch (err) {
          this.log.warn({ peer: peerId, protocol, err }, 'protocol handler failed; stream reset');
          stream.abort(err instanceof Error ? err : new Error(String(err)));
        }
      },
      {
        ...(options.maxInboundStreams === undefined ? {} : { maxInboundStreams: options.maxInboundStreams }),
        ...(options.maxOutboundStreams === undefined ? {} : { maxOutboundStreams: options.maxOutboundStreams }),
      },
    );
  }

  /** Remove a protocol handler. */
  async unhandle(protocol: string): Promise<void> {
    await this.libp2p.unhandle(protocol);
  }

  /**
   * Open a stream to `peerId` for `protocol`, dialing `addresses` if no connection is open.
   *
   * @throws PeerUnreachableError when the peer is revoked, cannot be dialed, or refuses the protocol.
   */
  async dialProtocol(peerId: string, protocol: string, options: DialOptions = {}): Promise<Stream> {
    if (this.gate.isRevoked(peerId)) {
      throw new PeerUnreachableError(peerId, `Cannot dial ${peerId} as it was removed from the cluster`);
    }
    let target: PeerId | Multiaddr[];
    try {
      target = dialTarget(peerId, options.addresses ?? [], this.libp2p);
    } catch (err) {
      throw new PeerUnreachableError(peerId, `Cannot dial ${peerId}: ${(err as Error).message}`, { cause: err });
    }
    try {
      return await this.libp2p.dialProtocol(target, protocol, {
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.maxOutboundStreams === undefined ? {} : { maxOutboundStreams: options.maxOutboundStreams }),
      });
    } catch (err) {
      if (options.signal?.aborted === true) throw err;
      const where = options.addresses?.length ? ` at ${options.addresses.join(', ')}` : '';
      throw new PeerUnreachableError(
        peerId,
        `Cannot open ${protocol} to ${peerId}${where}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  /**
   * Abort every connection to `peerId` without a goodbye: the path is dead (nothing heard for
   * longer than the transport allows), and a close would wait on it. The next dial makes a fresh
   * TCP connection instead of waiting out the old one's retransmission back-off.
   */
  dropConnections(peerId: string): number {
    let id: PeerId;
    try {
      id = peerIdFromString(peerId);
    } catch {
      return 0;
    }
    const connections = this.libp2p.getConnections(id);
    for (const connection of connections) connection.abort(new Error(`nothing heard from ${peerId}: reconnecting`));
    return connections.length;
  }

  /** Hang up on connected peers the gate now revokes (call after a node is removed). */
  async enforceGate(): Promise<void> {
    const revoked = this.libp2p.getPeers().filter((p) => this.gate.isRevoked(p.toString()));
    await Promise.all(revoked.map((p) => this.libp2p.hangUp(p).catch(() => undefined)));
    for (const p of revoked) this.log.info({ peer: p.toString() }, 'closed connection to a revoked peer');
  }

  /** Stop the node: closes every connection and listener. Idempotent. */
  async stop(): Promise<void> {
    await this.libp2p.stop();
  }
}

/** Multiaddrs ending in `/p2p/<peerId>` (so Noise checks the remote's identity), or the bare peer id. */
function dialTarget(peerId: string, addresses: readonly string[], libp2p: Libp2p): PeerId | Multiaddr[] {
  const id = peerIdFromString(peerId);
  // With a connection open, dial by id: libp2p then reuses it without going through the dial queue.
  if (addresses.length === 0 || libp2p.getConnections(id).some((c) => c.status === 'open')) return id;
  return addresses.map((a) => {
    const ma = multiaddr(a);
    const embedded = ma.getComponents().find((c) => c.name === 'p2p')?.value;
    if (embedded === undefined) return ma.encapsulate(`/p2p/${peerId}`);
    if (embedded !== peerId) throw new Error(`address ${a} names peer ${embedded}, not ${peerId}`);
    return ma;
  });
}

/**
 * Create and start a libp2p host with TCP, Noise and Yamux, gated by `gate`.
 *
 * @example
 * const { privateKey } = await loadOrCreateIdentity(dataDir);
 * const host = await createHost({ privateKey, listen: ['/ip4/0.0.0.0/tcp/7946'], gate });
 */
export async function createHost(options: HostOptions): Promise<P2PHost> {
  const gate = options.gate ?? openGate;
  const log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'p2p' });
  const revoked = (peer: PeerId): boolean => gate.isRevoked(peer.toString());
  const encrypter = noise(options.cachedCipherKeys === false ? {} : { crypto: cachedKeyNoiseCrypto });
  const libp2p = await createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen: [...(options.listen ?? DEFAULT_LISTEN)] },
    transports: [tcp({ dialOpts: SOCKET_OPTIONS, listenOpts: SOCKET_OPTIONS })],
    connectionEncrypters: [options.coalesceWrites === false ? encrypter : coalesceEncrypterWrites(encrypter)],
    // Yamux resets a whole new connection when more than maxEarlyStreams (default 10) streams
    // open before it is fully upgraded: a burst of RPCs to a fresh peer does exactly that.
    streamMuxers: [yamux({ maxEarlyStreams: EARLY_STREAMS })],
    connectionManager: {
      // libp2p refuses more than 5 new connections a second from one host address: several
      // agents behind one address (a NAT, a test on loopback) joining at once were reset.
      // The member gate, not a rate, decides who may talk to a node.
      inboundConnectionThreshold: 200,
      maxIncomingPendingConnections: 64,
    },
    connectionGater: {
      denyDialPeer: revoked,
      denyInboundEncryptedConnection: revoked,
      denyOutboundEncryptedConnection: revoked,
    },
    ...(options.mdns ? { peerDiscovery: [mdns({ serviceTag: MDNS_SERVICE_TAG, interval: 2_000 })] } : {}),
  });
  const host = new P2PHost(libp2p, gate, log);
  if (options.mdns) host.trackDiscovery();
  log.info({ peer: host.peerId, addrs: host.multiaddrs() }, 'p2p host started');
  return host;
}
