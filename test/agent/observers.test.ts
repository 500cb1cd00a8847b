/**
 * The observer design on real agents in one process (docs/ARCHITECTURE.md, "100 nodes: members
 * and observers"): 7 agents, 3 voters, 2 standby learners, and 2 observers that follow the
 * state feed, report presence, forward writes and read through the leader's read index.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { InProcessAgent } from './support/in-process-cluster.js';
import { ObserverCluster } from './support/observer-cluster.js';

const COMPOSE = (hostname: string): string => `
services:
  web:
    image: nginx
    deploy:
      placement:
        constraints: [node.hostname == ${hostname}]
`;

describe('observers (7 agents: 3 voters, 2 standby learners, 2 observers)', () => {
  let cluster: ObserverCluster;
  beforeAll(async () => {
    cluster = await ObserverCluster.start({
      nodes: 7,
      targetVoters: 3,
      standbyLearners: 2,
      // Graces well above the 1 s presence beat: on a loaded CI machine a shorter one made
      // healthy members look dead and churned the configuration.
      voterReplaceGraceMs: 3_000,
      nodeDownGraceMs: 3_000,
    });
    await cluster.until('3 voters, 2 learners and 2 observers', () => {
      const conf = cluster.conf();
      return conf?.voters.length === 3 && conf.learners.length === 2;
    });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const observer = (): InProcessAgent => cluster.observers()[0]!;

  it('keeps every node outside the configuration an observer, shown as such by node ls and status', async () => {
    const observers = cluster.observers();
    expect(observers).toHaveLength(2);
    await cluster.until('the observers to follow the feed', () =>
      observers.every((o) => o.agent.store.role === 'observer' && o.agent.store.leader !== null),
    );
    const nodes = await observers[0]!.agent.api.listNodes();
    const roles = nodes.map((n) => n.raftRole).sort();
    expect(roles).toEqual(['learner', 'learner', 'observer', 'observer', 'voter', 'voter', 'voter']);
    expect(nodes.filter((n) => n.raftRole === 'observer').every((n) => n.reachable === true)).toBe(true);
    const status = await observers[0]!.agent.api.status();
    expect(status.role).toBe('observer');
    expect(
      status.members
        .filter((m) => m.raftRole === 'observer')
        .map((m) => m.id)
        .sort(),
    ).toEqual(observers.map((o) => o.agent.id).sort());
  });

  it('answers a write through an observer with its own state after the write', async () => {
    const store = observer().agent.store;
    for (let i = 0; i < 5; i++) {
      await store.propose({ type: 'node.labels', id: observer().agent.id, add: { round: String(i) } });
      expect(store.state.node(observer().agent.id)?.labels.round).toBe(String(i));
    }
  });

  it('sees on a linearizable read a write acknowledged through another node', async () => {
    const leader = cluster.leader();
    const other = cluster.observers()[1]!;
    for (let i = 0; i < 5; i++) {
      await leader.agent.store.propose({ type: 'node.labels', id: leader.agent.id, add: { seen: String(i) } });
      await other.agent.store.read();
      expect(other.agent.store.state.node(leader.agent.id)?.labels.seen).toBe(String(i));
    }
  });

  it("runs the tasks assigned to an observer on the observer's runtime", async () => {
    const target = observer();
    await target.agent.api.deployStack({ name: 'obs', compose: COMPOSE(target.name), file: 'compose.yml', env: {} });
    await cluster.until('the task to run on the observer', () =>
      [...target.driver.containers.values()].some((c) => c.nodeId === target.agent.id && c.status === 'running'),
    );
    // its report goes through the leader like any other write, and comes back through the feed
    await cluster.until('the task to be reported running', () =>
      target.agent.store.state.tasksOnNode(target.agent.id).some((t) => t.state === 'running'),
    );
    const tasks = await target.agent.api.stackTasks('obs');
    expect(tasks.map((t) => t.state)).toContain('running');
  });

  it('keeps an observer ready on its presence alone, past the node grace', async () => {
    const target = observer();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const node = cluster.leader().agent.store.state.node(target.agent.id);
    expect(node?.status).toBe('ready');
  });

  it('gives a dead voter seat to a learner, and makes an observer a learner in its place', async () => {
    const before = cluster.conf()!;
    const observersBefore = cluster.observers().map((o) => o.agent.id);
    const victim = cluster.agents.find((a) => before.voters.includes(a.agent.id) && a !== cluster.leader())!;
    await victim.agent.stop();
    await cluster.until(
      'a learner to take the seat and an observer to become a learner',
      () => {
        const conf = cluster.conf();
        if (!conf || conf.voters.includes(victim.agent.id) || conf.voters.length !== 3) return false;
        const newVoter = conf.voters.find((id) => !before.voters.includes(id));
        const promoted = conf.learners.filter((id) => observersBefore.includes(id));
        return newVoter !== undefined && before.learners.includes(newVoter) && promoted.length >= 1;
      },
      45_000,
    );
    const promoted = cluster.agents.find(
      (a) => cluster.conf()!.learners.includes(a.agent.id) && observersBefore.includes(a.agent.id),
    )!;
    await cluster.until('the new learner to run its Raft node and catch up', () => {
      const raft = promoted.agent.raft();
      return raft !== null && raft.applied >= cluster.leader().agent.raft()!.applied - 5;
    });
    expect(promoted.agent.store.role).toBe('member');
    const store = promoted.agent.store;
    await store.propose({ type: 'node.labels', id: promoted.agent.id, add: { now: 'learner' } });
    expect(store.state.node(promoted.agent.id)?.labels.now).toBe('learner');
  }, 90_000);

  it('marks a silent observer down after the node grace', async () => {
    const target = cluster.observers()[0]!;
    await target.agent.stop();
    await cluster.until(
      'the silent observer to be marked down',
      () => cluster.leader().agent.store.state.node(target.agent.id)?.status === 'down',
      15_000,
    );
  }, 30_000);
});
