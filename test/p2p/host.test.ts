import { DEFAULT_LISTEN, MemberSet, PeerUnreachableError } from '../../src/p2p/index.js';
import { captureLogger, newKey, startHost, stopAll, waitFor } from './helpers.js';
import type { TestKey } from './helpers.js';
import { createHost } from '../../src/p2p/index.js';

describe('createHost()', () => {
  let a: TestKey, b: TestKey;
  beforeAll(async () => {
    [a, b] = await Promise.all([newKey(), newKey()]);
  });
  afterEach(stopAll);

  it('createHost() listens on loopback by default and advertises /p2p/<peer id> addresses', async () => {
    expect(DEFAULT_LISTEN).toEqual(['/ip4/127.0.0.1/tcp/0']);
    const host = await createHost({ privateKey: a.privateKey });
    try {
      expect(host.peerId).toBe(a.id);
      expect(host.multiaddrs()).toEqual([
        expect.stringMatching(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${a.id}$`)),
      ]);
    } finally {
      await host.stop();
      await host.stop(); // idempotent
    }
  });

  it('dialProtocol() refuses an address that names a different peer', async () => {
    const ha = await startHost(a);
    const hb = await startHost(b);
    const wrong = hb.multiaddrs()[0]!.replace(b.id, a.id);
    await expect(ha.dialProtocol(b.id, '/x/1.0.0', { addresses: [wrong] })).rejects.toThrow(
      new RegExp(`names peer ${a.id}, not ${b.id}`),
    );
    await expect(ha.dialProtocol(b.id, '/x/1.0.0', { addresses: ['not a multiaddr'] })).rejects.toThrow(
      PeerUnreachableError,
    );
  });

  it('dialProtocol() accepts addresses without /p2p and checks the remote identity', async () => {
    const ha = await startHost(a);
    const hb = await startHost(b);
    await hb.handle('/x/1.0.0', (stream) => void stream.close(), { membersOnly: false });
    const bare = hb.multiaddrs()[0]!.replace(`/p2p/${b.id}`, '');
    const stream = await ha.dialProtocol(b.id, '/x/1.0.0', { addresses: [bare] });
    expect(stream.protocol).toBe('/x/1.0.0');
    // Same address, but claimed to be some other peer: Noise catches the mismatch.
    const c = await newKey();
    await expect(ha.dialProtocol(c.id, '/x/1.0.0', { addresses: [bare] })).rejects.toThrow(PeerUnreachableError);
  });

  it('handle() resets the stream of a handler that throws, logs it, and keeps serving', async () => {
    const capture = captureLogger();
    const gate = new MemberSet([a.id, b.id]);
    const ha = await startHost(a, gate);
    const hb = await startHost(b, gate, capture.logger);
    let calls = 0;
    await hb.handle('/boom/1.0.0', () => {
      calls++;
      throw new Error('handler bug');
    });
    for (let i = 0; i < 2; i++) {
      const stream = await ha.dialProtocol(b.id, '/boom/1.0.0', { addresses: hb.multiaddrs() });
      await waitFor(() => stream.status === 'reset', 'stream reset');
    }
    expect(calls).toBe(2);
    expect(capture.records.filter((r) => r.msg === 'protocol handler failed; stream reset')).toHaveLength(2);
  });
});
