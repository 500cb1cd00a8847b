/** NodeRuntime over a real Docker Engine: several nodes on one engine, agent restarts, resources, ports. */
import { serviceFromCompose } from './fixtures.js';
import { dockerNodes, IMAGE, waitFor } from './docker-harness.js';
import { freePort } from '../support/free-port.js';

const { engine, start: startNode } = dockerNodes();

const TERMINABLE = `image: ${IMAGE}\ncommand: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]`;

describe('NodeRuntime with Docker: nodes sharing one engine', () => {
  it('NodeRuntime instances with different node ids manage only their own containers', async () => {
    const [a, b, c] = await Promise.all([startNode(), startNode(), startNode()]);
    a.put('a-1', serviceFromCompose(TERMINABLE));
    b.put('b-1', serviceFromCompose(TERMINABLE));
    await Promise.all([a.until('a-1', 'running'), b.until('b-1', 'running')]);
    // c has no assignments at all: it must not touch a's or b's containers.
    c.sync();
    await c.runtime.reconcile();
    await a.runtime.reconcile();
    await b.runtime.reconcile();
    expect(a.runtime.observed.map((x) => x.taskId)).toEqual(['a-1']);
    expect(b.runtime.observed.map((x) => x.taskId)).toEqual(['b-1']);
    expect(c.runtime.observed).toEqual([]);
    const running = await engine().listContainers({ filters: { label: ['shoal.task.id'] } });
    const ours = running.filter((x) => [a.nodeId, b.nodeId].includes(x.Labels['shoal.node.id']!));
    expect(ours.map((x) => x.Labels['shoal.task.id']).sort()).toEqual(['a-1', 'b-1']);
  });

  it('NodeRuntime re-adopts the containers of its node after an agent restart without restarting them', async () => {
    const first = await startNode();
    first.put('adopt-1', serviceFromCompose(TERMINABLE));
    const t = await first.until('adopt-1', 'running');
    const before = await engine().getContainer(t.containerId!).inspect();
    await first.runtime.stop();
    // The containers survive the agent.
    expect((await engine().getContainer(t.containerId!).inspect()).State.Running).toBe(true);

    const second = await startNode({ nodeId: first.nodeId });
    second.put('adopt-1', first.specs.get('adopt-1')!, { ...first.tasks.get('adopt-1')! });
    await second.runtime.reconcile();
    await second.runtime.reconcile();
    const after = await engine().getContainer(t.containerId!).inspect();
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
    expect(after.State.Running).toBe(true);
    expect(second.tasks.get('adopt-1')).toMatchObject({ state: 'running', containerId: t.containerId, restarts: 0 });
    expect(second.reports).toEqual([]); // the record already said so: nothing to send
  });

  it('NodeRuntime enforces the CPU and memory limits through Docker', async () => {
    const node = await startNode();
    node.put(
      'lim-1',
      serviceFromCompose(`${TERMINABLE}\ndeploy:\n  resources:\n    limits: { cpus: '0.5', memory: 64M }`),
    );
    const t = await node.until('lim-1', 'running');
    const info = await engine().getContainer(t.containerId!).inspect();
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
  });

  it('NodeRuntime publishes ports: the task answers on 127.0.0.1', async () => {
    const node = await startNode();
    const port = await freePort();
    node.put(
      'web-1',
      serviceFromCompose(
        `image: ${IMAGE}\ncommand: ["httpd", "-f", "-p", "80", "-h", "/www"]\nports: ["127.0.0.1:${port}:80"]`,
      ),
    );
    await node.until('web-1', 'running');
    const body = await waitFor('the published port to answer', async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        return res.ok ? await res.text() : undefined;
      } catch {
        return undefined;
      }
    });
    expect(body).toBe('shoal test page\n');
  });

  it('NodeRuntime rejects a task whose host port is already taken, saying so', async () => {
    const node = await startNode();
    const port = await freePort();
    const spec = serviceFromCompose(`${TERMINABLE}\nports: ["127.0.0.1:${port}:80"]`);
    node.put('port-1', spec);
    await node.until('port-1', 'running');
    node.put('port-2', spec, { slot: 2 });
    const t = await node.until('port-2', 'rejected');
    expect(t.message).toMatch(
      /^Cannot publish the task's port: it is already in use on this node \(.*\); free it or publish another port$/,
    );
  });

  it('NodeRuntime creates a missing named volume as <stack>_<name> and mounts it, with bind and tmpfs mounts', async () => {
    const node = await startNode();
    const stack = `vol${node.nodeId.slice(-8)}`;
    const spec = serviceFromCompose(
      `${TERMINABLE}\nvolumes: ["data:/data", "/tmp:/host-tmp:ro", { type: tmpfs, target: /scratch }]`,
      'web',
      stack,
      'volumes:\n  data: {}\n',
    );
    node.put('vol-1', spec, {}, stack);
    const t = await node.until('vol-1', 'running');
    try {
      const mounts = (await engine().getContainer(t.containerId!).inspect()).Mounts;
      expect(mounts).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Type: 'volume', Name: `${stack}_data`, Destination: '/data' }),
          expect.objectContaining({ Type: 'bind', Source: '/tmp', Destination: '/host-tmp', RW: false }),
        ]),
      );
      const info = await engine().getContainer(t.containerId!).inspect();
      expect(info.HostConfig.Mounts).toEqual(
        expect.arrayContaining([expect.objectContaining({ Type: 'tmpfs', Target: '/scratch' })]),
      );
    } finally {
      await node.close();
      await engine()
        .getVolume(`${stack}_data`)
        .remove()
        .catch(() => undefined);
    }
  });

  it('NodeRuntime rejects a missing image once a pull attempt failed or timed out', async () => {
    const node = await startNode({ driver: { pull: 'missing', pullStallMs: 3000 } });
    node.put('pull-1', serviceFromCompose('image: shoal-test/not-here:1'));
    const t = await node.until('pull-1', 'rejected');
    expect(t.message).toMatch(
      /^image "shoal-test\/not-here:1" is not on this node and could not be pulled \(pull (failed|stalled).*\): load it with docker load or push it to a registry the node can reach$/,
    );
  });
});

describe('DockerDriver', () => {
  it('DockerDriver.stop() stops a paused container', async () => {
    const node = await startNode();
    node.put('pause-1', serviceFromCompose(TERMINABLE));
    const t = await node.until('pause-1', 'running');
    await node.runtime.stop(); // keep the runtime from reacting while we poke the container
    await engine().getContainer(t.containerId!).pause();
    await node.driver.stop(t.containerId!, { graceMs: 2000, signal: 'SIGTERM' });
    const info = await engine().getContainer(t.containerId!).inspect();
    expect(info.State.Status).toBe('exited');
  });
});
