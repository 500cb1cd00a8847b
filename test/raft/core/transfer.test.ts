/** Leadership transfer (thesis §3.10). */
import { Network, bytes } from './support/network.js';

const ABC = ['a', 'b', 'c'];

describe('transferLeader()', () => {
  it('transferLeader() to an up-to-date voter makes it leader in the next term', () => {
    const net = new Network(ABC, { electionTick: 10 });
    net.elect('a');
    net.propose('a', 'x');
    expect(net.core('a').transferLeader('b')).toEqual({ ok: true });
    net.settle();
    expect(net.core('b').status()).toMatchObject({ role: 'leader', term: 2 });
    expect(net.core('a').status()).toMatchObject({ role: 'follower', leader: 'b' });
    // the vote went through although c had a live leader (the request was marked as a transfer)
    expect(net.delivered.some((m) => m.type === 'vote' && m.transfer && !m.preVote)).toBe(true);
    net.propose('b', 'y');
    expect(net.member('a').applied).toEqual(['x', 'y']);
  });

  it('transferLeader() brings a lagging target up to date first and refuses proposals meanwhile', () => {
    const net = new Network(ABC, { electionTick: 10 });
    net.elect('a');
    net.isolate('b');
    net.propose('a', 'x');
    net.propose('a', 'y');
    net.heal();
    net.filter = (m) => !(m.to === 'b' && m.type === 'append');
    expect(net.core('a').transferLeader('b').ok).toBe(true);
    expect(net.core('a').propose(bytes('z'))).toMatchObject({ ok: false, reason: 'transferring', leader: 'a' });
    expect(net.core('a').proposeConfChange({ type: 'remove', node: 'c' })).toMatchObject({
      ok: false,
      reason: 'transferring',
    });
    expect(net.core('a').status().transferee).toBe('b');
    net.heal();
    net.tick(1, ['a']);
    expect(net.core('b').status().role).toBe('leader');
    expect(net.member('b').applied).toEqual(['x', 'y']);
  });

  it('transferLeader() aborts after an election timeout if the target never takes over', () => {
    const net = new Network(ABC, { electionTick: 10 });
    net.elect('a');
    net.isolate('b');
    net.core('a').transferLeader('b');
    expect(net.core('a').propose(bytes('x')).ok).toBe(false);
    net.tick(10, ['a', 'c']);
    expect(net.core('a').status()).toMatchObject({ role: 'leader', transferee: null });
    expect(net.core('a').propose(bytes('x')).ok).toBe(true);
  });

  it('transferLeader() refuses a non-voter target and answers notLeader on a follower', () => {
    const net = new Network(ABC, { learners: ['d'] });
    net.elect('a');
    const r = net.core('a').transferLeader('d');
    expect(r).toMatchObject({ ok: false, reason: 'invalid' });
    expect((r as { detail: string }).detail).toMatch(/d.*not a voter/);
    expect(net.core('b').transferLeader('c')).toEqual({ ok: false, reason: 'notLeader', leader: 'a' });
  });
});
