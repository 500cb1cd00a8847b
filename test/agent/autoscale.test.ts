/**
 * Autoscaling on real agents (docs/ARCHITECTURE.md, "Autoscaling (issue 16)"): three agents in
 * one process on the memory transport; their memory drivers report synthetic CPU use (a load of
 * L cores shared by the service's running tasks, as a load balancer would spread it). Nodes send
 * their samples to the leader over RPC; the leader's autoscaler proposes `service.autoscale`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { autoscaleCell } from '../../src/cli/commands/autoscale-cell.js';
import type { ObservedContainer } from '../../src/runtime/index.js';
import { InProcessCluster, type InProcessAgent } from './support/in-process-cluster.js';

const COMPOSE = `
services:
  api:
    image: nginx
    deploy:
      replicas: 1
      resources:
        reservations:
          cpus: '1'
    x-shoal:
      autoscale:
        min: 1
        max: 4
        target_cpu: 50
        sync_period: 1s
        scale_down_window: 5s
`;

describe('autoscaling on real agents', () => {
  let cluster: InProcessCluster;
  /** Total CPU cores the service's load needs, shared by its running tasks. */
  let load = 0;

  const leader = (): InProcessAgent => cluster.leader();
  const service = () => leader().agent.store.state.service('shop_api');
  const running = () =>
    leader()
      .agent.store.state.tasksOfService('shop_api')
      .filter((t) => t.state === 'running' && t.desiredState === 'running').length;

  beforeAll(async () => {
    cluster = await InProcessCluster.start({ nodes: 3 });
    for (const a of cluster.agents) {
      a.driver.load = (c: ObservedContainer) => {
        const task = c.taskId === null ? undefined : a.agent.store.state.task(c.taskId);
        if (task?.serviceId !== 'shop_api') return null;
        return { cpuCores: load / Math.max(1, running()), memoryBytes: 64 * 1024 ** 2 };
      };
    }
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('scales a service up under CPU load, and back down once the load stopped for the window', async () => {
    await leader().agent.api.deployStack({ name: 'shop', compose: COMPOSE, file: 'compose.yml', env: {} });
    await cluster.until('one running task', () => running() === 1);

    // 1.8 cores on one task with a 1-core reservation: 180 % of 50 % → ceil(3.6) = 4 (max)
    load = 1.8;
    await cluster.until('4 running tasks', () => service()?.replicas === 4 && running() === 4, 30_000);
    const up = service()!.autoscale!;
    expect(up).toMatchObject({ from: 1, to: 4 });
    expect(up.reason).toMatch(/^cpu \d+ % of 50 % over 1 task → 4/);
    expect(up.metrics[0]).toMatchObject({ kind: 'cpu', target: 50 });
    // every agent applied the same decision (it is replicated state)
    await cluster.until('every agent to show the decision', () =>
      cluster.agents.every((a) => a.agent.store.state.service('shop_api')?.autoscale?.to === 4),
    );
    // the samples came from the nodes the tasks run on, not only the leader's own
    const nodes = new Set(
      leader()
        .agent.store.state.tasksOfService('shop_api')
        .filter((t) => t.state === 'running')
        .map((t) => t.nodeId),
    );
    expect(nodes.size).toBeGreaterThan(1);

    // `service ls` through a follower: the leader's current value, the target, the last decision
    const follower = cluster.agents.find((a) => a !== leader())!;
    const view = (await follower.agent.api.listServices()).find((s) => s.id === 'shop_api')!;
    expect(view.autoscale).toMatchObject({ min: 1, max: 4, lastDecision: { from: 1, to: 4 } });
    expect(view.autoscale!.metrics).toEqual([{ kind: 'cpu', target: 50, value: expect.any(Number) }]);
    expect(view.autoscale!.syncedAt).not.toBeNull();
    expect(autoscaleCell(view)).toMatch(/^cpu \d+\/50 % · 1\.\.4 · 1→4 \(\d+s ago\)$/);
    const inspected = await follower.agent.api.inspectService('shop_api');
    expect(inspected.autoscale?.lastDecision?.reason).toBe(up.reason);

    // load stops: 0.2 cores over 4 tasks (10 %) asks for 1, but only after the 5 s down window
    load = 0.2;
    const stopped = Date.now();
    await cluster.until('the service to scale down', () => (service()?.replicas ?? 4) < 4, 30_000);
    expect(Date.now() - stopped).toBeGreaterThanOrEqual(5_000 - 1_000); // the window, less one sync of samples
    await cluster.until('1 running task', () => service()?.replicas === 1 && running() === 1, 30_000);
    const down = service()!.autoscale!;
    expect(down.to).toBe(1);
    expect(down.reason).toMatch(/cpu \d+ % of 50 % over \d tasks → 1/);
  }, 90_000);
});
