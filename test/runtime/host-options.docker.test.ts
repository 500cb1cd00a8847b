/** NodeRuntime over a real Docker Engine: `network_mode` and `runtime` on the containers it creates. */
import { LABELS, shortNodeId } from '../../src/runtime/index.js';
import { serviceFromCompose } from './fixtures.js';
import { dockerNodes, IMAGE, type TestNode } from './docker-harness.js';

const { engine, start } = dockerNodes();
let node: TestNode;

beforeEach(async () => {
  node = await start();
});

const stackNetworksOf = async (n: TestNode) =>
  (await engine().listNetworks({ filters: { label: [LABELS.stack] } }))
    .map((net) => net.Name)
    .filter((name) => name.endsWith(`_${shortNodeId(n.nodeId)}`));

describe('NodeRuntime with Docker: network_mode and runtime', () => {
  it.each([['host'], ['none']])(
    'NodeRuntime creates the container of a network_mode: %s service with that network mode and no stack network',
    async (mode) => {
      const spec = serviceFromCompose(
        `image: ${IMAGE}\ncommand: ["sh", "-c", "sleep 600"]\nstop_grace_period: 1s\nnetwork_mode: ${mode}`,
      );
      node.put(`net-${mode}`, spec);
      const t = await node.until(`net-${mode}`, 'running');
      const info = await engine().getContainer(t.containerId!).inspect();
      expect(info.HostConfig.NetworkMode).toBe(mode);
      expect(Object.keys(info.NetworkSettings.Networks)).toEqual([mode]);
      expect(await stackNetworksOf(node)).toEqual([]);
    },
    30_000,
  );

  it('NodeRuntime hands runtime: to the engine, which refuses one it lacks (the default runc would pass unseen)', async () => {
    node.put(
      'rt-1',
      serviceFromCompose(`image: ${IMAGE}\ncommand: ["sh", "-c", "sleep 600"]\nruntime: shoal-no-such-runtime`),
    );
    const t = await node.until('rt-1', 'rejected');
    expect(t.message).toMatch(/shoal-no-such-runtime/);
  });
});
