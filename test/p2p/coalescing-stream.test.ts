/**
 * The coalescing wrapper on its own. The inner stream is libp2p's own AbstractMessageStream (the
 * base of @libp2p/tcp's connection) whose `sendData` records the buffers it would hand the
 * socket one `write` each, as @libp2p/tcp does.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { defaultLogger } from '@libp2p/logger';
import { AbstractMessageStream } from '@libp2p/utils';
import type { SendResult } from '@libp2p/utils';
import { serviceCapabilities, StreamMessageEvent } from '@libp2p/interface';
import type { ConnectionEncrypter, MessageStream, SecuredConnection } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { CoalescingMessageStream, toSingleBuffer } from '../../src/p2p/coalescing-stream.js';
import { coalesceEncrypterWrites } from '../../src/p2p/coalescing-encrypter.js';

type SendList = Parameters<AbstractMessageStream['sendData']>[0];

/** A message stream whose "socket" records each write and accepts more while `accepting`. */
class RecordingStream extends AbstractMessageStream {
  readonly writes: Uint8Array[] = [];
  accepting = true;
  resets = 0;

  constructor() {
    super({ log: defaultLogger().forComponent('test:recording-stream'), direction: 'outbound' });
  }

  sendData(data: SendList): SendResult {
    for (const buf of data) this.writes.push(buf);
    return { sentBytes: data.byteLength, canSendMore: this.accepting };
  }
  sendReset(): void {
    this.resets++;
  }
  sendPause(): void {}
  sendResume(): void {}
  async close(): Promise<void> {
    this.onTransportClosed();
  }
  /** A Uint8ArrayList of the version libp2p uses (several are installed side by side). */
  static list(...bufs: Uint8Array[]): SendList {
    const list = new RecordingStream().writeBuffer.sublist(0, 0);
    for (const buf of bufs) list.append(buf);
    return list;
  }
}

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
