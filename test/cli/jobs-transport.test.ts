import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastPost, parseAnswer } from '../../src/cli/commands/fast-post.js';
import { AgentTimeoutError, AgentUnreachableError, ApiRequestError } from '../../src/cli/errors.js';
import { fdOutput, runCli } from '../../src/cli/main.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('parseAnswer()', () => {
  it('parseAnswer() waits for the whole Content-Length body', () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n';
    expect(parseAnswer(bytes(head + '{"jobId":'), false)).toBeUndefined();
    expect(parseAnswer(bytes(head + '{"jobId":"7"}'), false)).toEqual({ status: 200, body: '{"jobId":"7"}' });
    expect(() => parseAnswer(bytes(head + '{"jo'), true)).toThrow(/closed in the middle of the answer/);
  });

  it('parseAnswer() decodes a chunked body and reads to the end without a length', () => {
    const head = 'HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n';
    expect(parseAnswer(bytes(head + '4\r\n{"a"\r\n'), false)).toBeUndefined();
    expect(parseAnswer(bytes(head + '4\r\n{"a"\r\n4\r\n:1}\n\r\n0\r\n\r\n'), false)).toEqual({
      status: 400,
      body: '{"a":1}\n',
    });
    expect(parseAnswer(bytes('HTTP/1.0 200 OK\r\n\r\n{}'), false)).toBeUndefined();
    expect(parseAnswer(bytes('HTTP/1.0 200 OK\r\n\r\n{}'), true)).toEqual({ status: 200, body: '{}' });
  });

  it('parseAnswer() refuses what is not HTTP', () => {
    expect(() => parseAnswer(bytes('SSH-2.0-OpenSSH\r\n\r\n'), false)).toThrow(/not an HTTP answer/);
    expect(() => parseAnswer(bytes('HTTP/1.1 200'), true)).toThrow(/closed before an HTTP answer/);
  });
});

describe('fastPost()', () => {
  let server: Server;
  let port: number;
  let seen: { method?: string; url?: string; headers: Record<string, unknown>; body: string }[];
  let respond: (res: import('node:http').ServerResponse) => void;

  beforeEach(async () => {
    seen = [];
    respond = (res) => res.end(JSON.stringify({ jobId: '9' }));
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        respond(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const address = () => ({ kind: 'tcp' as const, tls: false, host: '127.0.0.1', port });

  it('fastPost() sends one JSON POST with the token over TCP and reads a chunked answer', async () => {
    respond = (res) => {
      res.write('{"jobId":'); // two writes, no length: node:http sends it chunked
      res.end('"9"}');
    };
    const result = await fastPost<{ jobId: string }>({ address: address(), token: 'secret' }, '/v1/jobs', { a: 'é' });
    expect(result).toEqual({ jobId: '9' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/jobs', body: '{"a":"é"}' });
    expect(seen[0]!.headers).toMatchObject({
      authorization: 'Bearer secret',
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength('{"a":"é"}')),
    });
  });

  it('fastPost() turns an error answer into ApiRequestError with its code', async () => {
    respond = (res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'unavailable', message: 'no leader: retry' } }));
    };
    const error = await fastPost({ address: address() }, '/v1/jobs', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRequestError);
    expect(error).toMatchObject({ status: 503, code: 'unavailable', message: 'no leader: retry' });
  });

  it('fastPost() says when the answer is not JSON', async () => {
    respond = (res) => res.end('<html>');
    await expect(fastPost({ address: address() }, '/v1/jobs', {})).rejects.toThrow(
      /not JSON, which is not how a shoal agent's admin API answers/,
    );
  });

  it('fastPost() times out on an agent that does not answer, as connected', async () => {
    respond = () => {};
    const error = await fastPost({ address: address(), timeoutMs: 100 }, '/v1/jobs', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentTimeoutError);
    expect((error as AgentTimeoutError).connected).toBe(true);
  });

  it('fastPost() reports an address where nothing listens as unreachable', async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const free = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await fastPost(
      { address: { kind: 'tcp', tls: false, host: '127.0.0.1', port: free } },
      '/v1/jobs',
      {},
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentUnreachableError);
    expect((error as Error).message).toMatch(/connection refused \(is `shoal agent` running\?\)/);
  });
});

describe('fdOutput()', () => {
  it('fdOutput() writes short texts to the descriptor and long ones, and all after, to the stream', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-fd-'));
    const file = join(dir, 'out.txt');
    const fd = openSync(file, 'w');
    let streamed = '';
    let opened = 0;
    const output = fdOutput(fd, () => {
      opened++;
      return { write: (text: string) => (streamed += text) };
    });
    output.write('Submitted batch job 17\n');
    output.write('héllo\n');
    expect(opened).toBe(0);
    const long = 'x'.repeat(20_000);
    output.write(long);
    output.write('after\n');
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe('Submitted batch job 17\nhéllo\n');
    expect(streamed).toBe(long + 'after\n');
    expect(opened).toBe(1);
    await rm(dir, { recursive: true, force: true });
  });

  it('fdOutput() falls back to the stream when the descriptor fails', () => {
    let streamed = '';
    const output = fdOutput(987_654, () => ({ write: (text: string) => (streamed += text) }));
    output.write('one\n');
    output.write('two\n');
    expect(streamed).toBe('one\ntwo\n');
  });
});

describe('shoal job submit over https', () => {
  it('goes through the full client (TLS) with one POST', async () => {
    const posts: string[] = [];
    const server = createHttpsServer(
      { cert: readFileSync(join(FIXTURES, 'tls-cert.pem')), key: readFileSync(join(FIXTURES, 'tls-key.pem')) },
      (req, res) => {
        posts.push(`${req.method} ${req.url}`);
        req.resume();
        req.on('end', () => res.end(JSON.stringify({ jobId: '5' })));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const addr = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      let out = '';
      const code = await runCli(
        ['job', 'submit', '--addr', addr, '--cacert', join(FIXTURES, 'tls-cert.pem'), '-q', '--', 'true'],
        {
          env: {},
          stdout: { write: (text: string) => (out += text) },
          stderr: { write: () => true },
          fileExists: () => false,
        },
      );
      expect({ code, out, posts }).toEqual({ code: 0, out: '5\n', posts: ['POST /v1/jobs'] });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
