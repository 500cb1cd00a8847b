/**
 * Images by digest (issue 15) with a real registry (Debian's docker-registry on loopback) and a
 * real Docker Engine: a deploy pins the tag's digest, every task runs it even after the tag moved
 * (the node's own tag then says otherwise), and a redeploy of the same file rolls the new digest out.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { dockerImageLookup } from '../../src/agent/image-resolver.js';
import { hostDrivers } from '../../src/agent/runtime-drivers.js';
import { parseImageRef } from '../../src/runtime/image-ref.js';
import { registryDigest } from '../../src/runtime/registry-digest.js';
import { resolveImageDigest } from '../../src/runtime/resolve-image.js';
import { IMAGE, removeNodeContainers, requireDocker, waitFor } from '../runtime/docker-harness.js';
import { registryUnavailable, removeRepositoryImages, startRegistry, type TestRegistry } from '../support/registry.js';
import { InProcessCluster } from './support/in-process-cluster.js';

const run = promisify(execFile);
const missing = registryUnavailable();
if (missing) console.warn(`images-by-digest.docker.test.ts skipped: ${missing}`);
const describeWithRegistry = missing ? describe.skip : describe;

/** Builds `tag` FROM the test image with /version holding `version`, and pushes it. */
async function buildAndPush(tag: string, version: string): Promise<void> {
  const dockerfile = `FROM ${IMAGE}\nRUN echo ${version} > /version\n`;
  await new Promise<void>((resolve, reject) => {
    const child = execFile('docker', ['build', '-q', '-t', tag, '-'], (error) => (error ? reject(error) : resolve()));
    child.stdin!.end(dockerfile);
  });
  await run('docker', ['push', tag], { timeout: 60_000 });
}

describeWithRegistry('images by digest with a real registry', () => {
  let docker: Docker;
  let registry: TestRegistry;
  let cluster: InProcessCluster | undefined;

  beforeAll(async () => {
    docker = await requireDocker();
    registry = await startRegistry();
  }, 120_000);

  afterAll(async () => {
    if (cluster) {
      for (const a of cluster.agents) await removeNodeContainers(docker, a.agent.id).catch(() => undefined);
      await cluster.stop();
    }
    // The images this test built, pushed and pulled: each tag and digest of its repository.
    if (registry) await removeRepositoryImages(docker, `${registry.host}/shoal-digest-test`);
    await registry?.stop();
  });

  it('a deploy pins the digest, tasks keep running it after the tag moves, and a redeploy updates to the new one', async () => {
    const repo = `${registry.host}/shoal-digest-test`;
    await buildAndPush(`${repo}:v1`, 'one');
    const pushed = await docker.getImage(`${repo}:v1`).inspect();
    await docker.getImage(`${repo}:v1`).remove(); // the node must pull it, by digest

    // resolveImageDigest(): the registry's digest is the one docker push recorded.
    const d1 = (await resolveImageDigest(`${repo}:v1`, { registry: (ref) => registryDigest(ref) })).digest;
    expect(pushed.RepoDigests).toContain(`${repo}@${d1}`);

    cluster = await InProcessCluster.start({
      drivers: (_name, dataDir) => hostDrivers('docker', dataDir),
      images: () => ({ localImage: dockerImageLookup(docker) }),
    });
    const api = cluster.agents[0]!.agent.api;
    const compose = [
      'services:',
      '  app:',
      `    image: ${repo}:v1`,
      '    command: ["sh", "-c", "cat /version; sleep 600"]',
      '    stop_grace_period: 1s',
      '',
    ].join('\n');
    const first = await api.deployStack({ name: 'digest', compose, file: 'compose.yml', env: {} });
    expect(first.services).toEqual([{ name: 'app', change: 'created' }]);
    const service = await api.inspectService('digest_app');
    expect(service.image).toBe(`${repo}:v1@${d1}`);

    const imageOfTask = async (taskId: string) => {
      const t = (await api.stackTasks('digest')).find((x) => x.id === taskId);
      return t?.containerId ? (await docker.getContainer(t.containerId).inspect()).Image : undefined;
    };
    const running = async (n: number) =>
      waitFor(
        `${n} running tasks`,
        async () => {
          const tasks = (await api.stackTasks('digest')).filter((t) => t.state === 'running');
          return tasks.length === n ? tasks : undefined;
        },
        60_000,
      );
    const [task1] = await running(1);
    const v1 = await docker.getImage(`${repo}@${d1}`).inspect();
    expect(await imageOfTask(task1!.id)).toBe(v1.Id);

    // Move the tag: the registry and this node's engine now say v1 is another image.
    await buildAndPush(`${repo}:v1`, 'two');
    const moved = await docker.getImage(`${repo}:v1`).inspect();
    const d2 = (await resolveImageDigest(`${repo}:v1`, { registry: (ref) => registryDigest(ref) })).digest;
    expect(d2).not.toBe(d1);
    expect(moved.Id).not.toBe(v1.Id);

    // A new task of the same version runs the pinned digest, not what the node's tag says.
    await api.scaleService('digest_app', 2);
    const two = await running(2);
    for (const t of two) expect(await imageOfTask(t.id)).toBe(v1.Id);

    // The same file again: the tag now resolves elsewhere, so the service is updated (and the
    // file's replica count, 1, applies again, as with Swarm).
    const again = await api.deployStack({ name: 'digest', compose, file: 'compose.yml', env: {} });
    expect(again.services).toEqual([{ name: 'app', change: 'updated' }]);
    expect((await api.inspectService('digest_app')).image).toBe(`${repo}:v1@${d2}`);
    await waitFor(
      'every running task on the new digest',
      async () => {
        const tasks = (await api.stackTasks('digest')).filter((t) => t.state === 'running');
        if (tasks.length !== 1) return undefined;
        const images = await Promise.all(tasks.map((t) => imageOfTask(t.id)));
        return images.every((id) => id === moved.Id);
      },
      90_000,
    );
    expect(parseImageRef(`${repo}:v1@${d2}`).digest).toBe(d2);
  }, 240_000);
});
