/**
 * Hostile input on the raft protocol: the receiving host resets the offending stream, logs it,
 * delivers nothing from it, and keeps delivering valid traffic.
 */
import { connect } from 'node:net';
import type { Stream } from '@libp2p/interface';
import { Libp2pRaftTransport, MemberSet, RAFT_PROTOCOL, encodeFrame } from '../../src/p2p/index.js';
import type { P2PHost } from '../../src/p2p/index.js';
import type { Message } from '../../src/raft/types.js';
import { captureLogger, newKey, sampleMessages, startHost, stopAll, waitFor } from './helpers.js';
import type { TestKey } from './helpers.js';

/** Seeded bytes (mulberry32), so a failure replays. */
function seededBytes(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let t = seed >>> 0;
  for (let i = 0; i < n; i++) {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
    out[i] = ((r ^ (r >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

const heartbeat = (from: string, to: string, commit: number): Message => ({
  type: 'heartbeat',
  from,
  to,
  term: 1,
  commit,
});

describe('raft protocol under malformed input', () => {
  let a: TestKey, b: TestKey, c: TestKey;
  let ha: P2PHost, hb: P2PHost;
  let ta: Libp2pRaftTransport, tb: Libp2pRaftTransport;
  let received: Message[];
  let logs: Array<Record<string, unknown>>;

  beforeAll(async () => {
    [a, b, c] = await Promise.all([newKey(), newKey(), newKey()]);
  });

  beforeEach(async () => {
    const gate = new MemberSet([a.id, b.id, c.id]);
    const capture = captureLogger();
    logs = capture.records;
    [ha, hb] = await Promise.all([startHost(a, gate), startHost(b, gate, capture.logger)]);
    ta = new Libp2pRaftTransport(ha);
    tb = new Libp2pRaftTransport(hb);
    received = [];
    tb.onMessage((m) => received.push(m));
    await Promise.all([ta.start(), tb.start()]);
    ta.setPeerAddresses(b.id, hb.multiaddrs());
  });

  afterEach(async () => {
    await Promise.all([ta.stop(), tb.stop()]);
    await stopAll();
  });

  /** b still works: a valid message from a's real transport arrives after the bad input. */
  async function expectStillDelivering(commit: number): Promise<void> {
    ta.send([heartbeat(a.id, b.id, commit)]);
    await waitFor(() => received.some((m) => (m as { commit?: number }).commit === commit), `heartbeat ${commit}`);
    expect(received).toEqual([heartbeat(a.id, b.id, commit)]);
  }

  /** Open a raw raft stream as member a, write `chunks`, and wait until b resets it. */
  async function sendRaw(chunks: Uint8Array[], closeWrite = false): Promise<Stream> {
    const stream = await ha.dialProtocol(b.id, RAFT_PROTOCOL, { addresses: hb.multiaddrs() });
    for (const chunk of chunks) stream.send(chunk);
    if (closeWrite) await stream.close().catch(() => undefined);
    await waitFor(() => stream.status === 'reset', 'b to reset the stream');
    return stream;
  }

  const badFrameLogged = (): boolean =>
    logs.some((r) => r.msg === 'bad raft frame from peer; stream reset' && r.peer === a.id);

  it('plain TCP garbage to the listening port is dropped and the host keeps working', async () => {
    const parts = hb.libp2p.getMultiaddrs()[0]!.getComponents();
    const host = parts.find((p) => p.name === 'ip4')!.value!;
    const port = Number(parts.find((p) => p.name === 'tcp')!.value);
    const socket = connect({ host, port });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(seededBytes(1, 4096));
    socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await closed; // b hangs up on a peer that does not speak multistream-select/noise
    await expectStillDelivering(1);
  });

  it('an oversized length prefix resets the stream before any body is buffered', async () => {
    await sendRaw([new Uint8Array([0xff, 0xff, 0xff, 0xff]), new Uint8Array(1024)]);
    expect(badFrameLogged()).toBe(true);
    expect(logs.find((r) => r.msg === 'bad raft frame from peer; stream reset')?.err).toMatchObject({
      type: 'FrameTooLargeError',
    });
    await expectStillDelivering(2);
  });

  it('random bytes reset the stream', async () => {
    await sendRaw([seededBytes(42, 300)], true);
    expect(badFrameLogged()).toBe(true);
    await expectStillDelivering(3);
  });

  it('a well-framed body that is not CBOR resets the stream', async () => {
    const body = new Uint8Array([0x1c, 0x1d, 0x1e]); // reserved CBOR initial bytes
    const frame = new Uint8Array([0, 0, 0, body.length, ...body]);
    await sendRaw([frame]);
    expect(badFrameLogged()).toBe(true);
    await expectStillDelivering(4);
  });

  it.each<[string, unknown]>([
    ['an object instead of a batch', { hello: 'world' }],
    ['an empty batch', []],
    ['a message without fields', [{ type: 'vote' }]],
    [
      'entries with string data',
      [{ ...sampleMessages('x', 'y')[2], data: 'x', entries: [{ index: 11, term: 1, type: 0, data: 'no' }] }],
    ],
  ])('valid CBOR of a wrong shape (%s) resets the stream', async (_name, value) => {
    await sendRaw([encodeFrame(value)]);
    expect(badFrameLogged()).toBe(true);
    await expectStillDelivering(5);
  });

  it('a batch with one bad message delivers none of it', async () => {
    const good = heartbeat(a.id, b.id, 100);
    await sendRaw([encodeFrame([good, { ...good, term: -1 }])]);
    expect(received).toEqual([]);
    await expectStillDelivering(6);
  });

  it('a message spoofing another sender is dropped and the stream reset', async () => {
    await sendRaw([encodeFrame([heartbeat(c.id, b.id, 99)])]);
    expect(logs.some((r) => String((r.err as { message?: string })?.message).includes('spoofed sender'))).toBe(true);
    expect(received).toEqual([]);
    await expectStillDelivering(7);
  });

  it('a message addressed to another node is dropped without resetting the stream', async () => {
    const stream = await ha.dialProtocol(b.id, RAFT_PROTOCOL, { addresses: hb.multiaddrs() });
    stream.send(encodeFrame([heartbeat(a.id, c.id, 50), heartbeat(a.id, b.id, 51)]));
    await waitFor(() => received.length === 1, 'the message for b');
    expect(received).toEqual([heartbeat(a.id, b.id, 51)]);
    expect(stream.status).toBe('open');
    expect(logs.some((r) => r.msg === 'dropped a raft message addressed to another node')).toBe(true);
  });
});
