/**
 * The proxy's request count (the `rps` autoscaling target, issue 16), on loopback: a real HTTP
 * keep-alive client through ServiceProxy to a real HTTP server, a non-HTTP client, and the
 * request-line check itself.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { Agent, createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { Balancer, ServiceProxy } from '../../src/mesh/index.js';
import { MAX_REQUEST_LINE, startsWithRequestLine } from '../../src/mesh/request-count.js';
import { freePort, sha256 } from './helpers.js';

// Loopback has all of 127/8: a VIP of its own without root.
const VIP = '127.0.0.54';

describe('ServiceProxy request count', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0).reverse()) await close();
  });

  /** An HTTP server as the task, and the proxy in front of it; returns the proxy and its port. */
  async function world(): Promise<{ proxy: ServiceProxy; port: number }> {
    // Answers `METHOD URL` and the SHA-256 of the body it got.
    const server: Server = createServer((req, res) => {
      const hash = createHash('sha256');
      req.on('data', (c: Buffer) => hash.update(c));
      req.on('end', () => res.end(`${req.method} ${req.url} ${hash.digest('hex')}`));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => server.close(() => resolve())));
    server.keepAliveTimeout = 30_000;
    const address = server.address();
    const taskPort = typeof address === 'object' && address !== null ? address.port : 0;
    const balancer = new Balancer();
    balancer.setEndpoints([
      { taskId: 't1', nodeId: 'here', address: '127.0.0.1', port: taskPort, healthy: true, draining: false },
    ]);
    const proxy = new ServiceProxy({
      localNodeId: 'here',
      balancers: new Map([['shop_web', balancer]]),
      dialRemote: () => Promise.reject(new Error('no remote task in this test')),
    });
    cleanup.push(() => proxy.stop());
    const port = await freePort(VIP);
    await expect(proxy.setListeners([{ service: 'shop_web', address: VIP, port }])).resolves.toEqual({ failed: [] });
    return { proxy, port };
  }

  const get = (agent: Agent, port: number, path: string, body?: Buffer | string): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = request({ host: VIP, port, path, agent, method: body === undefined ? 'GET' : 'POST' }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('counts each request of a keep-alive client, not only its connection', async () => {
    const { proxy, port } = await world();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanup.push(async () => agent.destroy());
    for (let i = 0; i < 20; i++)
      expect(await get(agent, port, `/item/${i}`)).toBe(`GET /item/${i} ${sha256(new Uint8Array())}`);
    // a body of 1 MiB on the same connection arrives whole (watching the chunks takes none)
    const upload = randomBytes(1024 * 1024);
    expect(await get(agent, port, '/upload', upload)).toBe(`POST /upload ${sha256(upload)}`);
    const [web] = proxy.activity();
    expect(web).toMatchObject({ serviceId: 'shop_web', open: 1, requests: 21 }); // one connection, 21 requests
  });

  it('counts requests over several keep-alive connections', async () => {
    const { proxy, port } = await world();
    const agent = new Agent({ keepAlive: true, maxSockets: 3 });
    cleanup.push(async () => agent.destroy());
    for (let round = 0; round < 5; round++)
      await Promise.all([0, 1, 2].map((i) => get(agent, port, `/r${round}/${i}`)));
    expect(proxy.activity()[0]?.requests).toBe(15);
    expect(proxy.activity()[0]?.open).toBeLessThanOrEqual(3);
  });

  it('counts a connection that does not start with an HTTP/1.x request line once, whatever follows', async () => {
    const { proxy, port } = await world();
    const socket = connect({ host: VIP, port });
    cleanup.push(async () => void socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.end('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await closed; // the HTTP server answered 400 to the bytes and closed: every byte went through
    expect(proxy.activity()[0]).toMatchObject({ open: 0, requests: 1 });
  });
});

describe('startsWithRequestLine()', () => {
  it.each([
    ['GET / HTTP/1.1\r\nHost: a\r\n\r\n', true],
    ['POST /api/orders?id=7 HTTP/1.0\r\n', true],
    ['OPTIONS * HTTP/1.1\r\n', true],
    ['DELETE /x HTTP/1.1\r\n', true],
    ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', false],
    ['GET / HTTP/1.1\n', false],
    ['get / HTTP/1.1\r\n', false],
    ['GE / HTTP/1.1\r\n', false],
    ['GET / HTTP/1.1', false], // split before the end of the line: not counted
    ['\x16\x03\x01\x02\x00\x01', false], // a TLS ClientHello
    ['{"GET / HTTP/1.1\r\n"}', false],
    ['', false],
  ])('%j → %p', (text, expected) => {
    expect(startsWithRequestLine(Buffer.from(text, 'latin1'))).toBe(expected);
  });

  it(`reads at most ${MAX_REQUEST_LINE} bytes of a chunk`, () => {
    const long = Buffer.from(`GET /${'a'.repeat(MAX_REQUEST_LINE)} HTTP/1.1\r\n`);
    expect(startsWithRequestLine(long)).toBe(false);
    const within = Buffer.from(`GET /${'a'.repeat(100)} HTTP/1.1\r\n${'b'.repeat(2 * MAX_REQUEST_LINE)}`);
    expect(startsWithRequestLine(within)).toBe(true);
  });
});
