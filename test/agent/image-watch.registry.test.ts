/**
 * Automatic image updates (issue 15, `x-shoal.image_update`) against a real registry (Debian's
 * docker-registry on loopback; skipped without it) on an in-process agent with the memory driver:
 * the deploy pins the tag's digest, a new manifest is pushed under the same tag, and the leader's
 * watch updates the service to the new digest by itself.
 */
import { createHash } from 'node:crypto';
import { registryUnavailable, startRegistry, type TestRegistry } from '../support/registry.js';
import { waitFor } from './support/agents.js';
import { InProcessCluster } from './support/in-process-cluster.js';

const missing = registryUnavailable();
if (missing) console.warn(`image-watch.registry.test.ts skipped: ${missing}`);
const describeWithRegistry = missing ? describe.skip : describe;

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Pushes a config-only image (no layers) tagged `tag` whose config names `version`; its digest. */
async function pushManifest(host: string, repo: string, tag: string, version: string): Promise<string> {
  const config = new TextEncoder().encode(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: [] },
      version,
    }),
  );
  const configDigest = sha256(config);
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`blob upload: HTTP ${start.status}`);
  const upload = new URL(start.headers.get('location')!, `http://${host}`);
  upload.searchParams.set('digest', configDigest);
  const put = await fetch(upload, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: config,
  });
  if (put.status !== 201) throw new Error(`blob put: HTTP ${put.status} ${await put.text()}`);
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: config.length,
        digest: configDigest,
      },
      layers: [],
    }),
  );
  const answer = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' },
    body: manifest,
  });
  if (answer.status !== 201) throw new Error(`manifest put: HTTP ${answer.status} ${await answer.text()}`);
  return sha256(manifest);
}

describeWithRegistry('automatic image updates with a real registry', () => {
  let registry: TestRegistry;
  let cluster: InProcessCluster | undefined;

  beforeAll(async () => {
    registry = await startRegistry();
    cluster = await InProcessCluster.start({ images: () => ({ localImage: null }) });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await registry?.stop();
  });

  it('rolls a digest pushed under the watched tag out by itself', async () => {
    const repo = 'shoal-watch-test';
    const d1 = await pushManifest(registry.host, repo, 'v1', 'one');
    const api = cluster!.agents[0]!.agent.api;
    const image = `${registry.host}/${repo}:v1`;
    const compose = [
      'services:',
      '  app:',
      `    image: ${image}`,
      '    x-shoal:',
      '      image_update: {interval: 5s}',
      '',
    ];
    await api.deployStack({ name: 'watch', compose: compose.join('\n'), file: 'compose.yml', env: {} });
    expect((await api.inspectService('watch_app')).image).toBe(`${image}@${d1}`);

    const d2 = await pushManifest(registry.host, repo, 'v1', 'two');
    expect(d2).not.toBe(d1);
    await waitFor('the watch to update the service to the new digest', async () => {
      return (await api.inspectService('watch_app')).image === `${image}@${d2}`;
    });
    const history = await api.serviceHistory('watch_app');
    expect(history.versions.map((v) => v.image)).toEqual([`${image}@${d1}`, `${image}@${d2}`]);
  }, 60_000);

  it('does not try a digest whose rollout was rolled back again until the tag moves on', async () => {
    const repo = 'shoal-watch-bad';
    const d1 = await pushManifest(registry.host, repo, 'v1', 'one');
    const agent = cluster!.agents[0]!;
    const api = agent.agent.api;
    const image = `${registry.host}/${repo}:v1`;
    const compose = [
      'services:',
      '  app:',
      `    image: ${image}`,
      '    deploy:',
      '      replicas: 2',
      '      restart_policy: {condition: any, delay: 1s}',
      '      update_config: {failure_action: rollback, monitor: 1s}',
      '      rollback_config: {parallelism: 0, monitor: 1s}',
      '    x-shoal:',
      '      image_update: {interval: 5s}',
      '',
    ];
    await api.deployStack({ name: 'bad', compose: compose.join('\n'), file: 'compose.yml', env: {} });
    const service = () => agent.agent.store.state.service('bad_app');
    await waitFor('version 1 to complete', () => service()?.rollout?.state === 'completed', 30_000);

    const d2 = await pushManifest(registry.host, repo, 'v1', 'two');
    agent.driver.failImages.add(`${image}@${d2}`);
    await waitFor('the update to d2 to be rolled back', () => service()?.rollout?.state === 'rolled_back', 40_000);
    expect(service()!.spec.image).toBe(`${image}@${d1}`);
    // Let the watch ask the tag again (its interval is 5 s) while it still names the bad digest.
    await new Promise((r) => setTimeout(r, 6_500));
    expect(service()!.history!.map((e) => e.spec.image)).toEqual([
      `${image}@${d1}`,
      `${image}@${d2}`,
      `${image}@${d1}`,
    ]);

    const d3 = await pushManifest(registry.host, repo, 'v1', 'three');
    await waitFor('the watch to roll the next digest out', () => service()?.spec.image === `${image}@${d3}`, 20_000);
    await waitFor('version 4 to complete', () => service()?.rollout?.state === 'completed', 30_000);
  }, 120_000);
});
