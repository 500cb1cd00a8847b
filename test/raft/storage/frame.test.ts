import { encodeFrame, findValidFrameAfter, scanFrames } from '../../../src/raft/storage/frame.js';
import { decodeWalRecord, encodeWalRecord, RecordError, type WalRecord } from '../../../src/raft/storage/records.js';
import { entries, hardState } from './helpers.js';

/** A small seeded generator (mulberry32), so a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('frames', () => {
  it('scanFrames() reads back every frame of a buffer and their offsets', () => {
    const payloads = [new Uint8Array([1]), new Uint8Array(300).fill(7), new Uint8Array([2, 3])];
    const frames = payloads.map((p) => encodeFrame(p));
    const { frames: read, problem } = scanFrames(Buffer.concat(frames));
    expect(problem).toBeUndefined();
    expect(read.map((f) => [f.offset, [...f.payload].length])).toEqual([
      [0, 1],
      [9, 300],
      [317, 2],
    ]);
    expect(new Uint8Array(read[1]!.payload)).toEqual(payloads[1]);
  });

  it('encodeFrame() refuses an empty payload, and zero bytes never scan as frames', () => {
    expect(() => encodeFrame(new Uint8Array())).toThrow(RangeError);
    const { frames, problem } = scanFrames(Buffer.alloc(64));
    expect(frames).toEqual([]);
    expect(problem?.reason).toMatch(/length 0/);
    expect(findValidFrameAfter(Buffer.alloc(64), 0)).toBe(-1);
  });

  it('findValidFrameAfter() finds the next good frame after damage', () => {
    const buf = Buffer.concat([encodeFrame(new Uint8Array([1, 2, 3])), encodeFrame(new Uint8Array([4, 5]))]);
    buf[9] = 0xee; // payload of the first frame
    expect(scanFrames(buf).problem?.reason).toMatch(/checksum mismatch/);
    expect(findValidFrameAfter(buf, 0)).toBe(11);
  });
});

describe('WAL records', () => {
  it('decodeWalRecord() round-trips every record kind', () => {
    const records: WalRecord[] = [
      { kind: 'header', seq: 3, hardState: hardState(2, 'x', 1), reset: { index: 0, term: 0 } },
      { kind: 'entries', entries: entries(4, 6, 2) },
      { kind: 'hardState', hardState: hardState(5, null, 9) },
      { kind: 'snapshot', position: { index: 40, term: 3 } },
    ];
    for (const record of records) expect(decodeWalRecord(new Uint8Array(encodeWalRecord(record)))).toEqual(record);
  });

  it('decodeWalRecord() rejects random payloads and mutated records with RecordError, never anything else', () => {
    const random = prng(42);
    const valid = new Uint8Array(encodeWalRecord({ kind: 'entries', entries: entries(1, 3, 1) }));
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      let payload: Uint8Array;
      if (i % 2 === 0) {
        payload = new Uint8Array(1 + Math.floor(random() * 40)).map(() => Math.floor(random() * 256));
      } else {
        payload = valid.slice();
        payload[Math.floor(random() * payload.length)] = Math.floor(random() * 256);
      }
      try {
        const record = decodeWalRecord(payload);
        accepted++;
        // A mutation may still be a well-formed record (e.g. another term); it must be a full one.
        expect(['header', 'entries', 'hardState', 'snapshot']).toContain(record.kind);
      } catch (e) {
        expect(e).toBeInstanceOf(RecordError);
      }
    }
    expect(accepted).toBeLessThan(2000);
  });
});
