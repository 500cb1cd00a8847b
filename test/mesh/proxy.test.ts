import { Balancer, ServiceProxy, connectTcp } from '../../src/mesh/index.js';
import type { DialRemote, Endpoint } from '../../src/mesh/index.js';
import { connectAndWait, echoServer, freePort, roundTrip, sha256 } from './helpers.js';
import type { EchoServer } from './helpers.js';

// Loopback has all of 127/8: each test service gets a VIP of its own without root.
const VIP = '127.0.0.53';

const local = (taskId: string, port: number, extra: Partial<Endpoint> = {}): Endpoint => ({
  taskId,
  nodeId: 'here',
  address: '127.0.0.1',
  port,
  healthy: true,
  draining: false,
  ...extra,
});

describe('ServiceProxy', () => {
  const servers: EchoServer[] = [];
  const proxies: ServiceProxy[] = [];
  let balancer: Balancer;
  let remoteDials: string[];
  let port: number;

  /** Remote tasks are "reached" by connecting to a local echo server named by the task id's port. */
  const dialRemote: DialRemote = async (nodeId, taskId, _port, options) => {
    remoteDials.push(`${nodeId}/${taskId}`);
    return connectTcp('127.0.0.1', Number(taskId.split(':')[1]), options);
  };

  const start = async (options: Partial<ConstructorParameters<typeof ServiceProxy>[0]> = {}): Promise<ServiceProxy> => {
    const proxy = new ServiceProxy({
      localNodeId: 'here',
      balancers: new Map([['shop_web', balancer]]),
      dialRemote,
      ...options,
    });
    proxies.push(proxy);
    port = await freePort(VIP);
    await expect(proxy.setListeners([{ service: 'shop_web', address: VIP, port }])).resolves.toEqual({ failed: [] });
    return proxy;
  };

  beforeEach(() => {
    balancer = new Balancer();
    remoteDials = [];
  });

  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.stop()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  const echo = async (options?: { replyAfterEnd?: boolean }): Promise<EchoServer> => {
    const server = await echoServer('127.0.0.1', options);
    servers.push(server);
    return server;
  };

  it('pipes a few MB both ways intact, with backpressure, to a local task', async () => {
    const task = await echo();
    balancer.setEndpoints([local('t1', task.port)]);
    await start();
    const { sent, got } = await roundTrip(VIP, port, 8 * 1024 * 1024);
    expect(got.length).toBe(sent.length);
    expect(sha256(got)).toBe(sha256(sent));
  });

  it('forwards a half-close: the task sees the end and its answer after it still arrives', async () => {
    const task = await echo({ replyAfterEnd: true });
    balancer.setEndpoints([local('t1', task.port)]);
    await start();
    const { got } = await roundTrip(VIP, port, 300_000);
    expect(got.toString()).toBe('300000 bytes');
  });

  it('reaches a task on another node through dialRemote', async () => {
    const task = await echo();
    balancer.setEndpoints([{ taskId: `t9:${task.port}`, nodeId: 'there', healthy: true, draining: false }]);
    await start();
    const { sent, got } = await roundTrip(VIP, port, 100_000);
    expect(sha256(got)).toBe(sha256(sent));
    expect(remoteDials).toEqual([`there/t9:${task.port}`]);
  });

  it('spreads connections over the healthy tasks only', async () => {
    const [a, b, sick] = [await echo(), await echo(), await echo()];
    balancer.setEndpoints([local('a', a.port), local('b', b.port), local('sick', sick.port, { healthy: false })]);
    await start();
    for (let i = 0; i < 6; i++) await roundTrip(VIP, port, 10);
    expect([a.received.length, b.received.length, sick.received.length]).toEqual([3, 3, 0]);
  });

  it('skips a task that refuses the connection and uses the next one', async () => {
    const good = await echo();
    const dead = await freePort();
    balancer.setEndpoints([local('dead', dead), local('good', good.port)]);
    await start();
    for (let i = 0; i < 3; i++) {
      const { sent, got } = await roundTrip(VIP, port, 1000);
      expect(sha256(got)).toBe(sha256(sent));
    }
    expect(good.received).toHaveLength(3);
  });

  it('drain() resolves only after the open connection through the proxy ended', async () => {
    const task = await echo();
    balancer.setEndpoints([local('t1', task.port)]);
    const proxy = await start();
    const { socket, end } = await connectAndWait(VIP, port);
    socket.write('hello');
    await new Promise((r) => socket.once('data', r));
    let drained = false;
    const draining = balancer.drain('t1').then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(drained).toBe(false);
    expect(balancer.openConnections('t1')).toBe(1);
    socket.end();
    await end;
    await draining;
    expect(drained).toBe(true);
    expect(proxy.connections).toBe(0);
  });

  it('holds a connection while no task is in rotation and hands it to the first that enters', async () => {
    const task = await echo();
    const proxy = await start({ holdMs: 5_000 });
    balancer.setEndpoints([local('t1', task.port, { healthy: false })]);
    const trip = roundTrip(VIP, port, 5_000);
    while (proxy.held('shop_web') === 0) await new Promise((r) => setTimeout(r, 5));
    balancer.setEndpoints([local('t1', task.port)]); // healthy now
    const { sent, got } = await trip;
    expect(sha256(got)).toBe(sha256(sent));
  });

  it('resets a held connection when no task came within holdMs, and refuses holds beyond maxHeld', async () => {
    const proxy = await start({ holdMs: 200, maxHeld: 1 });
    const first = await connectAndWait(VIP, port);
    while (proxy.held('shop_web') === 0) await new Promise((r) => setTimeout(r, 5));
    const second = await connectAndWait(VIP, port);
    await expect(second.end).resolves.toBe('reset'); // over the bound: at once
    expect(proxy.held('shop_web')).toBe(1);
    await expect(first.end).resolves.toBe('reset'); // after 200 ms
    expect(proxy.held('shop_web')).toBe(0);
  });

  it('setListeners() opens, keeps and closes listeners idempotently, reporting what failed', async () => {
    const task = await echo();
    balancer.setEndpoints([local('t1', task.port)]);
    const proxy = await start();
    const other = await freePort(VIP);
    const both = [
      { service: 'shop_web', address: VIP, port },
      { service: 'shop_web', address: VIP, port: other },
    ];
    await expect(proxy.setListeners(both)).resolves.toEqual({ failed: [] });
    await expect(proxy.setListeners(both)).resolves.toEqual({ failed: [] });
    expect((await roundTrip(VIP, other, 10)).got.length).toBe(10);
    await proxy.setListeners([both[1]!]);
    await expect(connectAndWait(VIP, port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const { failed } = await proxy.setListeners([both[1]!, { service: 'shop_web', address: '192.0.2.1', port: 80 }]);
    expect(failed.map((f) => f.error.message)).toEqual([expect.stringMatching(/EADDRNOTAVAIL/)]);
  });

  it('resets the client when the task resets the connection', async () => {
    const task = await echo();
    balancer.setEndpoints([local('t1', task.port)]);
    await start();
    const { socket, end } = await connectAndWait(VIP, port);
    socket.write('x');
    await new Promise((r) => socket.once('data', r));
    for (const s of task.sockets) s.resetAndDestroy();
    await expect(end).resolves.toBe('reset');
    await new Promise((r) => setTimeout(r, 20));
    expect(balancer.openConnections('t1')).toBe(0);
  });
});
