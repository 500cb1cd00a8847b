/**
 * buildNodes(): `node ls` shows both what decides task moves (the replicated status, Down after
 * the node grace) and the faster Raft reachability, named for what they are (issue 18 item 10).
 */
import { OBSERVER_REACHABLE_MS, buildNodes, isReachable } from '../../src/agent/views.js';
import type { MemberHealth } from '../../src/controllers/raft-membership.js';
import { ClusterStateMachine } from '../../src/state/index.js';
import { T0, entries, init, peerId, register } from '../state/helpers.js';
import { stamp } from '../state/workload-helpers.js';

const health = (n: number, reachable: boolean): MemberHealth => ({
  id: peerId(n),
  role: 'voter',
  reachable,
  silentForMs: reachable ? 0 : 2_000,
  lag: 0,
});

describe('buildNodes()', () => {
  it('shows a node cut for less than the grace as Ready but unreachable, and one marked down as Down', () => {
    const machine = new ClusterStateMachine();
    for (const entry of entries([
      init(),
      register(1),
      register(2),
      register(3),
      stamp({ type: 'node.setStatus', id: peerId(3), status: 'down' }, T0 + 10),
    ]))
      expect(machine.apply(entry).ok).toBe(true);
    const members = [health(1, true), health(2, false), health(3, false)];
    const nodes = buildNodes(null, machine, { members, observersHeard: new Map(), now: 0 });
    expect(nodes.map((n) => [n.hostname, n.status, n.reachable])).toEqual([
      ['node-1', 'ready', true],
      ['node-2', 'ready', false],
      ['node-3', 'down', false],
    ]);
  });

  it('shows a node outside the Raft configuration as an observer, reachable while its presence is fresh', () => {
    const machine = new ClusterStateMachine();
    for (const entry of entries([init(), register(1), register(2), register(3)])) machine.apply(entry);
    const raft = {
      leader: peerId(1),
      term: 2,
      commit: 4,
      applied: 4,
      role: 'leader' as const,
      conf: { voters: [peerId(1)], learners: [] },
    };
    const observersHeard = new Map([
      [peerId(2), 9_000],
      [peerId(3), 1_000],
    ]);
    const nodes = buildNodes(raft, machine, { members: [health(1, true)], observersHeard, now: 10_000 });
    expect(nodes.map((n) => [n.hostname, n.raftRole, n.reachable])).toEqual([
      ['node-1', 'voter', true],
      ['node-2', 'observer', true],
      ['node-3', 'observer', false],
    ]);
  });

  it('says reachability is unknown where this agent has no health view (a follower)', () => {
    const machine = new ClusterStateMachine();
    for (const entry of entries([init(), register(1)])) machine.apply(entry);
    expect(buildNodes(null, machine, null)[0]).toMatchObject({ status: 'ready', reachable: null });
  });
});

describe('isReachable: whether the leader hears a node', () => {
  const learner = { id: 'l', role: 'learner' as const, reachable: false, silentForMs: 6_000, lag: 14 };
  const health = (heardAgo: number | null) => ({
    members: [learner],
    observersHeard: new Map(heardAgo === null ? [] : [['l', 100_000 - heardAgo]]),
    now: 100_000,
  });

  it('a learner silent in Raft while it is caught up, but whose presence is fresh, is up', () => {
    expect(isReachable(health(700), 'l')).toBe(true);
  });

  it('silent in Raft and no fresh presence: not reachable; not the leader’s view: unknown', () => {
    expect(isReachable(health(OBSERVER_REACHABLE_MS + 1), 'l')).toBe(false);
    expect(isReachable(health(null), 'l')).toBe(false);
    expect(isReachable(null, 'l')).toBeNull();
  });
});
