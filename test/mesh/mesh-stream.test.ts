import { MemberSet } from '../../src/p2p/index.js';
import type { P2PHost } from '../../src/p2p/index.js';
import {
  Balancer,
  MESH_PROTOCOL,
  MeshProtocolError,
  MeshRefusedError,
  MeshService,
  ServiceProxy,
  parseHeader,
  parseReply,
} from '../../src/mesh/index.js';
import type { LocalTarget } from '../../src/mesh/index.js';
import { newKey, startHost, stopAll, waitFor } from '../p2p/helpers.js';
import type { TestKey } from '../p2p/helpers.js';
import { echoServer, freePort, roundTrip, sha256 } from './helpers.js';
import type { EchoServer } from './helpers.js';

describe('parseHeader() and parseReply()', () => {
  it.each([
    [null, /not a map/],
    [{ taskId: '', port: 80 }, /taskId/],
    [{ taskId: '../etc', port: 80 }, /taskId/],
    [{ taskId: 't1', port: 0 }, /port/],
    [{ taskId: 't1', port: 80.5 }, /port/],
    [{ taskId: 't1', port: '80' }, /port/],
  ])('refuses the header %j', (value, message) => {
    expect(() => parseHeader(value)).toThrow(message);
  });

  it('reads replies and refuses anything else', () => {
    expect(parseReply({ ok: true })).toEqual({ ok: true });
    expect(parseReply({ ok: false, code: 'not-ready', message: 'starting' })).toEqual({
      ok: false,
      code: 'not-ready',
      message: 'starting',
    });
    expect(() => parseReply({ ok: false, code: 'whatever' })).toThrow(MeshProtocolError);
  });
});

describe('MeshService between two libp2p hosts', () => {
  let a: TestKey, b: TestKey, outsider: TestKey;
  let ha: P2PHost, hb: P2PHost;
  let ma: MeshService, mb: MeshService;
  let task: EchoServer;
  /** b's tasks: id → where it listens, or why not. */
  let tasks: Map<string, LocalTarget>;

  beforeAll(async () => {
    [a, b, outsider] = await Promise.all([newKey(), newKey(), newKey()]);
  });

  beforeEach(async () => {
    const gate = new MemberSet([a.id, b.id]);
    [ha, hb] = await Promise.all([startHost(a, gate), startHost(b, gate)]);
    task = await echoServer();
    tasks = new Map<string, LocalTarget>([
      ['web.1', { host: '127.0.0.1', port: task.port }],
      ['web.2', { refused: 'not-ready', reason: 'task web.2 is starting (healthcheck not passed)' }],
      ['web.3', { host: '127.0.0.1', port: await freePort() }],
    ]);
    const resolveLocal = (taskId: string): LocalTarget =>
      tasks.get(taskId) ?? { refused: 'unknown-task', reason: `no task ${taskId} on this node` };
    ma = new MeshService(ha, { resolveLocal, addressesOf: (id) => (id === b.id ? hb.multiaddrs() : []) });
    mb = new MeshService(hb, { resolveLocal });
    await Promise.all([ma.start(), mb.start()]);
  });

  afterEach(async () => {
    await Promise.all([ma.stop(), mb.stop()]);
    await task.close();
    await stopAll();
  });

  it('dial() carries a few MB both ways intact, and the task node counts the stream', async () => {
    const upstream = await ma.dial(b.id, 'web.1', 8080);
    const sent = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < sent.length; i += 4) sent.writeUInt32LE((i * 2654435761) >>> 0, i);
    const chunks: Buffer[] = [];
    const received = new Promise<void>((resolve, reject) => {
      upstream.on('data', (c: Buffer) => chunks.push(c));
      upstream.on('end', resolve);
      upstream.on('error', reject);
    });
    await waitFor(() => mb.openStreams('web.1') === 1, 'b to count the stream');
    upstream.end(sent); // write all, then half-close: the echo ends after echoing everything
    await received;
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(sent));
    await mb.whenIdle('web.1');
    expect(mb.openStreams('web.1')).toBe(0);
  });

  it('dial() is refused with the reason when the task is not ready, unknown or not listening', async () => {
    await expect(ma.dial(b.id, 'web.2', 8080)).rejects.toMatchObject({ name: 'MeshRefusedError', code: 'not-ready' });
    await expect(ma.dial(b.id, 'web.9', 8080)).rejects.toMatchObject({ code: 'unknown-task' });
    const unreachable = ma.dial(b.id, 'web.3', 8080);
    await expect(unreachable).rejects.toBeInstanceOf(MeshRefusedError);
    await expect(unreachable).rejects.toThrow(/unreachable.*ECONNREFUSED/);
  });

  it('a peer that is not a cluster member cannot open a mesh stream', async () => {
    const ho = await startHost(outsider);
    const mo = new MeshService(ho, {
      resolveLocal: () => ({ refused: 'unknown-task', reason: '' }),
      addressesOf: () => hb.multiaddrs(),
    });
    await expect(mo.dial(b.id, 'web.1', 8080)).rejects.toThrow();
    expect(task.received).toHaveLength(0);
  });

  it('a stream with a bad header is reset without touching any task', async () => {
    const stream = await ha.dialProtocol(b.id, MESH_PROTOCOL, { addresses: hb.multiaddrs() });
    stream.send(new Uint8Array([0, 0, 0, 3, 0xa1, 0x61, 0x78])); // {x: <missing>}: truncated CBOR
    await new Promise<void>((resolve) => stream.addEventListener('close', () => resolve(), { once: true }));
    expect(task.received).toHaveLength(0);
  });

  it('a ServiceProxy on one host reaches the task on the other through the mesh', async () => {
    const balancer = new Balancer();
    balancer.setEndpoints([
      { taskId: 'web.2', nodeId: b.id, healthy: true, draining: false }, // refuses: the proxy moves on
      { taskId: 'web.1', nodeId: b.id, healthy: true, draining: false },
    ]);
    const proxy = new ServiceProxy({
      localNodeId: a.id,
      balancers: new Map([['shop_web', balancer]]),
      dialRemote: (nodeId, taskId, port, options) => ma.dial(nodeId, taskId, port, options),
    });
    const port = await freePort('127.0.0.54');
    await proxy.setListeners([{ service: 'shop_web', address: '127.0.0.54', port, targetPort: 8080 }]);
    try {
      for (let i = 0; i < 3; i++) {
        const { sent, got } = await roundTrip('127.0.0.54', port, 2 * 1024 * 1024);
        expect(sha256(got)).toBe(sha256(sent));
      }
      expect(task.received).toEqual([2 * 1024 * 1024, 2 * 1024 * 1024, 2 * 1024 * 1024]);
    } finally {
      await proxy.stop();
    }
  });
});
