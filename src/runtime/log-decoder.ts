/**
 * Decodes the Docker log stream, pure: the multiplexed framing of non-TTY containers (an 8-byte
 * header: stream type, three zero bytes, big-endian payload length) or the raw stream of TTY
 * containers, with the engine's RFC 3339 timestamps in front of each line (`timestamps: true`).
 * Frames and lines may be cut anywhere by the transport, so the decoder keeps the partial rest.
 *
 * @module
 */
import type { LogLine } from './types.js';

const HEADER = 8;

/** Incremental decoder; feed chunks with {@link LogDecoder.push}, flush with {@link LogDecoder.end}. */
export class LogDecoder {
  #frame: Buffer = Buffer.alloc(0);
  readonly #partial = { stdout: '', stderr: '' };

  /** @param tty The container runs with a TTY: its stream is raw (all stdout), not multiplexed. */
  constructor(readonly tty: boolean) {}

  push(chunk: Buffer): LogLine[] {
    if (this.tty) return this.#text('stdout', chunk.toString('utf8'));
    this.#frame = this.#frame.length === 0 ? chunk : Buffer.concat([this.#frame, chunk]);
    const out: LogLine[] = [];
    while (this.#frame.length >= HEADER) {
      const size = this.#frame.readUInt32BE(4);
      if (this.#frame.length < HEADER + size) break;
      const stream = this.#frame[0] === 2 ? 'stderr' : 'stdout';
      out.push(...this.#text(stream, this.#frame.subarray(HEADER, HEADER + size).toString('utf8')));
      this.#frame = this.#frame.subarray(HEADER + size);
    }
    return out;
  }

  /** The last lines without a trailing newline. */
  end(): LogLine[] {
    const out: LogLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.#partial[stream] !== '') out.push(parseLine(stream, this.#partial[stream]));
      this.#partial[stream] = '';
    }
    return out;
  }

  #text(stream: 'stdout' | 'stderr', text: string): LogLine[] {
    const pieces = (this.#partial[stream] + text).split('\n');
    this.#partial[stream] = pieces.pop() ?? '';
    return pieces.map((p) => parseLine(stream, p));
  }
}

const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d) /;

/** Splits the engine's timestamp off a line; a line without one gets time 0. */
export function parseLine(stream: 'stdout' | 'stderr', raw: string): LogLine {
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const m = STAMP.exec(text);
  if (!m) return { stream, time: 0, line: text };
  const ms = m[2] ? m[2].slice(0, 4).padEnd(4, '0') : '';
  return { stream, time: Date.parse(`${m[1]}${ms}${m[3]}`), line: text.slice(m[0].length) };
}

/** Decodes a whole log buffer (a non-follow read). */
export function decodeLogs(buffer: Buffer, tty: boolean): LogLine[] {
  const d = new LogDecoder(tty);
  return [...d.push(buffer), ...d.end()];
}
