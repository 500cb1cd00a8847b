/** pinServiceImages(): what a deploy stores when a tag resolves, when it cannot, and for local images. */
import { ApiError } from '../../src/api/types.js';
import { decodeRegistryAuth, pinServiceImages, type ResolveImage } from '../../src/agent/image-pins.js';
import { ImageUnresolvedError } from '../../src/runtime/resolve-image.js';
import { registryAuthFor, registryOfKey } from '../../src/cli/docker-auth.js';
import { imageCell } from '../../src/cli/format.js';
import { serviceFromCompose } from '../runtime/fixtures.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D0 = `sha256:${'0'.repeat(64)}`;
const ID = `sha256:${'9'.repeat(64)}`;

const resolver =
  (answers: Record<string, string | 'unresolved' | 'local'>): ResolveImage =>
  async (image) => {
    const a = answers[image];
    if (a === 'unresolved') throw new ImageUnresolvedError('Cannot reach the registry at reg.example');
    if (a === 'local') return { image: `${image}@${ID}`, digest: ID, source: 'local', note: 'no such tag' };
    return { image: `${image}@${a}`, digest: a!, source: 'registry' };
  };

describe('pinServiceImages()', () => {
  it('pinServiceImages() pins each container service and leaves host processes alone', async () => {
    const services = {
      api: serviceFromCompose('image: reg.example/api:v1'),
      job: serviceFromCompose('x-shoal: {runtime: process}\ncommand: ["true"]'),
    };
    const { services: out, warnings } = await pinServiceImages(
      services,
      () => undefined,
      resolver({ 'reg.example/api:v1': D1 }),
    );
    expect(out.api!.image).toBe(`reg.example/api:v1@${D1}`);
    expect(out.job).toBe(services.job);
    expect(warnings).toEqual([]);
  });

  it('pinServiceImages() keeps the digest a service runs when its tag cannot be resolved at redeploy', async () => {
    const services = { api: serviceFromCompose('image: reg.example/api:v1') };
    const current = serviceFromCompose(`image: reg.example/api:v1@${D0}`);
    const { services: out, warnings } = await pinServiceImages(
      services,
      (name) => (name === 'api' ? current : undefined),
      resolver({ 'reg.example/api:v1': 'unresolved' }),
    );
    expect(out.api!.image).toBe(`reg.example/api:v1@${D0}`);
    expect(warnings[0]).toMatch(/^services\.api\.image: Cannot reach the registry.*kept the digest it runs/);
  });

  it('pinServiceImages() leaves an unresolvable new tag as written, with a warning', async () => {
    const services = { api: serviceFromCompose('image: reg.example/api:v2') };
    const current = serviceFromCompose(`image: reg.example/api:v1@${D0}`);
    const { services: out, warnings } = await pinServiceImages(
      services,
      () => current,
      resolver({ 'reg.example/api:v2': 'unresolved' }),
    );
    expect(out.api!.image).toBe('reg.example/api:v2');
    expect(warnings[0]).toMatch(/not pinned: each node resolves the tag itself/);
  });

  it('pinServiceImages() warns that a local-only image pinned to its id must be on every node', async () => {
    const services = { api: serviceFromCompose('image: app:dev') };
    const { services: out, warnings } = await pinServiceImages(
      services,
      () => undefined,
      resolver({ 'app:dev': 'local' }),
    );
    expect(out.api!.image).toBe(`app:dev@${ID}`);
    expect(warnings[0]).toMatch(/pinned to image id 999999999999: load it on every node/);
  });

  it('pinServiceImages() refuses a reference Docker would not read with a 400', async () => {
    const reject: ResolveImage = async () => {
      throw new RangeError('Cannot read image reference "App": invalid repository name');
    };
    const error = await pinServiceImages({ api: serviceFromCompose('image: App') }, () => undefined, reject).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
  });
});

describe('registry credentials', () => {
  const auth = Buffer.from('alice:pa:ss').toString('base64');
  const config = JSON.stringify({
    auths: {
      'https://index.docker.io/v1/': { auth },
      'reg.example': { auth },
      'other.example': { auth },
    },
  });

  it('registryAuthFor() sends Docker Hub and the registries the file names, nothing else', () => {
    const found = registryAuthFor('services:\n  a:\n    image: reg.example/app:v1\n', {
      env: {},
      home: '/home/u',
      read: (path) => {
        expect(path).toBe('/home/u/.docker/config.json');
        return config;
      },
    });
    expect(found.auth).toEqual({ 'docker.io': auth, 'reg.example': auth });
  });

  it('decodeRegistryAuth() splits user and password at the first colon, and never echoes a bad value', () => {
    expect(decodeRegistryAuth({ 'reg.example': auth })).toEqual({
      'reg.example': { username: 'alice', password: 'pa:ss' },
    });
    const bad = Buffer.from('nocolon-s3cret').toString('base64');
    const error = (() => {
      try {
        return decodeRegistryAuth({ 'reg.example': bad });
      } catch (e) {
        return e as Error;
      }
    })() as Error;
    expect(error.message).toBe('registryAuth.reg.example: expected base64 of user:password');
    expect(registryOfKey('https://ghcr.io')).toBe('ghcr.io');
  });
});

describe('imageCell()', () => {
  it('imageCell() shows a pinned reference as its tag in tables, and whole with --no-trunc', () => {
    const pinned = `reg.example/app:v1@${D1}`;
    expect(imageCell(pinned)).toBe('reg.example/app:v1');
    expect(imageCell(pinned, true)).toBe(pinned);
    expect(imageCell('busybox')).toBe('busybox');
  });
});
