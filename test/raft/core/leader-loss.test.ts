/** Fast leader-loss detection: reportUnreachable(leader) on a follower (see RaftCore.reportUnreachable). */
import { Network } from './support/network.js';

const ABC = ['a', 'b', 'c'];

describe('reportUnreachable() on a follower', () => {
  it('reportUnreachable(leader) on every follower elects a new leader within electionTick/3 ticks', () => {
    const net = new Network(ABC, { electionTick: 30 });
    net.elect('a');
    net.propose('a', 'x');
    net.isolate('a');
    net.core('b').reportUnreachable('a');
    net.core('c').reportUnreachable('a');
    expect(net.core('b').status().leader).toBeNull();
    net.tick(10, ['b', 'c']);
    net.settle();
    const leader = ['b', 'c'].find((id) => net.core(id).status().role === 'leader');
    expect(leader).toBeDefined();
    net.propose(leader!, 'y');
    expect(net.member(leader!).applied).toEqual(['x', 'y']);
  });

  it('a single follower that wrongly thinks the leader is gone does not disrupt it (pre-vote + lease)', () => {
    const net = new Network(ABC, { electionTick: 30 });
    net.elect('a');
    net.propose('a', 'x');
    // b's link to a breaks one way; c still hears from a.
    net.cut('a', 'b');
    net.core('b').reportUnreachable('a');
    net.tick(10, ['b']);
    net.settle();
    expect(net.core('a').status()).toMatchObject({ role: 'leader', term: 1 });
    expect(net.core('c').status()).toMatchObject({ leader: 'a', term: 1 });
  });

  it('reportUnreachable() of a peer that is not the leader changes nothing on a follower', () => {
    const net = new Network(ABC, { electionTick: 30 });
    net.elect('a');
    net.core('b').reportUnreachable('c');
    expect(net.core('b').status().leader).toBe('a');
    net.tick(5, ['b']);
    net.settle();
    expect(net.core('a').status()).toMatchObject({ role: 'leader', term: 1 });
  });
});
