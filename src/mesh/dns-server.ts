/**
 * MeshDns: the node's authoritative responder for service names, over UDP and TCP on one
 * address (the agent binds it on shoal0, e.g. 10.253.0.1:53). Names are answered from an
 * injected lookup, in memory, on the event loop: no I/O between a question and its answer.
 * Names it does not know are NXDOMAIN inside its zone, and REFUSED (or forwarded to the
 * configured upstream servers) outside it. A packet it cannot read gets no answer, and no
 * packet makes it throw.
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket as UdpSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { UdpForwarder, parseUpstream } from './dns-forward.js';
import {
  CLASSIC_UDP_BYTES,
  DnsClass,
  DnsRcode,
  DnsType,
  EDNS_UDP_BYTES,
  encodeAnswer,
  parseQuery,
} from './dns-wire.js';
import type { DnsAnswer, DnsQuery } from './dns-wire.js';

/**
 * The addresses of `name` (lower case, no trailing dot) as seen from the client at
 * `clientAddress` (its stack decides what a bare service name means), or null if unknown.
 */
export type DnsLookup = (name: string, clientAddress: string) => readonly string[] | null;

/** Whether an unknown `name` is ours to deny (NXDOMAIN) rather than someone else's (REFUSED/forward). */
export type DnsZone = (name: string, clientAddress: string) => boolean;

/** Default zone: bare names (`web`) and `tasks.*`; the agent adds its stacks (`web.shop`). */
export const defaultZone: DnsZone = (name) => !name.includes('.') || name.startsWith('tasks.');

export interface MeshDnsOptions {
  /** Address to bind both sockets to. */
  readonly host: string;
  /** Port; 0 picks one for UDP and binds TCP to the same. */
  readonly port: number;
  readonly lookup: DnsLookup;
  readonly zone?: DnsZone;
  /** TTL of answers in seconds. Default 0: a task that moves is seen at once. */
  readonly ttl?: number;
  /** Upstream servers (`IPv4[:port]`) for names outside the zone; default none (REFUSED). */
  readonly upstream?: readonly string[];
  /** TCP clients at once; more are closed. Default 64. */
  readonly maxTcpConnections?: number;
  /** A TCP connection idle this long is closed. Default 10 000 ms. */
  readonly tcpIdleMs?: number;
  readonly logger?: Logger;
}

/** What to do with a query: an answer without its size limit, or hand it to the upstream. */
export type Decision = Omit<DnsAnswer, 'maxBytes'> | { readonly forward: true };

/**
 * Decide the answer to `query`. Pure apart from `lookup`; a lookup that throws is SERVFAIL.
 *
 * @example
 * decide(query, '172.18.0.5', { lookup: () => ['10.253.0.7'], zone: defaultZone, ttl: 0, forward: false });
 */
export function decide(
  query: DnsQuery,
  clientAddress: string,
  config: { readonly lookup: DnsLookup; readonly zone: DnsZone; readonly ttl: number; readonly forward: boolean },
): Decision {
  const { question } = query;
  if (query.opcode !== 0) return { rcode: DnsRcode.NOTIMP, authoritative: false };
  if (question.class !== DnsClass.IN && question.class !== DnsClass.ANY) {
    return { rcode: DnsRcode.REFUSED, authoritative: false };
  }
  let addresses: readonly string[] | null;
  try {
    addresses = question.name === '' ? null : config.lookup(question.name, clientAddress);
  } catch {
    return { rcode: DnsRcode.SERVFAIL, authoritative: false };
  }
  if (addresses === null) {
    if (question.name !== '' && config.zone(question.name, clientAddress)) {
      return { rcode: DnsRcode.NXDOMAIN, authoritative: true };
    }
    return config.forward ? { forward: true } : { rcode: DnsRcode.REFUSED, authoritative: false };
  }
  // A known name has only A records: AAAA and the rest get an empty NOERROR (NODATA).
  const wantsA = question.type === DnsType.A || question.type === DnsType.ANY;
  return { rcode: DnsRcode.NOERROR, authoritative: true, addresses: wantsA ? addresses : [], ttl: config.ttl };
}

/**
 * The mesh DNS server. `start()`/`stop()` are idempotent.
 *
 * @example
 * const dns = new MeshDns({ host: '10.253.0.1', port: 53, lookup: (name, client) => table.resolve(name, client) });
 * await dns.start();
 */
export class MeshDns {
  readonly #options: MeshDnsOptions;
  readonly #log: Logger;
  readonly #forwarder: UdpForwarder | null;
  readonly #tcpClients = new Set<Socket>();
  #udp: UdpSocket | null = null;
  #tcp: Server | null = null;
  #port = 0;

  constructor(options: MeshDnsOptions) {
    this.#options = options;
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'mesh-dns' });
    const upstream = (options.upstream ?? []).map(parseUpstream);
    this.#forwarder = upstream.length > 0 ? new UdpForwarder({ servers: upstream }) : null;
  }

  /** The bound port (the same for UDP and TCP), once started. */
  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    if (this.#udp !== null) return;
    const udp = createSocket('udp4');
    udp.on('message', (msg, rinfo) => this.#onUdp(udp, msg, rinfo));
    udp.on('error', (err) => this.#log.warn({ err }, 'mesh DNS UDP socket error'));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.#options.port, this.#options.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    this.#udp = udp;
    this.#port = udp.address().port;
    const tcp = createServer({ allowHalfOpen: false }, (socket) => this.#onTcp(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(this.#port, this.#options.host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      this.#udp = null;
      throw err;
    }
    tcp.on('error', (err) => this.#log.warn({ err }, 'mesh DNS TCP server error'));
    this.#tcp = tcp;
    await this.#forwarder?.start();
    this.#log.info({ host: this.#options.host, port: this.#port }, 'mesh DNS listening');
  }

  async stop(): Promise<void> {
    const udp = this.#udp;
    const tcp = this.#tcp;
    this.#udp = null;
    this.#tcp = null;
    for (const socket of this.#tcpClients) socket.destroy();
    this.#tcpClients.clear();
    await this.#forwarder?.stop();
    if (udp !== null) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcp !== null) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }

  /** The answer to one packet, or null to stay silent. Never throws. */
  async answer(packet: Uint8Array, clientAddress: string, transport: 'udp' | 'tcp'): Promise<Uint8Array | null> {
    const query = parseQuery(packet);
    if (query === null) return null;
    const decision = decide(query, clientAddress, {
      lookup: this.#options.lookup,
      zone: this.#options.zone ?? defaultZone,
      ttl: this.#options.ttl ?? 0,
      forward: this.#forwarder !== null,
    });
    const maxBytes = transport === 'tcp' ? 0xffff : Math.min(query.ednsUdpBytes ?? CLASSIC_UDP_BYTES, EDNS_UDP_BYTES);
    if ('forward' in decision) {
      const forwarded = await this.#forwarder!.forward(packet);
      return forwarded ?? encodeAnswer(query, { rcode: DnsRcode.SERVFAIL, authoritative: false, maxBytes });
    }
    return encodeAnswer(query, { ...decision, maxBytes });
  }

  #onUdp(udp: UdpSocket, msg: Buffer, rinfo: RemoteInfo): void {
    const reply = (answer: Uint8Array | null): void => {
      if (answer !== null && this.#udp === udp) udp.send(answer, rinfo.port, rinfo.address);
    };
    // In-zone answers are synchronous; only forwards wait.
    this.answer(msg, rinfo.address, 'udp').then(reply, (err: unknown) =>
      this.#log.warn({ err }, 'mesh DNS failed to answer'),
    );
  }

  /** TCP: each message is prefixed by its 2-byte length (RFC 1035 §4.2.2); several may follow. */
  #onTcp(socket: Socket): void {
    if (this.#tcpClients.size >= (this.#options.maxTcpConnections ?? 64)) {
      socket.destroy();
      return;
    }
    this.#tcpClients.add(socket);
    socket.setTimeout(this.#options.tcpIdleMs ?? 10_000, () => socket.destroy());
    socket.on('close', () => this.#tcpClients.delete(socket));
    socket.on('error', () => undefined);
    const client = socket.remoteAddress ?? '';
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const packet = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        this.answer(packet, client, 'tcp').then(
          (answer) => {
            if (answer === null) return socket.destroy();
            const prefix = Buffer.alloc(2);
            prefix.writeUInt16BE(answer.length);
            socket.write(Buffer.concat([prefix, answer]));
          },
          () => socket.destroy(),
        );
      }
    });
  }
}
