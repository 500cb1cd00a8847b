/** NodeRuntime over a real Docker Engine: one node, the life of its tasks. */
import type Docker from 'dockerode';
import { serviceFromCompose, withPolicy } from './fixtures.js';
import { IMAGE, requireDocker, TestNode, waitFor } from './docker-harness.js';

let docker: Docker;
let node: TestNode;

beforeAll(async () => {
  docker = await requireDocker();
}, 120_000);

beforeEach(async () => {
  node = new TestNode(docker);
  await node.runtime.start();
});

afterEach(async () => {
  await node.close();
});

const sh = (script: string, extra = '') =>
  serviceFromCompose(
    `image: ${IMAGE}\ncommand: ["sh", "-c", ${JSON.stringify(script)}]\nstop_grace_period: 5s\n${extra}`,
  );

describe('NodeRuntime with Docker: task lifecycle', () => {
  it('NodeRuntime creates and starts the container of a task and reports it running', async () => {
    node.put('run-1', sh('sleep 600'));
    const t = await node.until('run-1', 'running');
    const [c] = await node.containers();
    expect(c!.Id).toBe(t.containerId);
    expect(c!.State).toBe('running');
    expect(c!.Labels).toMatchObject({
      'shoal.task.id': 'run-1',
      'shoal.task.generation': '1',
      'shoal.node.id': node.nodeId,
    });
    expect(node.reports.map((r) => r.state)).toEqual(expect.arrayContaining(['preparing', 'running']));
  });

  it('NodeRuntime restarts a failing container with growing back-off, then reports it failed', async () => {
    const spec = withPolicy(sh('echo boom; exit 3'), { condition: 'on-failure', delayMs: 150, maxAttempts: 2 });
    node.put('crash-1', spec);
    const t = await node.until('crash-1', 'failed');
    expect(t).toMatchObject({
      exitCode: 3,
      restarts: 2,
      message: 'exited with code 3; gave up after 2 restarts (max_attempts 2)',
    });
    const messages = node.reports.filter((r) => r.taskId === 'crash-1').map((r) => r.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'exited with code 3; restarting in 150ms (restart 1 of 2)',
        'exited with code 3; restarting in 300ms (restart 2 of 2)',
      ]),
    );
    // Restarted in place: still the one container, never restarted by Docker itself.
    const inspect = await docker.getContainer(t.containerId!).inspect();
    expect(inspect.HostConfig.RestartPolicy?.Name).toBe('no');
    expect(inspect.State.Status).toBe('exited');
  });

  it('NodeRuntime reports complete when a container exits 0 under condition on-failure', async () => {
    node.put('job-1', withPolicy(sh('echo done'), { condition: 'on-failure', delayMs: 100 }));
    const t = await node.until('job-1', 'complete');
    expect(t).toMatchObject({ exitCode: 0, restarts: 0, message: 'exited with code 0' });
  });

  it('NodeRuntime stops a task desired shutdown gracefully (its SIGTERM trap runs) and removes it', async () => {
    node.put('svc-1', sh("trap 'echo got TERM; exit 0' TERM; while true; do sleep 0.1; done"));
    await node.until('svc-1', 'running');
    node.update('svc-1', { desiredState: 'shutdown' });
    const t = await node.until('svc-1', 'shutdown');
    expect(t.exitCode).toBe(0); // not 137: it was not killed
    await waitFor('the container to be removed', async () => (await node.containers()).length === 0);
  });

  it('NodeRuntime kills a container that ignores the stop signal after the grace period', async () => {
    const spec = serviceFromCompose(
      `image: ${IMAGE}\ncommand: ["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"]\nstop_grace_period: 300ms`,
    );
    node.put('stubborn-1', spec);
    await node.until('stubborn-1', 'running');
    node.update('stubborn-1', { desiredState: 'shutdown' });
    const t = await node.until('stubborn-1', 'shutdown');
    expect(t.exitCode).toBe(137);
  });

  it('NodeRuntime stops the container of a fenced assignment (generation changed) and runs the new one', async () => {
    const spec = sh("trap 'exit 0' TERM; while true; do sleep 0.1; done");
    node.put('fence-1', spec);
    const first = await node.until('fence-1', 'running');
    node.put('fence-1', spec, { generation: 2 });
    const second = await node.until('fence-1', 'running');
    expect(second.containerId).not.toBe(first.containerId);
    const cs = await node.containers();
    expect(cs.map((c) => [c.Id, c.Labels['shoal.task.generation']])).toEqual([[second.containerId, '2']]);
  });

  it('NodeRuntime removes a container whose task is no longer assigned to this node', async () => {
    node.put('gone-1', sh("trap 'exit 0' TERM; while true; do sleep 0.1; done"));
    await node.until('gone-1', 'running');
    node.tasks.delete('gone-1');
    node.sync();
    await waitFor('the container to be removed', async () => (await node.containers()).length === 0);
  });

  it('NodeRuntime removes a stack network from the engine with the last container on it', async () => {
    node.put('net-1', sh('sleep 600'), {}, 'netgc');
    node.put('net-2', sh('sleep 600'), {}, 'netgc');
    await node.until('net-1', 'running');
    await node.until('net-2', 'running');
    const ours = async () => (await docker.listNetworks({ filters: { label: ['shoal.stack=netgc'] } })).length;
    expect(await ours()).toBe(1);
    node.tasks.delete('net-1');
    node.sync();
    await waitFor('one container left', async () => (await node.containers()).length === 1);
    expect(await ours()).toBe(1); // still used by net-2
    node.tasks.delete('net-2');
    node.sync();
    await waitFor('the network to be removed with the last container', async () => (await ours()) === 0);
  });

  it('NodeRuntime rejects a task whose image is missing, saying how to fix it', async () => {
    node.put('img-1', serviceFromCompose('image: shoal-test/not-here:1'));
    const t = await node.until('img-1', 'rejected');
    expect(t.message).toBe(
      'image "shoal-test/not-here:1" is not on this node and could not be pulled (pulling is disabled on this node): ' +
        'load it with docker load or push it to a registry the node can reach',
    );
    expect(await node.containers()).toEqual([]);
  });

  it("NodeRuntime fails a task whose command cannot be started, with the engine's reason", async () => {
    const spec = withPolicy(serviceFromCompose(`image: ${IMAGE}\ncommand: ["/no/such/binary"]`), { condition: 'none' });
    node.put('exec-1', spec);
    const t = await node.until('exec-1', 'failed');
    expect(t.message).toMatch(
      /^could not start: Cannot start container [0-9a-f]{12}: .*no\/such\/binary.* \(restart policy: none\)$/,
    );
  });

  it('NodeRuntime returns the logs of a task', async () => {
    node.put('log-1', sh('echo one; echo two >&2; sleep 600'));
    await node.until('log-1', 'running');
    const lines = await waitFor('both log lines', async () => {
      const got = [];
      for await (const l of node.runtime.logs('log-1')) got.push(l);
      return got.length >= 2 ? got : undefined;
    });
    expect(lines.map((l) => [l.stream, l.line]).sort()).toEqual([
      ['stderr', 'two'],
      ['stdout', 'one'],
    ]);
    expect(lines.every((l) => l.time > 0)).toBe(true);
  });

  it('NodeRuntime reacts to engine events without waiting for its interval', async () => {
    const slow = new TestNode(docker, { reconcileIntervalMs: 600_000 });
    await slow.runtime.start();
    try {
      slow.put('evt-1', withPolicy(sh('sleep 1; exit 4'), { condition: 'none' }));
      // Only the container's `die` event can trigger the pass that sees the exit.
      const t = await slow.until('evt-1', 'failed');
      expect(t).toMatchObject({ exitCode: 4, message: 'exited with code 4 (restart policy: none)' });
    } finally {
      await slow.close();
    }
  });

  it('NodeRuntime reports starting until the healthcheck passes, then running', async () => {
    const spec = serviceFromCompose(
      `image: ${IMAGE}\ncommand: ["sleep", "600"]\nhealthcheck: { test: ["CMD", "true"], interval: 300ms, timeout: 1s, retries: 1 }`,
    );
    node.put('hc-1', spec);
    await node.until('hc-1', 'running');
    const states = node.reports.filter((r) => r.taskId === 'hc-1').map((r) => r.state);
    expect(states.indexOf('starting')).toBeGreaterThanOrEqual(0);
    expect(states.indexOf('starting')).toBeLessThan(states.indexOf('running'));
  });
});
