import { createServer } from 'node:http';
import {
  ApiClient,
  ApiRequestError,
  NotShoalAgentError,
  UsageError,
  formatAddress,
  parseAddress,
  parseDuration,
  resolveAddress,
} from '../../src/cli/index.js';

describe('parseAddress()', () => {
  it.each([
    ['unix:///var/lib/shoal/shoal.sock', { kind: 'unix', path: '/var/lib/shoal/shoal.sock' }],
    ['/run/shoal.sock', { kind: 'unix', path: '/run/shoal.sock' }],
    ['data/shoal.sock', { kind: 'unix', path: 'data/shoal.sock' }],
    ['10.0.0.5:7900', { kind: 'tcp', tls: false, host: '10.0.0.5', port: 7900 }],
    ['node1', { kind: 'tcp', tls: false, host: 'node1', port: 7900 }],
    ['[::1]:8000', { kind: 'tcp', tls: false, host: '::1', port: 8000 }],
    ['tcp://node1:7901', { kind: 'tcp', tls: false, host: 'node1', port: 7901 }],
    ['http://node1:7901', { kind: 'tcp', tls: false, host: 'node1', port: 7901 }],
    ['https://node1:7443', { kind: 'tcp', tls: true, host: 'node1', port: 7443 }],
    ['https://node1', { kind: 'tcp', tls: true, host: 'node1', port: 443 }],
  ])('parseAddress(%j)', (text, expected) => {
    expect(parseAddress(text)).toEqual(expected);
  });

  it.each([
    ['', /it is empty/],
    ['unix://', /no socket path/],
    ['ftp://x', /unknown scheme ftp/],
    ['http://x:7900/v1', /only a host and a port/],
    ['x:notaport', /not a host:port/],
  ])('parseAddress(%j) is a usage error', (text, message) => {
    expect(() => parseAddress(text)).toThrow(UsageError);
    expect(() => parseAddress(text)).toThrow(message);
  });

  it('formatAddress() writes what parseAddress() reads', () => {
    for (const text of ['unix:///x/shoal.sock', '10.0.0.5:7900', '[::1]:7900', 'https://node1:7443']) {
      expect(formatAddress(parseAddress(text))).toBe(text);
    }
  });
});

describe('resolveAddress()', () => {
  const none = () => false;
  it('prefers --addr, then SHOAL_ADDR, then SHOAL_DATA_DIR', () => {
    const env = { SHOAL_ADDR: 'a:1', SHOAL_DATA_DIR: '/d' };
    expect(resolveAddress({ flag: 'b:2', env, fileExists: none })).toEqual({
      address: parseAddress('b:2'),
      source: '--addr',
    });
    expect(resolveAddress({ env, fileExists: none }).source).toBe('SHOAL_ADDR');
    expect(resolveAddress({ env: { SHOAL_DATA_DIR: '/d/' }, fileExists: none })).toEqual({
      address: { kind: 'unix', path: '/d/shoal.sock' },
      source: 'SHOAL_DATA_DIR',
    });
  });

  it('falls back to the packaged socket when it exists, else 127.0.0.1:7900', () => {
    expect(resolveAddress({ env: {}, fileExists: (path) => path === '/var/lib/shoal/shoal.sock' }).address).toEqual({
      kind: 'unix',
      path: '/var/lib/shoal/shoal.sock',
    });
    expect(formatAddress(resolveAddress({ env: {}, fileExists: none }).address)).toBe('127.0.0.1:7900');
  });
});

describe('parseDuration()', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['3', 3000],
  ])('parseDuration(%j) is %d ms', (text, ms) => {
    expect(parseDuration(text, '--timeout')).toBe(ms);
  });

  it.each(['', '0', '-1s', '10 sec', 'soon'])('parseDuration(%j) is a usage error', (text) => {
    expect(() => parseDuration(text, '--timeout')).toThrow(UsageError);
  });
});

describe('ApiClient', () => {
  it('call() reports an answer that is not JSON as not a shoal agent (unreachable), naming the address', async () => {
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const client = new ApiClient({ address: parseAddress(`127.0.0.1:${port}`) });
      await expect(client.call('GET', '/v1/status')).rejects.toThrow(NotShoalAgentError);
      await expect(client.call('GET', '/v1/status')).rejects.toThrow(
        `cannot reach the shoal agent at 127.0.0.1:${port}: it answered HTTP 200 with something that is not JSON`,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('call() maps an error answer without a known code by its HTTP status', async () => {
    const server = createServer((_req, res) =>
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"busy"}}'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const error = await new ApiClient({ address: parseAddress(`127.0.0.1:${port}`) })
        .call('GET', '/x')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiRequestError);
      expect(error).toMatchObject({ status: 503, code: 'unavailable', message: 'busy' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
