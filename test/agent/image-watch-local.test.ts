/**
 * `x-shoal.image_update: {policy: local}` (issue 15) on in-process agents with the memory driver:
 * images loaded on the nodes (`docker load`), no registry. Each agent's "engine" is a map from a
 * tag to an image id; the leader's watch asks the nodes running the service for the id of the
 * tag, waits while they disagree, and rolls the service to the id once they all have it.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { NodeImage } from '../../src/runtime/resolve-image.js';
import { InProcessCluster } from './support/in-process-cluster.js';

// A loopback port nothing listens on: the deploy's registry lookup fails at once, the nodes answer.
const TAG = '127.0.0.1:1/app:v1';
const ID1 = `sha256:${'1'.repeat(64)}`;
const ID2 = `sha256:${'2'.repeat(64)}`;

describe('image watch, policy local, on in-process agents', () => {
  let cluster: InProcessCluster;
  /** What each agent's engine has: agent name → tag → image id. */
  const engines = new Map<string, Map<string, string>>();
  let logs = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  });

  beforeAll(async () => {
    cluster = await InProcessCluster.start({
      nodes: 3,
      images: (name) => ({
        localImage: async (image: string): Promise<NodeImage | null> => {
          const id = engines.get(name)?.get(image);
          return id === undefined ? null : { id, repoDigests: [] };
        },
      }),
      logger: (name) => pino({ level: 'info', base: { agent: name } }, sink),
    });
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const load = (names: readonly string[], id: string) => {
    for (const name of names) engines.set(name, new Map([[TAG, id]]));
  };

  it('rolls the service to the image id once every node running it has loaded it', async () => {
    load(['alpha', 'beta', 'gamma'], ID1);
    const api = cluster.leader().agent.api;
    const compose = [
      'services:',
      '  app:',
      `    image: ${TAG}`,
      '    deploy:',
      '      replicas: 3',
      '      placement:',
      '        max_replicas_per_node: 1',
      '    x-shoal:',
      '      image_update: {interval: 5s, policy: local}',
      '',
    ].join('\n');
    const deployed = await api.deployStack({ name: 'loc', compose, file: 'compose.yml', env: {} });
    expect(deployed.warnings.join('\n')).toMatch(/load it on every node/);
    expect((await api.inspectService('loc_app')).image).toBe(`${TAG}@${ID1}`);
    await cluster.until(
      '3 tasks running',
      () =>
        cluster
          .leader()
          .agent.store.state.tasksOfService('loc_app')
          .filter((t) => t.state === 'running').length === 3,
      15_000,
    );

    // `docker load` of v2 on one node only: the nodes disagree, the watch waits.
    load(['beta'], ID2);
    await cluster.until('the watch saw the nodes disagree', () => /do not agree on/.test(logs), 15_000);
    expect((await api.inspectService('loc_app')).image).toBe(`${TAG}@${ID1}`);

    // Loaded everywhere: the service rolls to the new id, and every node runs it.
    load(['alpha', 'gamma'], ID2);
    await cluster.until(
      'the service pinned to the new image id',
      () => cluster.leader().agent.store.state.service('loc_app')?.spec.image === `${TAG}@${ID2}`,
      15_000,
    );
    await cluster.until(
      'every running task created from the new id',
      () =>
        cluster.agents.every((a) =>
          [...a.driver.containers.values()]
            .filter((c) => c.status === 'running')
            .every((c) => c.taskId !== null && a.driver.created.get(c.taskId)?.service.spec.image === `${TAG}@${ID2}`),
        ) &&
        cluster.agents.filter((a) => [...a.driver.containers.values()].some((c) => c.status === 'running')).length ===
          3,
      30_000,
    );
    expect(logs).toContain(`image watch: updating loc_app to ${TAG}@${ID2}`);
  }, 90_000);
});
