/**
 * Registry credentials reach the node that pulls (issue 15, `--with-registry-auth`), with a real
 * registry that wants Basic auth (Debian's docker-registry on loopback, `htpasswd`) and a real
 * Docker Engine: the deploy pins the private image with the credentials, the task runs on the
 * other agent, whose engine does not have the image and pulls it with the credentials a member
 * handed it; no API answer, event or log line holds the password.
 */
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { pino } from 'pino';
import { dockerImageLookup } from '../../src/agent/image-resolver.js';
import { hostDrivers } from '../../src/agent/runtime-drivers.js';
import { IMAGE, removeNodeContainers, requireDocker, waitFor } from '../runtime/docker-harness.js';
import { registryUnavailable, removeRepositoryImages, startRegistry, type TestRegistry } from '../support/registry.js';
import { InProcessCluster } from './support/in-process-cluster.js';

const USER = 'puller';
const PASSWORD = 'pull-Pw-7c1e94';
/** bcrypt of PASSWORD (cost 5), as `htpasswd -B` writes it: the registry reads only bcrypt. */
const BCRYPT = '$2b$05$X5517.tWSo24cbqVjw6JzemOFWpCSX1KCdkqHugDfPbC9v7.V05aS';

const missing = process.env.SHOAL_SKIP_DOCKER === '1' ? 'SHOAL_SKIP_DOCKER=1' : registryUnavailable();
if (missing) console.warn(`registry-auth.docker.test.ts skipped: ${missing}`);
const describeWithRegistry = missing ? describe.skip : describe;

describeWithRegistry('registry credentials with a real registry that wants them', () => {
  let docker: Docker;
  let registry: TestRegistry;
  let cluster: InProcessCluster | undefined;
  let logs = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  });

  beforeAll(async () => {
    docker = await requireDocker();
    registry = await startRegistry({ htpasswd: { user: USER, bcrypt: BCRYPT } });
  }, 120_000);

  afterAll(async () => {
    if (cluster) {
      for (const a of cluster.agents) await removeNodeContainers(docker, a.agent.id).catch(() => undefined);
      await cluster.stop();
    }
    if (registry) await removeRepositoryImages(docker, `${registry.host}/shoal-auth-test`);
    await registry?.stop();
  });

  it('a private image is pulled by the node that runs the task, and the password shows nowhere', async () => {
    const repo = `${registry.host}/shoal-auth-test`;
    const tag = `${repo}:v1`;
    await build(tag);
    await push(docker, tag, { username: USER, password: PASSWORD, serveraddress: registry.host });
    await docker.getImage(tag).remove(); // the node must pull it
    await expect(docker.getImage(tag).inspect()).rejects.toThrow();

    cluster = await InProcessCluster.start({
      nodes: 3,
      drivers: (_name, dataDir) => hostDrivers('docker', dataDir),
      images: () => ({ localImage: dockerImageLookup(docker) }),
      logger: (name) => pino({ level: 'debug', base: { agent: name } }, sink),
    });
    const api = cluster.leader().agent.api;
    const beta = cluster.agents.find((a) => a.name === 'beta')!;
    const compose = [
      'services:',
      '  app:',
      `    image: ${tag}`,
      '    command: ["sleep", "600"]',
      '    stop_grace_period: 1s',
      '    deploy:',
      '      placement:',
      '        constraints: [node.hostname == beta]',
      '',
    ].join('\n');

    // Without credentials the registry refuses the deploy's resolution, and beta's pull.
    const unauthorized = await api.deployStack({ name: 'auth', compose, file: 'compose.yml', env: {} });
    expect(unauthorized.warnings.join('\n')).toMatch(/refused access \(HTTP 401\)/);
    await waitFor(
      "beta's pull refused",
      async () =>
        /no basic auth credentials|unauthorized/i.test(JSON.stringify(await api.stackTasks('auth', { all: true }))),
      60_000,
    );
    const auth = { [registry.host]: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') };
    const deployed = await api.deployStack({ name: 'auth', compose, file: 'compose.yml', env: {}, registryAuth: auth });
    expect(deployed.services).toEqual([{ name: 'app', change: 'updated' }]); // now pinned

    const [task] = await waitFor(
      'the task running on beta',
      async () => {
        const tasks = (await api.stackTasks('auth')).filter((t) => t.state === 'running');
        return tasks.length === 1 ? tasks : undefined;
      },
      90_000,
    );
    expect(task!.nodeId).toBe(beta.agent.id);
    const container = await docker.getContainer(task!.containerId!).inspect();
    const pinned = (await api.inspectService('auth_app')).image;
    expect(pinned).toMatch(new RegExp(`^${tag}@sha256:`));
    expect((await docker.getImage(container.Image).inspect()).RepoDigests).toContain(`${repo}@${pinned.split('@')[1]}`);

    const events = [];
    for await (const line of api.events({}, {})) events.push(line);
    const shown = JSON.stringify([
      await api.inspectService('auth_app'),
      await api.listServices(),
      await api.stackTasks('auth'),
      events,
    ]);
    const sealed = cluster.leader().agent.store.state.service('auth_app')!.registryAuth!;
    expect(sealed.registry).toBe(registry.host);
    for (const value of [PASSWORD, auth[registry.host]!, sealed.data]) {
      expect(shown).not.toContain(value);
      expect(logs).not.toContain(value);
    }
    for (const a of cluster.agents)
      expect(Buffer.from(a.agent.store.state.snapshot()).includes(Buffer.from(PASSWORD))).toBe(false);
    // The member did hand the credentials over (its debug line names the registry, not the password).
    expect(logs).toContain('registry auth: handing a node the credentials for a pull');
  }, 240_000);
});

/** Builds `tag` FROM the test image. */
async function build(tag: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile('docker', ['build', '-q', '-t', tag, '-'], (error) => (error ? reject(error) : resolve()));
    child.stdin!.end(`FROM ${IMAGE}\nRUN echo private > /version\n`);
  });
}

/** Pushes `tag` with credentials given to the engine for this push only (no `docker login`). */
async function push(
  docker: Docker,
  tag: string,
  authconfig: { username: string; password: string; serveraddress: string },
): Promise<void> {
  const stream = await docker.getImage(tag).push({ authconfig });
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, output: { error?: string }[]) => {
      const failed = output?.find((o) => o.error);
      if (error || failed) reject(error ?? new Error(`docker push ${tag}: ${failed!.error}`));
      else resolve();
    }),
  );
}
