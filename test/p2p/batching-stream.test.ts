/**
 * The batching wrapper on its own, over a recording stream, with the flush scheduled by hand:
 * what one loop turn sends reaches the inner stream (Noise, in production) as one send.
 */
import {
  BatchingMessageStream,
  endsStreams,
  FLUSH_AT_BYTES,
  NOISE_PLAINTEXT_BYTES,
} from '../../src/p2p/batching-stream.js';
import { RecordingStream } from './recording-stream.js';

/** A Yamux frame header: version, type, flags (uint16), stream id, length. */
function yamuxHeader(type: number, flags: number, length = 0): Uint8Array {
  const header = new Uint8Array(12);
  const view = new DataView(header.buffer);
  view.setUint8(1, type);
  view.setUint16(2, flags);
  view.setUint32(4, 1);
  view.setUint32(8, length);
  return header;
}
const DATA = 0;
const WINDOW_UPDATE = 1;
const GO_AWAY = 3;
const [SYN, ACK, FIN, RST] = [0x1, 0x2, 0x4, 0x8];

/** A data frame as Yamux sends it: its header and its payload in one list. */
function dataFrame(payload: Uint8Array): ReturnType<typeof RecordingStream.list> {
  return RecordingStream.list(yamuxHeader(DATA, 0, payload.byteLength), payload);
}

/** A wrapper over a recording stream whose flush runs when the test calls `turnEnds()`. */
function batching(): { inner: RecordingStream; stream: BatchingMessageStream; turnEnds: () => void } {
  const inner = new RecordingStream();
  const scheduled: Array<() => void> = [];
  const stream = new BatchingMessageStream(inner, (flush) => scheduled.push(flush));
  return { inner, stream, turnEnds: () => scheduled.splice(0).forEach((flush) => flush()) };
}

describe('BatchingMessageStream', () => {
  it('send() holds the sends of one loop turn and hands them to the inner stream as one, in order', () => {
    const { inner, stream, turnEnds } = batching();
    expect(stream.send(dataFrame(new Uint8Array([1, 2])))).toBe(true);
    expect(stream.send(yamuxHeader(WINDOW_UPDATE, 0, 512))).toBe(true);
    expect(stream.send(dataFrame(new Uint8Array([3])))).toBe(true);
    expect(inner.writes).toHaveLength(0);
    expect(stream.writeBufferLength).toBe(14 + 12 + 13);

    turnEnds();
    expect(inner.sends).toHaveLength(1); // one send: one Noise message in production
    const sent = inner.sends[0]!;
    expect(sent.byteLength).toBe(39);
    expect([...sent.subarray(12, 14)]).toEqual([1, 2]);
    expect([...sent.subarray(38)]).toEqual([3]);
    expect(stream.writeBufferLength).toBe(0);
  });

  it('send() keeps a full-size frame for the turn, so the frames after it fill the Noise messages', () => {
    const { inner, stream, turnEnds } = batching();
    const frames = [65_536, 65_536, 1_000].map((n) => dataFrame(new Uint8Array(n).fill(n & 0xff)));
    for (const frame of frames) stream.send(frame);
    expect(inner.sends).toHaveLength(0);
    turnEnds();
    expect(inner.sends.map((sent) => sent.byteLength)).toEqual([3 * 12 + 65_536 * 2 + 1_000]);
    // Noise cuts that one send into 2 full messages and a short one, where the frames alone made 5.
    expect(Math.ceil(inner.sends[0]!.byteLength / NOISE_PLAINTEXT_BYTES)).toBe(3);
  });

  it('send() flushes once the pending bytes reach FLUSH_AT_BYTES, without waiting for the turn', () => {
    const { inner, stream } = batching();
    const quarter = new Uint8Array(FLUSH_AT_BYTES / 4);
    for (let i = 0; i < 3; i++) stream.send(dataFrame(quarter));
    expect(inner.sends).toHaveLength(0);
    stream.send(dataFrame(quarter));
    expect(inner.sends.map((sent) => sent.byteLength)).toEqual([FLUSH_AT_BYTES + 4 * 12]);
    // The list is handed on as is: the payloads were not copied into one buffer.
    expect(inner.writes.filter((w) => w.byteLength === quarter.byteLength).every((w) => w === quarter)).toBe(true);
  });

  it.each([
    ['a window update with FIN (a stream half-closed)', yamuxHeader(WINDOW_UPDATE, FIN)],
    ['a window update with RST (a stream reset)', yamuxHeader(WINDOW_UPDATE, RST)],
    ['a data frame with FIN', yamuxHeader(DATA, FIN | ACK)],
    ['a GoAway (the session ends)', yamuxHeader(GO_AWAY, 0)],
  ])('send() of %s goes out at once with what was pending', (_what, frame) => {
    const { inner, stream } = batching();
    stream.send(dataFrame(new Uint8Array([9])));
    stream.send(frame);
    expect(inner.sends.map((sent) => sent.byteLength)).toEqual([13 + 12]);
  });

  it('endsStreams() is false for data frames and plain window updates, SYN and ACK included', () => {
    expect(endsStreams(dataFrame(new Uint8Array(3)))).toBe(false);
    expect(endsStreams(yamuxHeader(WINDOW_UPDATE, SYN))).toBe(false);
    expect(endsStreams(yamuxHeader(WINDOW_UPDATE, ACK, 4096))).toBe(false);
    expect(endsStreams(RecordingStream.list(yamuxHeader(WINDOW_UPDATE, RST)))).toBe(true);
  });

  it('send() returns false while the inner stream waits for a drain, and nothing is lost', async () => {
    const { inner, stream, turnEnds } = batching();
    inner.accepting = false;
    stream.send(dataFrame(new Uint8Array([1])));
    turnEnds(); // the inner stream takes it and now needs a drain
    expect(stream.writableNeedsDrain).toBe(true);
    expect(stream.send(dataFrame(new Uint8Array([2])))).toBe(false);
    turnEnds();
    const drained = stream.onDrain();
    inner.accepting = true;
    inner.safeDispatchEvent('drain');
    await drained;
    await new Promise((resolve) => setImmediate(resolve));
    expect(inner.sends.map((sent) => sent.at(-1))).toEqual([1, 2]);
    expect(stream.send(dataFrame(new Uint8Array([3])))).toBe(true);
  });

  it('close() sends what is pending before closing; abort() drops it and aborts the inner stream', async () => {
    const closing = batching();
    closing.stream.send(dataFrame(new Uint8Array([5])));
    await closing.stream.close();
    expect(closing.inner.sends).toHaveLength(1);

    const aborting = batching();
    aborting.stream.send(dataFrame(new Uint8Array([6])));
    aborting.stream.abort(new Error('gone'));
    aborting.turnEnds();
    expect(aborting.inner.sends).toHaveLength(0);
    expect(aborting.inner.status).toBe('aborted');
    expect(aborting.stream.writeBufferLength).toBe(0);
  });
});
