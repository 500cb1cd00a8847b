import { decodeLogs, LogDecoder, parseLine } from '../../src/runtime/index.js';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('LogDecoder', () => {
  it('decodeLogs() splits multiplexed frames into stdout and stderr lines with their times', () => {
    const buf = Buffer.concat([
      frame(1, '2026-01-02T03:04:05.123456789Z hello\n'),
      frame(2, '2026-01-02T03:04:06Z oops\n'),
    ]);
    expect(decodeLogs(buf, false)).toEqual([
      { stream: 'stdout', time: Date.parse('2026-01-02T03:04:05.123Z'), line: 'hello' },
      { stream: 'stderr', time: Date.parse('2026-01-02T03:04:06Z'), line: 'oops' },
    ]);
  });

  it('LogDecoder.push() joins frames and lines cut anywhere', () => {
    const buf = Buffer.concat([frame(1, '2026-01-02T03:04:05Z par'), frame(1, 'tial\n2026-01-02T03:04:05Z next')]);
    const d = new LogDecoder(false);
    const out = [];
    for (let i = 0; i < buf.length; i += 3) out.push(...d.push(buf.subarray(i, i + 3)));
    out.push(...d.end());
    expect(out.map((l) => l.line)).toEqual(['partial', 'next']);
  });

  it('LogDecoder reads a TTY stream as raw stdout and drops carriage returns', () => {
    expect(decodeLogs(Buffer.from('2026-01-02T03:04:05Z a\r\n2026-01-02T03:04:05Z b\r\n'), true)).toEqual([
      { stream: 'stdout', time: Date.parse('2026-01-02T03:04:05Z'), line: 'a' },
      { stream: 'stdout', time: Date.parse('2026-01-02T03:04:05Z'), line: 'b' },
    ]);
  });

  it.each([
    ['2026-01-02T03:04:05.5+01:00 x', Date.parse('2026-01-02T02:04:05.500Z'), 'x'],
    ['no stamp here', 0, 'no stamp here'],
    ['2026-01-02T03:04:05Z ', Date.parse('2026-01-02T03:04:05Z'), ''],
  ])('parseLine(%j) reads time %i', (raw, time, line) => {
    expect(parseLine('stdout', raw)).toEqual({ stream: 'stdout', time, line });
  });
});
