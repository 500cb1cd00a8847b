/**
 * ServiceProxy holding connections for a cold start (scale to zero, issue 16) on loopback: a
 * listener's own hold time and queue limit, `onHold` told while nothing is in rotation, the
 * client's first bytes kept until a task comes, and a refusal that is logged when the hold is
 * over or the queue is full. The per-service activity it reports to the leader is counted here.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Balancer, ServiceProxy } from '../../src/mesh/index.js';
import { connectAndWait, freePort, portOf, sha256 } from './helpers.js';

const VIP = '127.0.0.54';
const BODY = Buffer.alloc(300_000, 'shoal cold start\n');

/** Send an HTTP request on a raw socket at once (before any task exists) and read to the end. */
function request(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: VIP, port });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.write('GET /hello HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n');
  });
}

describe('ServiceProxy cold start', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  const setup = async (hold: { holdMs: number; maxHeld: number }) => {
    const balancer = new Balancer();
    const holds: string[] = [];
    const lines: { msg: string; refused?: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as { msg: string });
        done();
      },
    });
    const proxy = new ServiceProxy({
      localNodeId: 'here',
      balancers: new Map([['shop_web', balancer]]),
      dialRemote: () => Promise.reject(new Error('no remote tasks here')),
      holdMs: 50, // the default for services that do not scale to zero: the listener overrides it
      onHold: (service) => holds.push(service),
      logger: pino({ level: 'info' }, sink),
    });
    closers.push(() => proxy.stop());
    const port = await freePort(VIP);
    await proxy.setListeners([{ service: 'shop_web', address: VIP, port, ...hold }]);
    const heldNow = async (n: number) => {
      while (proxy.held('shop_web') < n) await new Promise((r) => setTimeout(r, 5));
    };
    return { balancer, proxy, port, holds, lines, heldNow };
  };

  /** The task: an HTTP server that answers BODY, started only when asked (the cold start). */
  const startTask = async (): Promise<Server> => {
    const server = createServer((req, res) => res.end(req.url === '/hello' ? BODY : 'wrong path'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    return server;
  };

  it('holds the first connections past the default hold, tells onHold, and passes them on without losing a byte', async () => {
    const { balancer, proxy, port, holds, heldNow } = await setup({ holdMs: 10_000, maxHeld: 8 });
    const answers = [request(port), request(port), request(port)];
    await heldNow(3);
    expect(holds).toEqual(['shop_web', 'shop_web', 'shop_web']);
    await new Promise((r) => setTimeout(r, 150)); // beyond the proxy's default hold of 50 ms
    expect(proxy.held('shop_web')).toBe(3);
    expect(proxy.activity()).toEqual([
      { serviceId: 'shop_web', open: 3, lastAcceptAgoMs: expect.any(Number), requests: 3 },
    ]);

    const task = await startTask();
    balancer.setEndpoints([
      { taskId: 't1', nodeId: 'here', address: '127.0.0.1', port: portOf(task), healthy: true, draining: false },
    ]);
    for (const answer of await Promise.all(answers)) {
      const [head, body] = answer.split('\r\n\r\n', 2) as [string, string];
      expect(head).toMatch(/^HTTP\/1.1 200 OK/);
      expect(body.length).toBe(BODY.length);
      expect(sha256(Buffer.from(body, 'latin1'))).toBe(sha256(BODY));
    }
    while (proxy.activity()[0]!.open > 0) await new Promise((r) => setTimeout(r, 5));
    expect(proxy.activity()[0]).toMatchObject({ open: 0 });
  });

  it('asks a task that is in rotation but not listening yet again until it listens (no byte lost)', async () => {
    const { balancer, port } = await setup({ holdMs: 10_000, maxHeld: 8 });
    const taskPort = await freePort('127.0.0.1');
    // In rotation (running, no healthcheck) before its process listens: connections are refused.
    balancer.setEndpoints([
      { taskId: 't1', nodeId: 'here', address: '127.0.0.1', port: taskPort, healthy: true, draining: false },
    ]);
    const answer = request(port);
    await new Promise((r) => setTimeout(r, 500));
    const server = createServer((req, res) => res.end(req.url === '/hello' ? BODY : 'wrong path'));
    await new Promise<void>((resolve) => server.listen(taskPort, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const [head, body] = (await answer).split('\r\n\r\n', 2) as [string, string];
    expect(head).toMatch(/^HTTP\/1.1 200 OK/);
    expect(sha256(Buffer.from(body, 'latin1'))).toBe(sha256(BODY));
  });

  it('refuses (resets) a connection beyond the queue limit at once, and one held past the cold-start timeout, and logs both', async () => {
    const { port, lines, heldNow } = await setup({ holdMs: 300, maxHeld: 1 });
    const first = await connectAndWait(VIP, port);
    await heldNow(1);
    const second = await connectAndWait(VIP, port);
    await expect(second.end).resolves.toBe('reset');
    await expect(first.end).resolves.toBe('reset');
    const refusals = lines.filter((l) => l.refused !== undefined);
    expect(refusals.map((l) => [l.refused, l.msg])).toEqual([
      ['queue-full', 'connection to service shop_web refused: its queue of 1 held connections is full'],
      ['timeout', 'connection to service shop_web refused: no task came in rotation within 300 ms'],
    ]);
  });
});
