/** Learners, promotion, demotion, removal (thesis §4). */
import { Network } from './support/network.js';

const ABC = ['a', 'b', 'c'];

/** a leads {a,b,c}; d joins as a learner and has caught up. */
function withLearner() {
  const net = new Network(ABC, { electionTick: 10 });
  net.elect('a');
  net.propose('a', 'x');
  net.add('d', { voters: [], learners: [] }, { electionTick: 10 });
  expect(net.core('a').proposeConfChange({ type: 'addLearner', node: 'd' }).ok).toBe(true);
  net.settle();
  net.tick(1, ['a']);
  return net;
}

describe('learners', () => {
  it('proposeConfChange(addLearner) lets a new node catch up on the log', () => {
    const net = withLearner();
    expect(net.member('d').applied).toEqual(['x']);
    expect(net.core('d').status().conf).toEqual({ voters: ABC, learners: ['d'] });
    expect(
      net
        .core('a')
        .status()
        .progress!.find((p) => p.id === 'd'),
    ).toMatchObject({ voter: false, state: 'replicate' });
  });

  it('a learner never counts for commit', () => {
    const net = withLearner();
    net.cut('a', 'b');
    net.cut('a', 'c');
    const r = net.propose('a', 'y');
    expect(r.ok).toBe(true);
    expect(net.core('d').status().lastIndex).toBe((r as { index: number }).index);
    expect(net.core('a').status().commit).toBeLessThan((r as { index: number }).index);
  });

  it('tick() never makes a learner campaign', () => {
    const net = withLearner();
    net.isolate('d');
    net.tick(100, ['d']);
    expect(net.core('d').status()).toMatchObject({ role: 'follower', term: 1 });
  });

  it("a learner's vote and heartbeat acknowledgements do not count for check-quorum", () => {
    const net = withLearner();
    net.cut('a', 'b');
    net.cut('a', 'c');
    net.tick(25, ['a', 'd']);
    expect(net.core('a').status().role).toBe('follower');
  });
});

describe('promote, demote, remove', () => {
  it('proposeConfChange(promote) makes a caught-up learner a voter that counts for commit', () => {
    const net = withLearner();
    expect(net.core('a').proposeConfChange({ type: 'promote', node: 'd' }).ok).toBe(true);
    net.settle();
    for (const id of ['a', 'b', 'c', 'd'])
      expect(net.core(id).status().conf).toEqual({ voters: ['a', 'b', 'c', 'd'], learners: [] });
    net.cut('a', 'b');
    net.cut('a', 'c');
    const r = net.propose('a', 'y'); // a + d = 2 of 4: not a majority
    expect(net.core('a').status().commit).toBeLessThan((r as { index: number }).index);
    net.heal();
    net.cut('a', 'c');
    net.tick(1, ['a']); // a + b + d = 3 of 4
    expect(net.member('d').applied).toEqual(['x', 'y']);
  });

  it('proposeConfChange(promote) of a node that is not a learner is invalid and says why', () => {
    const net = new Network(ABC);
    net.elect('a');
    net.tick(1, ['a']);
    const voter = net.core('a').proposeConfChange({ type: 'promote', node: 'b' });
    expect(voter).toMatchObject({ ok: false, reason: 'invalid' });
    expect((voter as { detail: string }).detail).toMatch(/b.*not a learner.*already a voter/);
    const stranger = net.core('a').proposeConfChange({ type: 'promote', node: 'z' });
    expect((stranger as { detail: string }).detail).toMatch(/not a member/);
  });

  it('proposeConfChange() refuses to remove or demote the last voter', () => {
    const net = new Network(['a']);
    net.elect('a');
    expect(net.core('a').proposeConfChange({ type: 'remove', node: 'a' })).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
    expect(net.core('a').proposeConfChange({ type: 'demote', node: 'a' })).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
  });

  it('proposeConfChange(demote) turns a voter into a learner that still receives the log', () => {
    const net = new Network(ABC);
    net.elect('a');
    net.tick(1, ['a']);
    expect(net.core('a').proposeConfChange({ type: 'demote', node: 'c' }).ok).toBe(true);
    net.settle();
    expect(net.core('c').status().conf).toEqual({ voters: ['a', 'b'], learners: ['c'] });
    net.propose('a', 'z');
    expect(net.member('c').applied).toEqual(['z']);
    net.isolate('c');
    net.tick(60, ['c']);
    expect(net.core('c').status().term).toBe(1); // demoted: never campaigns
  });

  it('proposeConfChange(remove) of a follower stops replication to it and shrinks the quorum', () => {
    const net = new Network(ABC);
    net.elect('a');
    net.tick(1, ['a']);
    expect(net.core('a').proposeConfChange({ type: 'remove', node: 'c' }).ok).toBe(true);
    net.settle();
    expect(
      net
        .core('a')
        .status()
        .progress!.map((p) => p.id)
        .sort(),
    ).toEqual(['a', 'b']);
    const since = net.delivered.length;
    net.cut('a', 'b');
    net.isolate('c');
    net.heal();
    net.propose('a', 'after');
    expect(net.delivered.slice(since).some((m) => m.to === 'c')).toBe(false);
    expect(net.member('b').applied).toEqual(['after']);
  });

  it('a leader that demotes itself steps down once the change commits and a voter takes over', () => {
    const net = new Network(ABC);
    net.elect('a');
    net.tick(1, ['a']);
    expect(net.core('a').proposeConfChange({ type: 'demote', node: 'a' }).ok).toBe(true);
    net.settle();
    expect(net.core('a').status().role).toBe('follower');
    // the outgoing leader handed over with timeoutNow: no election timeout needed
    expect(['b', 'c']).toContain(net.leader());
    net.propose(net.leader()!, 'next');
    expect(net.member('a').applied).toEqual(['next']);
  });

  it('a leader removed by its own proposal keeps leading until the removal commits', () => {
    const net = new Network(ABC);
    net.elect('a');
    net.tick(1, ['a']);
    net.filter = (m) => m.type !== 'appendResp';
    net.core('a').proposeConfChange({ type: 'remove', node: 'a' });
    net.settle();
    expect(net.core('a').status()).toMatchObject({ role: 'leader', conf: { voters: ['b', 'c'], learners: [] } });
    net.heal();
    net.tick(1, ['a']);
    expect(net.core('a').status().role).toBe('follower');
  });
});
