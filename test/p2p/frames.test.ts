import { decode, encode } from 'cbor-x';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  FrameTooLargeError,
  MalformedFrameError,
  encodeFrame,
} from '../../src/p2p/index.js';

/** A frame with an arbitrary body, bypassing encodeFrame's checks. */
function rawFrame(body: Uint8Array, announced = body.byteLength): Uint8Array {
  const frame = new Uint8Array(4 + body.byteLength);
  new DataView(frame.buffer).setUint32(0, announced);
  frame.set(body, 4);
  return frame;
}

describe('encodeFrame()', () => {
  it('encodeFrame() prefixes the CBOR body with its length as a big-endian uint32', () => {
    const frame = encodeFrame({ a: 1, b: 'x'.repeat(300) });
    expect(new DataView(frame.buffer).getUint32(0)).toBe(frame.byteLength - 4);
    expect(decode(frame.subarray(4))).toEqual({ a: 1, b: 'x'.repeat(300) });
  });

  it('encodeFrame() refuses a value over the limit before sending anything', () => {
    expect(() => encodeFrame(new Uint8Array(100), { maxFrameBytes: 50 })).toThrow(FrameTooLargeError);
    expect(() => encodeFrame(new Uint8Array(100), { maxFrameBytes: 50 })).toThrow(/over the limit of 50 bytes/);
  });

  it.each([0, -1, 1.5, 2 ** 32])('encodeFrame() rejects maxFrameBytes %p', (limit) => {
    expect(() => encodeFrame(1, { maxFrameBytes: limit })).toThrow(RangeError);
  });

  it('uses a 16 MiB default limit', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(16 * 1024 * 1024);
  });
});

describe('FrameDecoder', () => {
  const values = [{ type: 'vote', n: 1 }, [1, 2, 3], new Uint8Array([5, 6]), 'text', 42, null];

  it('FrameDecoder.push() decodes frames split at every byte boundary', () => {
    const wire = Buffer.concat(values.map((v) => encodeFrame(v)));
    const decoder = new FrameDecoder();
    const out: unknown[] = [];
    for (const byte of wire) out.push(...decoder.push(new Uint8Array([byte])));
    expect(out).toEqual(values);
    expect(decoder.hasPartialFrame).toBe(false);
  });

  it('FrameDecoder.push() decodes several frames from one chunk and keeps a partial one', () => {
    const wire = Buffer.concat(values.map((v) => encodeFrame(v)));
    const decoder = new FrameDecoder();
    expect(decoder.push(wire.subarray(0, wire.byteLength - 2))).toEqual(values.slice(0, -1));
    expect(decoder.hasPartialFrame).toBe(true);
    expect(decoder.push(wire.subarray(wire.byteLength - 2))).toEqual([null]);
  });

  it('FrameDecoder.push() returns Uint8Array byte strings as Uint8Array', () => {
    const [value] = new FrameDecoder().push(encodeFrame({ data: new Uint8Array([1, 2]) })) as [{ data: unknown }];
    expect(value.data).toBeInstanceOf(Uint8Array);
    expect(value.data).toEqual(new Uint8Array([1, 2]));
  });

  it('FrameDecoder.push() refuses an oversized frame from its 4-byte header alone', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, 1025);
    expect(() => decoder.push(header)).toThrow(FrameTooLargeError);
    const header2 = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
    expect(() => new FrameDecoder().push(header2)).toThrow(/announces 4294967295 bytes, over the limit of 16777216/);
  });

  it('FrameDecoder.push() accepts a frame of exactly the limit', () => {
    const body = encode('x'.repeat(100));
    const decoder = new FrameDecoder({ maxFrameBytes: body.byteLength });
    expect(decoder.push(rawFrame(body))).toEqual(['x'.repeat(100)]);
  });

  it.each([
    ['an empty frame', rawFrame(new Uint8Array(0)), /length prefix is 0/],
    ['a truncated CBOR item', rawFrame(encode({ a: 'long string' }).subarray(0, 5)), /as CBOR/],
    ['trailing bytes after the item', rawFrame(new Uint8Array([...encode(1), 0x01])), /as CBOR/],
    ['absurd nesting', rawFrame(new Uint8Array(200_000).fill(0x81)), /as CBOR/],
    ['a reserved CBOR byte', rawFrame(new Uint8Array([0x1c])), /as CBOR/],
  ])('FrameDecoder.push() throws MalformedFrameError for %s', (_name, wire, message) => {
    const decoder = new FrameDecoder();
    let thrown: unknown;
    try {
      decoder.push(wire);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(MalformedFrameError);
    expect((thrown as Error).message).toMatch(message);
  });
});
