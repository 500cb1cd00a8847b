/**
 * Hosts whose Noise writes are coalesced (the default) and hosts without it (what older shoal
 * runs) on real TCP loopback: same bytes on the wire, so they must talk to each other; and the
 * coalescing host must actually write fewer times.
 */
import { Socket } from 'node:net';
import { jest } from '@jest/globals';
import { createHost, readFrames, RpcService, writeFrame } from '../../src/p2p/index.js';
import type { P2PHost } from '../../src/p2p/index.js';
import { newKey } from './helpers.js';

const PROTOCOL = '/shoal/test/coalescing/1.0.0';
const running: P2PHost[] = [];

async function host(coalesceWrites: boolean): Promise<P2PHost> {
  const h = await createHost({ privateKey: (await newKey()).privateKey, coalesceWrites });
  running.push(h);
  return h;
}

afterEach(async () => {
  const hosts = running.splice(0);
  for (const h of hosts) for (const c of h.libp2p.getConnections()) c.abort(new Error('test over'));
  await Promise.all(hosts.map((h) => h.stop()));
  jest.restoreAllMocks();
});

/** Frames `dialer` sends on one stream arrive at `listener`, and an RPC both ways answers. */
async function exchange(dialer: P2PHost, listener: P2PHost): Promise<void> {
  const received: unknown[] = [];
  await listener.handle(PROTOCOL, async (stream) => {
    for await (const frame of readFrames(stream)) received.push(frame);
  });
  // Larger than one Noise message (64 KiB): one send becomes several encrypted messages.
  const large = new Uint8Array(300_000).map((_, i) => i % 251);
  const stream = await dialer.dialProtocol(listener.peerId, PROTOCOL, { addresses: listener.multiaddrs() });
  for (const value of [{ n: 1 }, { n: 2, blob: large }, { n: 3 }]) await writeFrame(stream, value);
  await stream.close();

  const servers = [new RpcService(listener), new RpcService(dialer)];
  for (const s of servers) s.handle('echo', (payload) => payload);
  await Promise.all(servers.map((s) => s.start()));
  const [onListener, onDialer] = servers;
  const echoed = (await onDialer!.call(listener.peerId, 'echo', { blob: large })) as { blob: Uint8Array };
  expect(Buffer.compare(echoed.blob, large)).toBe(0); // toEqual walks 300k elements slowly
  expect(await onListener!.call(dialer.peerId, 'echo', 'back')).toBe('back');
  await Promise.all(servers.map((s) => s.stop()));

  const [first, second, third] = received as [{ n: number }, { n: number; blob: Uint8Array }, { n: number }];
  expect([received.length, first.n, second.n, third.n]).toEqual([3, 1, 2, 3]);
  expect(Buffer.compare(second.blob, large)).toBe(0);
}

describe('createHost({ coalesceWrites })', () => {
  it.each([
    ['a coalescing dialer', 'a plain listener', true, false],
    ['a plain dialer', 'a coalescing listener', false, true],
    ['a coalescing dialer', 'a coalescing listener', true, true],
  ])('%s and %s exchange frames and RPCs', async (_d, _l, dialerCoalesces, listenerCoalesces) => {
    const [dialer, listener] = await Promise.all([host(dialerCoalesces), host(listenerCoalesces)]);
    await exchange(dialer, listener);
  });

  it.each([
    ['coalesces', true],
    ['does not coalesce', false],
  ])('a host that %s writes one or two socket writes per small frame', async (_what, coalesceWrites) => {
    const [sender, receiver] = await Promise.all([host(coalesceWrites), host(false)]);
    const receiverPort = Number(/\/tcp\/(\d+)/.exec(receiver.multiaddrs()[0]!)![1]);
    let arrived: () => void = () => {};
    await receiver.handle(PROTOCOL, async (stream) => {
      for await (const _frame of readFrames(stream)) arrived();
    });
    const stream = await sender.dialProtocol(receiver.peerId, PROTOCOL, { addresses: receiver.multiaddrs() });
    const send = async (value: unknown): Promise<void> => {
      const got = new Promise<void>((resolve) => (arrived = resolve));
      await writeFrame(stream, value);
      await got;
    };
    await send('warm up');

    let senderWrites = 0;
    const proto = Socket.prototype as Socket & Record<'_write' | '_writev', (...args: unknown[]) => void>;
    for (const name of ['_write', '_writev'] as const) {
      const original = proto[name];
      jest.spyOn(proto, name).mockImplementation(function (this: Socket, ...args: unknown[]) {
        if (this.remotePort === receiverPort) senderWrites++;
        return original.apply(this, args);
      });
    }
    const FRAMES = 20;
    // One at a time, as Raft sends at a modest rate: each frame is its own Yamux frame.
    for (let i = 0; i < FRAMES; i++) await send({ i, entry: new Uint8Array(150) });
    jest.restoreAllMocks();

    if (coalesceWrites) expect(senderWrites).toBeLessThanOrEqual(FRAMES);
    else expect(senderWrites).toBeGreaterThanOrEqual(2 * FRAMES);
  });
});
