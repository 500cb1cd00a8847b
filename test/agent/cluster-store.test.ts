import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiError } from '../../src/api/types.js';
import { InProcessCluster } from './support/in-process-cluster.js';

describe('ClusterStore on real agents in one process', () => {
  let cluster: InProcessCluster;
  beforeAll(async () => {
    cluster = await InProcessCluster.start({ nodes: 3 });
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const follower = () => cluster.agents.find((a) => a !== cluster.leader())!;

  it('propose() on a follower is forwarded to the leader and answers once applied here', async () => {
    const store = follower().agent.store;
    expect(store.isLeader()).toBe(false);
    const result = await store.propose({ type: 'node.labels', id: cluster.leader().agent.id, add: { zone: 'b' } });
    expect(result.ok).toBe(true);
    // the answer waits for this node's own state machine: the write is visible here at once
    expect(store.state.node(cluster.leader().agent.id)?.labels).toEqual({ zone: 'b' });
  });

  it('propose() answers a command apply refuses with a conflict', async () => {
    const store = follower().agent.store;
    const refusal = store.propose({ type: 'stack.remove', name: 'no-such-stack' });
    await expect(refusal).rejects.toBeInstanceOf(ApiError);
  });

  it('read() reflects a write made through another member', async () => {
    const [a, b] = cluster.agents.filter((x) => x !== cluster.leader());
    await a!.agent.store.propose({ type: 'node.labels', id: a!.agent.id, add: { rack: '7' } });
    await b!.agent.store.read();
    expect(b!.agent.store.state.node(a!.agent.id)?.labels).toMatchObject({ rack: '7' });
  });

  it('follows a leadership transfer: the new leader answers with member health, the old one forwards its writes', async () => {
    const old = cluster.leader();
    const next = await old.agent.api.transferLeader();
    await cluster.until('the new leader to take over', () => cluster.leader().agent.id === next.leader);
    const status = await cluster.leader().agent.api.status();
    expect(status.members.every((m) => m.reachable !== null)).toBe(true);
    expect(old.agent.store.isLeader()).toBe(false);
    await expect(
      old.agent.store.propose({ type: 'node.labels', id: old.agent.id, add: { was: 'leader' } }),
    ).resolves.toMatchObject({ ok: true });
  });

  it('requireRaft() refuses with not_initialized on an agent in no cluster', async () => {
    const lone = await InProcessCluster.start({ nodes: 1, form: false });
    try {
      expect(() => lone.agents[0]!.agent.store.requireRaft()).toThrow(/not part of a cluster yet/);
      await expect(lone.agents[0]!.agent.api.listServices()).rejects.toMatchObject({ code: 'not_initialized' });
    } finally {
      await lone.stop();
    }
  });
});
