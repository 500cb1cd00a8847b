/**
 * The `rps` target on real agents (docs/ARCHITECTURE.md, "Autoscaling (issue 16)"): three agents
 * in one process on the memory transport. Each node's mesh link reports a cumulative request
 * count for the service (as its ServiceProxy would, every 500 ms here), the followers over RPC
 * (`autoscale.activity`); the leader turns the counts into requests per second and scales on them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { autoscaleCell } from '../../src/cli/commands/autoscale-cell.js';
import { InProcessCluster, type InProcessAgent } from './support/in-process-cluster.js';

const COMPOSE = `
services:
  web:
    image: nginx
    ports: ["8080:80"]
    x-shoal:
      autoscale:
        min: 1
        max: 5
        target_rps: 10
        sync_period: 1s
        scale_down_window: 3s
`;

describe('autoscaling on requests per second on real agents', () => {
  let cluster: InProcessCluster;
  /** Requests per second through the service address, spread evenly over the nodes. */
  let load = 0;
  let reporter: NodeJS.Timeout | undefined;

  const leader = (): InProcessAgent => cluster.leader();
  const service = () => leader().agent.store.state.service('shop_web');
  const running = () =>
    leader()
      .agent.store.state.tasksOfService('shop_web')
      .filter((t) => t.state === 'running' && t.desiredState === 'running').length;

  beforeAll(async () => {
    cluster = await InProcessCluster.start({ nodes: 3 });
    // Each node's proxy count, reported as MeshNode does: cumulative, per service.
    const counts = cluster.agents.map(() => 0);
    let last = Date.now();
    reporter = setInterval(() => {
      const now = Date.now();
      cluster.agents.forEach((a, i) => {
        counts[i]! += ((load / cluster.agents.length) * (now - last)) / 1000;
        const frame = {
          v: 1 as const,
          services: [{ serviceId: 'shop_web', open: 1, lastAcceptAgoMs: 0, requests: Math.floor(counts[i]!) }],
        };
        a.agent.meshAutoscaleLink.report(frame).catch(() => undefined); // during an election: next round
      });
      last = now;
    }, 500);
  }, 30_000);
  afterAll(async () => {
    clearInterval(reporter);
    await cluster?.stop();
  });

  it('scales up on the requests through the service address, and down once they fall for the window', async () => {
    await leader().agent.api.deployStack({ name: 'shop', compose: COMPOSE, file: 'compose.yml', env: {} });
    await cluster.until('one running task', () => running() === 1);

    // 45 requests/s at 10 per task → ceil(4.5) = 5
    load = 45;
    await cluster.until('5 tasks', () => service()?.replicas === 5, 30_000);
    const up = service()!.autoscale!;
    expect(up).toMatchObject({ to: 5 });
    expect(up.reason).toMatch(/^rps \d+(\.\d+)? over \d tasks?, 10 per task → \d+/); // 45 measured between reports: ± jitter
    expect(up.metrics[0]).toMatchObject({ kind: 'rps', target: 10 });

    // `service ls` through a follower: the leader's rate against the target
    const follower = cluster.agents.find((a) => a !== leader())!;
    const view = (await follower.agent.api.listServices()).find((s) => s.id === 'shop_web')!;
    expect(view.autoscale!.metrics).toEqual([{ kind: 'rps', target: 10, value: expect.any(Number) }]);
    expect(autoscaleCell(view)).toMatch(/^rps \d+\/10 a task · 1\.\.5 · \d→5 \(\d+s ago\)$/);

    // 5 requests/s over 5 tasks asks for 1, after the 3 s down window
    load = 5;
    await cluster.until('1 task', () => service()?.replicas === 1, 30_000);
    expect(service()!.autoscale!.reason).toMatch(/^rps \d+(\.\d+)? over \d tasks, 10 per task → 1/);
  }, 90_000);
});
