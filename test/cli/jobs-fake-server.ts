/**
 * A fake admin API on a unix socket for the batch CLI tests: it records every request (method,
 * path, query, body) and answers from a table of canned responses keyed by `METHOD /path`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/index.js';

export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body: unknown;
}

/** A canned answer: a status and a JSON body, or NDJSON lines for a stream. */
export type Answer = { status?: number; json?: unknown; ndjson?: unknown[] };

export interface FakeServer {
  readonly addr: string;
  readonly requests: Recorded[];
  /** Answers by `METHOD /path` (no query); anything else is a 404 `not_found`. */
  readonly answers: Map<string, Answer>;
  close(): Promise<void>;
}

export async function startFakeServer(): Promise<FakeServer> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-jobs-cli-'));
  const socketPath = join(dir, 'api.sock');
  const requests: Recorded[] = [];
  const answers = new Map<string, Answer>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = Buffer.concat(chunks).toString('utf8');
      requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: text === '' ? undefined : JSON.parse(text),
      });
      const answer = answers.get(`${req.method} ${url.pathname}`) ?? {
        status: 404,
        json: { error: { code: 'not_found', message: `no route ${req.method} ${url.pathname}` } },
      };
      if (answer.ndjson !== undefined) {
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/x-ndjson' });
        res.end(answer.ndjson.map((item) => JSON.stringify(item) + '\n').join(''));
        return;
      }
      const body = JSON.stringify(answer.json ?? null) + '\n';
      res.writeHead(answer.status ?? 200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    addr: `unix://${socketPath}`,
    requests,
    answers,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Run {
  code: number;
  out: string;
  err: string;
}

/** Run the CLI in process against `server`, with the clock at `now`. */
export async function runAgainst(server: FakeServer, argv: string[], now = 0): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(['--addr', server.addr, ...argv], {
    env: {},
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    fileExists: () => false,
    now: () => now,
  });
  return { code, out, err };
}
