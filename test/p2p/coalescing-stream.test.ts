/**
 * The coalescing wrapper on its own. The inner stream is libp2p's own AbstractMessageStream (the
 * base of @libp2p/tcp's connection) whose `sendData` records the buffers it would hand the
 * socket one `write` each, as @libp2p/tcp does.
 */
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { serviceCapabilities, StreamMessageEvent } from '@libp2p/interface';
import type { ConnectionEncrypter, MessageStream, SecuredConnection } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { CoalescingMessageStream, toSingleBuffer } from '../../src/p2p/coalescing-stream.js';
import { coalesceEncrypterWrites } from '../../src/p2p/coalescing-encrypter.js';
import { RecordingStream } from './recording-stream.js';
import type { SendList } from './recording-stream.js';

/** What Noise hands its connection for one message: [2-byte length, ciphertext]. */
function noiseLikeList(body: Uint8Array): SendList {
  const length = new Uint8Array([body.byteLength >> 8, body.byteLength & 0xff]);
  return RecordingStream.list(length, body);
}

describe('toSingleBuffer()', () => {
  it('toSingleBuffer() passes a lone Uint8Array through without copying', () => {
    const buf = new Uint8Array([1, 2, 3]);
    expect(toSingleBuffer(buf)).toBe(buf);
  });

  it('toSingleBuffer() joins a list of buffers into one, in order', () => {
    const joined = toSingleBuffer(noiseLikeList(new Uint8Array([7, 8, 9])));
    expect(joined).toBeInstanceOf(Uint8Array);
    expect([...joined]).toEqual([0, 3, 7, 8, 9]);
  });
});

describe('CoalescingMessageStream', () => {
  it('send() gives the inner stream one buffer per call where it would have got two', () => {
    const direct = new RecordingStream();
    direct.send(noiseLikeList(new Uint8Array(100).fill(1)));
    expect(direct.writes).toHaveLength(2); // what @libp2p/tcp turned into two socket writes

    const inner = new RecordingStream();
    const stream = new CoalescingMessageStream(inner);
    stream.send(noiseLikeList(new Uint8Array(100).fill(1)));
    stream.send(noiseLikeList(new Uint8Array(50).fill(2)));
    expect(inner.writes.map((w) => w.byteLength)).toEqual([102, 52]);
    expect([...inner.writes[1]!.subarray(0, 3)]).toEqual([0, 50, 2]);
  });

  it('send() returns the inner stream’s backpressure and drain releases it', async () => {
    const inner = new RecordingStream();
    const stream = new CoalescingMessageStream(inner);
    const drains: Event[] = [];
    stream.addEventListener('drain', (evt) => drains.push(evt));

    inner.accepting = false;
    expect(stream.send(new Uint8Array([1]))).toBe(false);
    expect(stream.writableNeedsDrain).toBe(true);
    // Sent while full: queued by the inner stream, not written.
    expect(stream.send(new Uint8Array([2]))).toBe(false);
    expect(stream.writeBufferLength).toBe(1);
    const drained = stream.onDrain();

    inner.accepting = true;
    inner.safeDispatchEvent('drain'); // the socket drained
    await drained;
    await new Promise((resolve) => setImmediate(resolve));
    expect(drains).toHaveLength(1);
    expect(stream.writableNeedsDrain).toBe(false);
    expect(inner.writes.map((w) => [...w])).toEqual([[1], [2]]);
    expect(stream.send(new Uint8Array([3]))).toBe(true);
  });

  it('listeners added through the wrapper hear the inner stream’s events, and can be removed', () => {
    const inner = new RecordingStream();
    const stream = new CoalescingMessageStream(inner);
    const received: number[][] = [];
    const onMessage = (evt: StreamMessageEvent): void => {
      received.push([...evt.data.subarray()]);
    };
    stream.addEventListener('message', onMessage);
    expect(stream.listenerCount('message')).toBe(inner.listenerCount('message'));
    expect(stream.listenerCount('message')).toBeGreaterThan(0);

    inner.dispatchEvent(new StreamMessageEvent(new Uint8Array([4, 2])));
    stream.removeEventListener('message', onMessage);
    inner.dispatchEvent(new StreamMessageEvent(new Uint8Array([9])));
    expect(received).toEqual([[4, 2]]);
  });

  it('push() and unshift() feed the inner stream’s readers in order', async () => {
    const inner = new RecordingStream();
    const stream = new CoalescingMessageStream(inner);
    const received: number[] = [];
    stream.addEventListener('message', (evt) => received.push(...evt.data.subarray()));
    stream.push(new Uint8Array([2]));
    stream.unshift(new Uint8Array([1]));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(received).toEqual([1, 2]);
  });

  it('state, settings, close and abort are the inner stream’s', async () => {
    const inner = new RecordingStream();
    const stream = new CoalescingMessageStream(inner);
    expect(stream.status).toBe('open');
    expect(stream.direction).toBe('outbound');
    expect(stream.timeline).toBe(inner.timeline);

    stream.maxReadBufferLength = 1234;
    stream.inactivityTimeout = 5678;
    stream.maxWriteBufferLength = 99;
    expect([inner.maxReadBufferLength, inner.inactivityTimeout, inner.maxWriteBufferLength]).toEqual([1234, 5678, 99]);

    const closes: Event[] = [];
    stream.addEventListener('close', (evt) => closes.push(evt));
    stream.abort(new Error('done here'));
    expect(inner.status).toBe('aborted');
    expect(stream.status).toBe('aborted');
    expect(inner.resets).toBe(1);
    expect(closes).toHaveLength(1);
    expect(() => stream.send(new Uint8Array([1]))).toThrow(/closed/);
  });
});

describe('CoalescingMessageStream over a socket', () => {
  /** As @libp2p/tcp's connection: `sendData` writes each buffer to its `socket`, stopping at `false`. */
  class SocketStream extends RecordingStream {
    constructor(readonly socket: Socket) {
      super();
    }
    override sendData(data: SendList): { sentBytes: number; canSendMore: boolean } {
      let canSendMore = true;
      for (const buf of data) canSendMore = this.socket.write(buf);
      return { sentBytes: data.byteLength, canSendMore };
    }
  }

  it('send() of a list reaches the socket in one writev, unjoined, and the bytes arrive in order', async () => {
    const received: Buffer[] = [];
    let ended: () => void = () => {};
    const allReceived = new Promise<void>((resolve) => (ended = resolve));
    const server = createServer((peer) => {
      peer.on('data', (chunk: Buffer) => received.push(chunk));
      peer.on('end', ended);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => socket.once('connect', resolve));
    const calls: string[] = [];
    const record = socket as Socket & Record<'_write' | '_writev', (...args: unknown[]) => void>;
    for (const name of ['_write', '_writev'] as const) {
      const original = record[name].bind(socket);
      record[name] = (...args: unknown[]) => {
        calls.push(name);
        original(...args);
      };
    }
    const stream = new CoalescingMessageStream(new SocketStream(socket));
    const body = new Uint8Array(70_000).fill(3);
    stream.send(RecordingStream.list(new Uint8Array([1, 17]), body, new Uint8Array(16).fill(9)));
    expect(calls).toEqual(['_writev']);
    socket.end();
    await allReceived;
    const bytes = Buffer.concat(received);
    expect(bytes.byteLength).toBe(2 + 70_000 + 16);
    expect([bytes[0], bytes[1], bytes[2], bytes.at(-1)]).toEqual([1, 17, 3, 9]);
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('coalesceEncrypterWrites()', () => {
  /** An encrypter that keeps what it was asked to secure (Noise itself needs a whole libp2p). */
  class KeepingEncrypter implements ConnectionEncrypter {
    readonly protocol = '/noise';
    readonly [serviceCapabilities] = ['@libp2p/connection-encryption'];
    readonly secured: MessageStream[] = [];
    async secureInbound(connection: MessageStream): Promise<SecuredConnection> {
      this.secured.push(connection);
      return { connection, remotePeer: peerIdFromPrivateKey(await generateKeyPair('Ed25519')) };
    }
    async secureOutbound(connection: MessageStream): Promise<SecuredConnection> {
      return this.secureInbound(connection);
    }
  }

  it('coalesceEncrypterWrites() keeps the protocol and capabilities and secures a coalescing stream', async () => {
    const inner = new KeepingEncrypter();
    const wrapped = coalesceEncrypterWrites(() => inner)({});
    expect(wrapped.protocol).toBe('/noise');
    // libp2p refuses to start when a service depends on a capability nobody declares.
    expect(Reflect.get(wrapped, serviceCapabilities)).toEqual(['@libp2p/connection-encryption']);

    const raw = new RecordingStream();
    await wrapped.secureOutbound(raw);
    await wrapped.secureInbound(raw);
    expect(inner.secured).toHaveLength(2);
    for (const seen of inner.secured) {
      expect(seen).toBeInstanceOf(CoalescingMessageStream);
      seen.send(noiseLikeList(new Uint8Array([5])));
    }
    expect(raw.writes.map((w) => [...w])).toEqual([
      [0, 1, 5],
      [0, 1, 5],
    ]);
  });
});
