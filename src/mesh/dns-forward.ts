/**
 * Forwards queries for names outside the mesh to upstream resolvers over UDP, so that a task
 * whose only nameserver is the mesh DNS still resolves the rest of the world. One socket, a
 * fresh query id per forward (the client's is restored in the answer), the next server on a
 * timeout. Answers come back as the upstream gave them (a TC bit included: the client then
 * retries over TCP, which is forwarded over UDP again and may stay truncated: a known limit).
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';

export interface UpstreamServer {
  readonly host: string;
  readonly port: number;
}

/** Parse `1.1.1.1` or `1.1.1.1:5353`. */
export function parseUpstream(text: string): UpstreamServer {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(text);
  const port = match?.[2] === undefined ? 53 : Number(match[2]);
  if (match === null || port < 1 || port > 65535) {
    throw new TypeError(
      `Cannot use upstream DNS server ${JSON.stringify(text)}: expected IPv4[:port], e.g. 1.1.1.1:53`,
    );
  }
  return { host: match[1]!, port };
}

interface Pending {
  readonly clientId: number;
  readonly server: UpstreamServer;
  readonly resolve: (answer: Uint8Array | null) => void;
  readonly timer: NodeJS.Timeout;
}

export interface ForwarderOptions {
  readonly servers: readonly UpstreamServer[];
  /** Per server. Default 1 500 ms. */
  readonly timeoutMs?: number;
  /** Forwards in flight at once; more are answered null (SERVFAIL). Default 1 024. */
  readonly maxPending?: number;
}

export class UdpForwarder {
  readonly #servers: readonly UpstreamServer[];
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  readonly #pending = new Map<number, Pending>();
  #socket: Socket | null = null;

  constructor(options: ForwarderOptions) {
    if (options.servers.length === 0) throw new RangeError('Cannot forward DNS queries with no upstream server');
    this.#servers = options.servers;
    this.#timeoutMs = options.timeoutMs ?? 1_500;
    this.#maxPending = options.maxPending ?? 1_024;
  }

  async start(): Promise<void> {
    if (this.#socket !== null) return;
    const socket = createSocket('udp4');
    socket.on('message', (msg, rinfo) => this.#onAnswer(msg, rinfo.address, rinfo.port));
    socket.on('error', () => undefined); // ICMP errors surface here; the timeout handles them
    await new Promise<void>((resolve) => socket.bind(0, resolve));
    this.#socket = socket;
  }

  async stop(): Promise<void> {
    const socket = this.#socket;
    this.#socket = null;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.resolve(null);
    }
    this.#pending.clear();
    if (socket !== null) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /** The upstream's answer to `query` with the client's id, or null when no server answered. */
  forward(query: Uint8Array): Promise<Uint8Array | null> {
    if (query.length < 12 || this.#socket === null || this.#pending.size >= this.#maxPending) {
      return Promise.resolve(null);
    }
    const clientId = (query[0]! << 8) | query[1]!;
    return new Promise((resolve) => this.#send(query, clientId, 0, resolve));
  }

  #send(query: Uint8Array, clientId: number, attempt: number, resolve: (answer: Uint8Array | null) => void): void {
    const socket = this.#socket;
    if (socket === null || attempt >= this.#servers.length) return resolve(null);
    let id = randomInt(0, 0x10000);
    while (this.#pending.has(id)) id = (id + 1) & 0xffff;
    const server = this.#servers[attempt]!;
    const timer = setTimeout(() => {
      this.#pending.delete(id);
      this.#send(query, clientId, attempt + 1, resolve);
    }, this.#timeoutMs);
    this.#pending.set(id, { clientId, server, resolve, timer });
    const packet = Buffer.from(query);
    packet.writeUInt16BE(id, 0);
    socket.send(packet, server.port, server.host);
  }

  #onAnswer(msg: Buffer, host: string, port: number): void {
    if (msg.length < 12) return;
    const id = msg.readUInt16BE(0);
    const pending = this.#pending.get(id);
    // Only the server asked may answer: anyone else guessing ids is ignored.
    if (pending === undefined || pending.server.host !== host || pending.server.port !== port) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    msg.writeUInt16BE(pending.clientId, 0);
    pending.resolve(msg);
  }
}
