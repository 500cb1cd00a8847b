/** Fixtures of the mesh tests: TCP echo servers, free ports, and a client that sends and hashes. */
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
export { freePort } from '../support/free-port.js';

export interface EchoServer {
  readonly port: number;
  readonly server: Server;
  /** Connections open now. */
  readonly sockets: Set<Socket>;
  /** Bytes it received, per connection, in order of arrival. */
  readonly received: number[];
  close(): Promise<void>;
}

/**
 * An echo server on `host`. With `replyAfterEnd`, it answers only once the client half-closed:
 * `<n> bytes` and then closes (a test of half-close through the proxy).
 */
export async function echoServer(host = '127.0.0.1', options: { replyAfterEnd?: boolean } = {}): Promise<EchoServer> {
  const sockets = new Set<Socket>();
  const received: number[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    const index = received.push(0) - 1;
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => (received[index]! += chunk.length));
    if (options.replyAfterEnd) socket.on('end', () => socket.end(`${received[index]} bytes`));
    else socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: portOf(server),
    server,
    sockets,
    received,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/**
 * Connect, send `bytes` random bytes (in 64 KiB writes, respecting backpressure), half-close,
 * and collect everything until the server closes. Returns what was sent and what came back.
 */
export async function roundTrip(host: string, port: number, bytes: number): Promise<{ sent: Buffer; got: Buffer }> {
  const sent = randomBytes(bytes);
  const socket = connect({ host, port, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      socket.end();
      resolve();
    });
    socket.on('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  for (let off = 0; off < sent.length; off += 65_536) {
    if (!socket.write(sent.subarray(off, off + 65_536))) await new Promise((r) => socket.once('drain', r));
  }
  socket.end();
  await done;
  return { sent, got: Buffer.concat(chunks) };
}

/**
 * Connect and resolve with how the connection ended: 'reset' (ECONNRESET, also when it came
 * before the connect event) or 'closed'. Rejects when nobody listens.
 */
export function connectAndWait(
  host: string,
  port: number,
): Promise<{ socket: Socket; end: Promise<'reset' | 'closed'> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, allowHalfOpen: true });
    const end = new Promise<'reset' | 'closed'>((res) => {
      socket.on('error', (err: NodeJS.ErrnoException) => res(err.code === 'ECONNRESET' ? 'reset' : 'closed'));
      socket.on('close', () => res('closed'));
    });
    socket.once('connect', () => resolve({ socket, end }));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') resolve({ socket, end });
      else reject(err);
    });
  });
}

/** The port a listening server is bound to. */
export function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the server is not listening on TCP');
  return address.port;
}
