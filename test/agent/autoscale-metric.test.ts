/**
 * Autoscaling on a metric the tasks expose in Prometheus text (`x-shoal.autoscale.metric`), on
 * three in-process agents: each node scrapes its own tasks at their address (here every memory
 * container answers at 127.0.0.1, where a real HTTP server plays the tasks: it reports the queue
 * shared by the running tasks) and sends the value to the leader.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InProcessCluster } from './support/in-process-cluster.js';

describe('autoscaling on a scraped metric', () => {
  let cluster: InProcessCluster;
  let server: Server;
  let port = 0;
  /** Jobs in flight over the whole service, spread over its running tasks. */
  let inFlight = 0;
  const running = () =>
    cluster
      .leader()
      .agent.store.state.tasksOfService('q_worker')
      .filter((t) => t.state === 'running' && t.desiredState === 'running').length;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const perTask = inFlight / Math.max(1, running());
      response
        .writeHead(200, { 'content-type': 'text/plain' })
        .end(`# TYPE jobs_in_flight gauge\njobs_in_flight ${perTask}\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    cluster = await InProcessCluster.start({ nodes: 3 });
    // The memory driver's containers get an address, as Docker's have on their network.
    for (const a of cluster.agents) {
      const list = a.driver.list.bind(a.driver);
      a.driver.list = async (nodeId) => (await list(nodeId)).map((c) => ({ ...c, address: '127.0.0.1' }));
    }
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
    server?.close();
  });

  it('scales to ceil(total / value) and back down after the window', async () => {
    const compose = `
services:
  worker:
    image: worker:1
    x-shoal:
      autoscale:
        max: 5
        metric: {port: ${port}, name: jobs_in_flight, value: 10}
        sync_period: 1s
        scale_down_window: 3s
`;
    const leader = cluster.leader().agent;
    await leader.api.deployStack({ name: 'q', compose, file: 'compose.yml', env: {} });
    const service = () => cluster.leader().agent.store.state.service('q_worker');
    await cluster.until('one running task', () => running() === 1);
    inFlight = 30; // 30 jobs at 10 a task: 3 tasks
    await cluster.until('3 tasks', () => service()?.replicas === 3 && running() === 3, 30_000);
    expect(service()!.autoscale!.reason).toMatch(/^jobs_in_flight 30 of 10 over 1 task → 3/);
    inFlight = 5;
    await cluster.until('back to 1 task', () => service()?.replicas === 1, 30_000);
    expect(service()!.autoscale!.reason).toMatch(/jobs_in_flight [\d.]+ of 10 over \d tasks( \(\d unmeasured\))? → 1/);
  }, 90_000);
});
