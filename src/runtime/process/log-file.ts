/**
 * Reading a task's output for `job logs`: the supervisor's timestamped `output.log` (or, on hosts
 * without Perl, the two raw files), with tail, since and follow.
 *
 * @module
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LogLine, LogOptions } from '../types.js';
import { FILES } from './wrapper.js';

/** Parses one line of `output.log`; `fallbackTime` for lines the supervisor could not stamp. */
export function parseOutputLine(text: string, fallbackTime: number): LogLine | null {
  const m = /^([OE]) (\d+|-) ?(.*)$/s.exec(text);
  if (!m) return null;
  return {
    stream: m[1] === 'O' ? 'stdout' : 'stderr',
    time: m[2] === '-' ? fallbackTime : Number(m[2]),
    line: m[3]!,
  };
}

/** What {@link readLogs} needs to know about the task. */
export interface LogSource {
  readonly dir: string;
  /** For lines without their own time. */
  readonly startedAt: number;
  /** Whether the task still runs (follow ends once it does not and the output is drained). */
  readonly running: () => boolean;
  /** How often to look for new output while following. Default 100 ms. */
  readonly pollMs?: number;
}

/** The task's output lines, oldest first, filtered by `options`. */
export async function* readLogs(source: LogSource, options: LogOptions = {}): AsyncGenerator<LogLine> {
  const keep = (l: LogLine) => options.since === undefined || l.time >= options.since;
  const file = path.join(source.dir, FILES.output);
  let offset = 0;
  let rest = '';
  const readNew = async (): Promise<LogLine[]> => {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch {
      return []; // no output yet (or a host without Perl: raw files below)
    }
    try {
      const out: LogLine[] = [];
      for (let i = 0; i < 10_000; i++) {
        const buf = Buffer.alloc(1 << 16);
        const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        const lines = (rest + buf.subarray(0, bytesRead).toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        for (const text of lines) {
          const l = parseOutputLine(text, source.startedAt);
          if (l && keep(l)) out.push(l);
        }
      }
      return out;
    } finally {
      await handle.close();
    }
  };
  const first = [...(await readNew()), ...(await readRaw(source, keep))];
  const tail = options.tail;
  yield* tail === undefined ? first : tail <= 0 ? [] : first.slice(-tail);
  if (!options.follow) return;
  const signal = options.signal;
  for (let i = 0; !signal?.aborted; i++) {
    const done = !source.running();
    yield* await readNew();
    if (done) return;
    await sleep(source.pollMs ?? 100, signal);
  }
}

/** The raw files of a host without Perl: stdout's lines, then stderr's, all at the start time. */
async function readRaw(source: LogSource, keep: (l: LogLine) => boolean): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for (const [name, stream] of [
    [FILES.stdoutRaw, 'stdout'],
    [FILES.stderrRaw, 'stderr'],
  ] as const) {
    let text: string;
    try {
      text = await fs.readFile(path.join(source.dir, name), 'utf8');
    } catch {
      continue;
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (const line of lines) {
      const l: LogLine = { stream, time: source.startedAt, line };
      if (keep(l)) out.push(l);
    }
  }
  return out;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
