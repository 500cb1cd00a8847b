/** resolveImageDigest(): the registry decides; a node that has the image when the registry cannot. */
import { parseImageRef, type ImageRef } from '../../src/runtime/image-ref.js';
import { RegistryRefusedError, RegistryUnreachableError } from '../../src/runtime/registry-digest.js';
import { ImageUnresolvedError, resolveImageDigest, type NodeImage } from '../../src/runtime/resolve-image.js';
import { PullProgress } from '../../src/runtime/image-pull.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const ID = `sha256:${'9'.repeat(64)}`;

const registry = (answer: string | Error) => async (_ref: ImageRef) => {
  if (answer instanceof Error) throw answer;
  return answer;
};
const node = (image: NodeImage | null) => async () => image;

describe('resolveImageDigest()', () => {
  it('resolveImageDigest() pins the registry digest and keeps the tag for display', async () => {
    const resolved = await resolveImageDigest('127.0.0.1:5000/app:v1', { registry: registry(D1) });
    expect(resolved).toEqual({ image: `127.0.0.1:5000/app:v1@${D1}`, digest: D1, source: 'registry' });
  });

  it('resolveImageDigest() leaves a pinned reference as it is, without asking anyone', async () => {
    const resolved = await resolveImageDigest(`app:v1@${D1}`, {
      registry: () => Promise.reject(new Error('not asked')),
    });
    expect(resolved).toEqual({ image: `app:v1@${D1}`, digest: D1, source: 'given' });
  });

  it("resolveImageDigest() falls back to a node's repo digest for the same repository when the registry is unreachable", async () => {
    const resolved = await resolveImageDigest('127.0.0.1:5000/app:v1', {
      registry: registry(new RegistryUnreachableError('Cannot reach the registry at 127.0.0.1:5000: ECONNREFUSED')),
      nodeImage: node({ repoDigests: [`other/app@${D2}`, `127.0.0.1:5000/app@${D1}`], id: ID }),
    });
    expect(resolved).toMatchObject({ image: `127.0.0.1:5000/app:v1@${D1}`, digest: D1, source: 'node' });
    expect(resolved.note).toMatch(/ECONNREFUSED/);
  });

  it('resolveImageDigest() pins a local-only image (no repo digest) to its image id', async () => {
    const resolved = await resolveImageDigest('shoal-test/busybox:latest', {
      registry: registry(new RegistryRefusedError('no such tag', 404)),
      nodeImage: node({ repoDigests: [], id: ID }),
    });
    expect(resolved).toMatchObject({ image: `shoal-test/busybox:latest@${ID}`, digest: ID, source: 'local' });
  });

  it('resolveImageDigest() says what failed when neither the registry nor a node knows the tag', async () => {
    const error = await resolveImageDigest('127.0.0.1:5000/app:v1', {
      registry: registry(new RegistryUnreachableError('Cannot reach the registry at 127.0.0.1:5000')),
      nodeImage: node(null),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageUnresolvedError);
    expect((error as Error).message).toMatch(/Cannot reach the registry.*no node has the image 127.0.0.1:5000\/app:v1/);
  });

  it('resolveImageDigest() refuses a reference Docker would not read', async () => {
    await expect(resolveImageDigest('App:v1', { registry: registry(D1) })).rejects.toBeInstanceOf(RangeError);
  });

  it('resolveImageDigest() does not hide an unexpected failure behind the fallback', async () => {
    await expect(
      resolveImageDigest('app:v1', {
        registry: registry(new TypeError('bug')),
        nodeImage: node({ repoDigests: [], id: ID }),
      }),
    ).rejects.toThrow('bug');
    expect(parseImageRef('app:v1').tag).toBe('v1');
  });
});

describe('PullProgress', () => {
  it('PullProgress sums the layers and reports at most once per interval', () => {
    let now = 0;
    const messages: string[] = [];
    const p = new PullProgress({ onProgress: (m) => messages.push(m), progressEveryMs: 2000, now: () => now });
    p.add({ status: 'Pulling from app', id: 'v1' });
    p.add({ status: 'Pulling fs layer', id: 'a' });
    p.add({ status: 'Pulling fs layer', id: 'b' });
    p.add({ status: 'Downloading', id: 'a', progressDetail: { current: 30, total: 100 } });
    p.add({ status: 'Downloading', id: 'b', progressDetail: { current: 0, total: 100 } });
    now = 1000;
    p.add({ status: 'Downloading', id: 'b', progressDetail: { current: 60, total: 100 } });
    expect(p.percent()).toBe(45);
    now = 2500;
    p.add({ status: 'Download complete', id: 'a' });
    expect(messages).toEqual(['pulling 0 %', 'pulling 80 %']); // 15 % at 0 ms and 45 % at 1 s: within the interval
  });
});
