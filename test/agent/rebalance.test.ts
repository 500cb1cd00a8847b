/**
 * Rebalancing on real agents (docs/ARCHITECTURE.md, Rollouts, "Rebalancing"): three agents in one
 * process on the memory transport. A drained node loses its replicas to the others; once it is
 * active again the leader's passes move them back, start-first, one at a time (each new task takes
 * over once it has run for update_config.monitor).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InProcessCluster, type InProcessAgent } from './support/in-process-cluster.js';

const COMPOSE = `
services:
  web:
    image: nginx
    deploy:
      replicas: 6
      update_config: {monitor: 1s}
`;

describe('rebalancing on real agents', () => {
  let cluster: InProcessCluster;
  const leader = (): InProcessAgent => cluster.leader();
  const running = () =>
    leader()
      .agent.store.state.tasksOfService('shop_web')
      .filter((t) => t.state === 'running' && t.desiredState === 'running');
  const perNode = (): number[] => cluster.agents.map((a) => running().filter((t) => t.nodeId === a.agent.id).length);

  beforeAll(async () => {
    cluster = await InProcessCluster.start({ nodes: 3 });
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('moves replicas back onto a node that is active again, never below 6 running', async () => {
    await leader().agent.api.deployStack({ name: 'shop', compose: COMPOSE, file: 'compose.yml', env: {} });
    await cluster.until('2 running tasks per node', () => perNode().join() === '2,2,2', 20_000);

    const gamma = cluster.agents[2]!.agent.id;
    await leader().agent.api.setNodeAvailability(gamma, 'drain');
    await cluster.until('gamma drained', () => perNode().join() === '3,3,0' && running().length === 6, 20_000);

    let fewest = Infinity;
    let mostMoving = 0;
    await leader().agent.api.setNodeAvailability(gamma, 'active');
    await cluster.until(
      'gamma back to 2 tasks',
      () => {
        fewest = Math.min(fewest, running().length);
        const live = leader()
          .agent.store.state.tasksOfService('shop_web')
          .filter(
            (t) =>
              t.desiredState === 'running' &&
              !['complete', 'shutdown', 'failed', 'rejected', 'orphaned'].includes(t.state),
          );
        mostMoving = Math.max(mostMoving, live.length - 6);
        return perNode().join() === '2,2,2' && running().length === 6;
      },
      30_000,
    );
    expect(fewest).toBeGreaterThanOrEqual(6);
    expect(mostMoving).toBeLessThanOrEqual(1);
    // Containers follow: gamma's driver runs two of the service's containers again.
    await cluster.until('gamma runs 2 containers', () => {
      const tasks = new Set(
        running()
          .filter((t) => t.nodeId === gamma)
          .map((t) => t.id),
      );
      const driver = cluster.agents[2]!.driver;
      return [...tasks].filter((id) => driver.containerOf(id)?.status === 'running').length === 2;
    });
  }, 60_000);
});
