/**
 * pullImage() through a real Docker Engine from a registry that stops sending mid-blob (a small
 * HTTP server on loopback that speaks just enough of the registry API): the stall timeout ends
 * the pull, where a total timeout would have had to guess the image's size.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type Docker from 'dockerode';
import { pullImage, PullFailedError } from '../../src/runtime/image-pull.js';
import { requireDocker, TestNode } from './docker-harness.js';
import { serviceFromCompose } from './fixtures.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const LAYER_SIZE = 4 * 1024 * 1024;
const LAYER_DIGEST = `sha256:${'c'.repeat(64)}`; // never checked: the blob never ends
const CONFIG = Buffer.from(
  JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: [`sha256:${'d'.repeat(64)}`] },
  }),
);
const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: CONFIG.length, digest: sha(CONFIG) },
    layers: [
      { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: LAYER_SIZE, digest: LAYER_DIGEST },
    ],
  }),
);

let docker: Docker;
let server: Server;
let host: string;
const sockets = new Set<Socket>();
let layerBytesSent = 0;

function send(res: ServerResponse, type: string, body: Buffer, head: boolean): void {
  res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'docker-content-digest': sha(body) });
  res.end(head ? undefined : body);
}

beforeAll(async () => {
  docker = await requireDocker();
  server = createServer((req, res) => {
    const head = req.method === 'HEAD';
    const url = req.url ?? '';
    if (url === '/v2/' || url === '/v2') return send(res, 'application/json', Buffer.from('{}'), head);
    if (url.includes('/manifests/'))
      return send(res, 'application/vnd.docker.distribution.manifest.v2+json', MANIFEST, head);
    if (url.endsWith(`/blobs/${sha(CONFIG)}`)) return send(res, 'application/octet-stream', CONFIG, head);
    if (url.endsWith(`/blobs/${LAYER_DIGEST}`)) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': LAYER_SIZE });
      if (head) return res.end();
      const part = Buffer.alloc(256 * 1024, 1);
      layerBytesSent += part.length;
      res.write(part); // and then nothing more: the registry hangs mid-blob
      return;
    }
    res.writeHead(404);
    res.end();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server?.close(r));
});

describe('pullImage() with a registry that stops sending', () => {
  it('pullImage() gives up once the engine reports no progress for the stall timeout, saying so', async () => {
    const progress: string[] = [];
    const error = await pullImage(docker, `${host}/hang:v1`, {
      stallMs: 2_000,
      progressEveryMs: 0,
      onProgress: (m) => progress.push(m),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PullFailedError);
    expect((error as Error).message).toBe('pull stalled: no progress for 2 s');
    expect(layerBytesSent).toBeGreaterThan(0); // it did start on the blob
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((m) => /^pulling \d+ %$/.test(m))).toBe(true);
    await expect(docker.getImage(`${host}/hang:v1`).inspect()).rejects.toMatchObject({ statusCode: 404 });
  }, 60_000);

  it('NodeRuntime reports the pull in the task message and rejects the task once the pull stalls', async () => {
    const node = new TestNode(docker, { driver: { pull: 'missing', pullStallMs: 2_000 } });
    await node.runtime.start();
    try {
      node.put('stall-1', serviceFromCompose(`image: ${host}/hang:v2`));
      const t = await node.until('stall-1', 'rejected', 30_000);
      expect(t.message).toMatch(/could not be pulled \(pull stalled: no progress for 2 s\)/);
      const pulling = node.reports.filter((r) => r.state === 'preparing' && /^pulling \d+ %$/.test(r.message));
      expect(pulling.length).toBeGreaterThan(0);
    } finally {
      await node.close();
    }
  }, 60_000);
});
