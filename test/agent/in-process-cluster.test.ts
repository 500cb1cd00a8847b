import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InProcessCluster } from './support/in-process-cluster.js';

describe('InProcessCluster', () => {
  let cluster: InProcessCluster;
  beforeAll(async () => {
    cluster = await InProcessCluster.start({ nodes: 3 });
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('start() forms one cluster of real agents on the memory network', async () => {
    const status = await cluster.agents[1]!.agent.api.status();
    expect(status.initialized).toBe(true);
    expect(status.members.map((m) => m.hostname).sort()).toEqual(['alpha', 'beta', 'gamma']);
  });
});
