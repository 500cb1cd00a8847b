/** registryDigest() against a small registry on loopback: HEAD, the token flow, Basic auth, failures. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  MANIFEST_ACCEPT,
  parseChallenge,
  registryDigest,
  RegistryRefusedError,
  RegistryUnreachableError,
} from '../../src/runtime/registry-digest.js';
import { parseImageRef } from '../../src/runtime/image-ref.js';

const DIGEST = `sha256:${'b'.repeat(64)}`;
const MANIFEST = '{"schemaVersion":2}';
type Handler = (req: IncomingMessage, res: ServerResponse, base: string) => void;

let server: Server;
let base: string;
let handler: Handler;
const seen: { method: string; url: string; accept?: string; authorization?: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({
      method: req.method!,
      url: req.url!,
      accept: req.headers.accept,
      authorization: req.headers.authorization,
    });
    handler(req, res, base);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));
beforeEach(() => (seen.length = 0));

const ref = () => parseImageRef(`${base}/team/app:v1`);
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('registryDigest()', () => {
  it('registryDigest() answers the Docker-Content-Digest of a HEAD that accepts indexes and manifests', async () => {
    handler = (req, res) => {
      res.writeHead(req.url === '/v2/team/app/manifests/v1' ? 200 : 404, { 'docker-content-digest': DIGEST });
      res.end();
    };
    await expect(registryDigest(ref())).resolves.toBe(DIGEST);
    expect(seen).toEqual([
      { method: 'HEAD', url: '/v2/team/app/manifests/v1', accept: MANIFEST_ACCEPT, authorization: undefined },
    ]);
    expect(MANIFEST_ACCEPT).toContain('application/vnd.oci.image.index.v1+json');
    expect(MANIFEST_ACCEPT).toContain('application/vnd.docker.distribution.manifest.list.v2+json');
  });

  it('registryDigest() follows a Bearer challenge: a token for the pull scope, fetched with the credentials', async () => {
    handler = (req, res, host) => {
      if (req.url!.startsWith('/token')) {
        const ok = req.headers.authorization === basic('alice', 's3cret');
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        return res.end(ok ? JSON.stringify({ token: 'tok-1' }) : '{}');
      }
      if (req.headers.authorization === 'Bearer tok-1') {
        res.writeHead(200, { 'docker-content-digest': DIGEST });
        return res.end();
      }
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://${host}/token",service="test-registry",scope="repository:team/app:pull"`,
      });
      res.end();
    };
    const credential = () => ({ username: 'alice', password: 's3cret' });
    await expect(registryDigest(ref(), { credential })).resolves.toBe(DIGEST);
    const token = new URL(`http://x${seen[1]!.url}`);
    expect(token.pathname).toBe('/token');
    expect(token.searchParams.get('service')).toBe('test-registry');
    expect(token.searchParams.get('scope')).toBe('repository:team/app:pull');
    expect(seen[2]!.authorization).toBe('Bearer tok-1');
  });

  it('registryDigest() without credentials says to log in when the token service refuses', async () => {
    const error = await registryDigest(ref()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryRefusedError);
    expect((error as Error).message).toMatch(/--with-registry-auth/);
  });

  it('registryDigest() answers a Basic challenge with the credentials', async () => {
    handler = (req, res) => {
      const ok = req.headers.authorization === basic('bob', 'pw');
      res.writeHead(
        ok ? 200 : 401,
        ok ? { 'docker-content-digest': DIGEST } : { 'www-authenticate': 'Basic realm="r"' },
      );
      res.end();
    };
    await expect(registryDigest(ref(), { credential: () => ({ username: 'bob', password: 'pw' }) })).resolves.toBe(
      DIGEST,
    );
  });

  it('registryDigest() hashes the manifest when the HEAD carries no digest', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' });
      res.end(req.method === 'GET' ? MANIFEST : undefined);
    };
    const expected = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;
    await expect(registryDigest(ref())).resolves.toBe(expected);
  });

  it.each([
    [404, RegistryRefusedError],
    [503, RegistryUnreachableError],
  ])('registryDigest() turns HTTP %i into %p', async (status, kind) => {
    handler = (_req, res) => {
      res.writeHead(status);
      res.end();
    };
    await expect(registryDigest(ref())).rejects.toBeInstanceOf(kind);
  });

  it('registryDigest() calls a closed port unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(registryDigest(parseImageRef(`127.0.0.1:${port}/app:v1`))).rejects.toBeInstanceOf(
      RegistryUnreachableError,
    );
  });

  it('registryDigest() gives up on a registry that does not answer within its timeout', async () => {
    handler = () => undefined; // never answers
    const error = await registryDigest(ref(), { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryUnreachableError);
    expect((error as Error).message).toMatch(/no answer within 200 ms/);
  });
});

describe('parseChallenge()', () => {
  it('parseChallenge() reads the scheme and quoted parameters', () => {
    expect(
      parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="a:b:pull"'),
    ).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'a:b:pull' },
    });
    expect(parseChallenge('Basic realm=x').scheme).toBe('basic');
  });
});
