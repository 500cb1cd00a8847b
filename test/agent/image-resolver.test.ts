/**
 * Pinning through real agents (in process): when the registry cannot be reached, the deploy asks
 * the other nodes (`images.inspect` over libp2p) and pins the repo digest of the node that has it.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { NodeImage } from '../../src/runtime/resolve-image.js';
import { InProcessCluster } from './support/in-process-cluster.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const ID = `sha256:${'9'.repeat(64)}`;

let cluster: InProcessCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** A loopback port nothing listens on: the registry there is unreachable at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('ImageResolver through agents', () => {
  it('a deploy pins the repo digest another node has when the registry is unreachable', async () => {
    const registry = `127.0.0.1:${await closedPort()}`;
    const asked: string[] = [];
    cluster = await InProcessCluster.start({
      nodes: 3,
      images: (name) => ({
        localImage: async (image: string): Promise<NodeImage | null> => {
          asked.push(`${name}:${image}`);
          return name === 'gamma' ? { repoDigests: [`${registry}/app@${D1}`], id: ID } : null;
        },
      }),
    });
    const api = cluster.agents[0]!.agent.api;
    const compose = `services:\n  web:\n    image: ${registry}/app:v1\n    command: ["sleep", "600"]\n`;
    const result = await api.deployStack({ name: 'pin', compose, file: 'compose.yml', env: {} });
    expect((await api.inspectService('pin_web')).image).toBe(`${registry}/app:v1@${D1}`);
    expect(result.warnings).toEqual([]);
    expect(asked).toEqual(expect.arrayContaining([`alpha:${registry}/app:v1`, `gamma:${registry}/app:v1`]));

    // `service update --image` pins the new tag the same way.
    await api.updateService('pin_web', { image: `${registry}/app:v2` });
    expect((await api.inspectService('pin_web')).image).toBe(`${registry}/app:v2@${D1}`);
  });

  it('a deploy warns and leaves the tag when neither the registry nor any node knows it', async () => {
    const registry = `127.0.0.1:${await closedPort()}`;
    cluster = await InProcessCluster.start({ images: () => ({ localImage: async () => null }) });
    const api = cluster.agents[0]!.agent.api;
    const compose = `services:\n  web:\n    image: ${registry}/app:v1\n    command: ["sleep", "600"]\n`;
    const result = await api.deployStack({ name: 'pin', compose, file: 'compose.yml', env: {} });
    expect((await api.inspectService('pin_web')).image).toBe(`${registry}/app:v1`);
    expect(result.warnings.join('\n')).toMatch(
      /services\.web\.image: Cannot reach the registry at 127\.0\.0\.1:\d+: ECONNREFUSED; and no node has the image .*not pinned/,
    );
  });
});
