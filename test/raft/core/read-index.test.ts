/** Linearizable reads with ReadIndex (thesis §6.4). */
import { drain, makeLeader, messages, newCore } from './support/helpers.js';
import { Network, bytes, text } from './support/network.js';

const ABC = ['a', 'b', 'c'];

describe('readIndex()', () => {
  it('readIndex() on the leader yields a ReadState at the commit index after a heartbeat round', () => {
    const net = new Network(ABC);
    net.elect('a');
    net.propose('a', 'x');
    const commit = net.core('a').status().commit;
    net.filter = (m) => m.type !== 'heartbeatResp';
    expect(net.core('a').readIndex(bytes('r1'))).toEqual({ ok: true });
    net.settle();
    expect(net.member('a').readStates).toEqual([]); // not confirmed yet
    net.heal();
    net.tick(1, ['a']); // the next heartbeats carry the context again
    expect(net.member('a').readStates).toEqual([{ context: bytes('r1'), index: commit }]);
  });

  it('readIndex() on the leader is refused with noQuorumYet before it commits an entry of its term', () => {
    const core = newCore('a', ABC);
    makeLeader(core, ['b']);
    expect(core.readIndex(bytes('r'))).toMatchObject({ ok: false, reason: 'noQuorumYet' });
  });

  it('readIndex() on a single voter is served at once', () => {
    const net = new Network(['a']);
    net.elect('a');
    expect(net.core('a').readIndex(bytes('solo')).ok).toBe(true);
    net.settle();
    expect(net.member('a').readStates).toEqual([{ context: bytes('solo'), index: 1 }]);
  });

  it('readIndex() on a follower forwards to the leader and the answer becomes its ReadState', () => {
    const net = new Network(ABC);
    net.elect('a');
    net.propose('a', 'x');
    expect(net.core('c').readIndex(bytes('from-c')).ok).toBe(true);
    net.settle();
    expect(net.delivered.some((m) => m.type === 'readIndex' && m.from === 'c' && m.to === 'a')).toBe(true);
    expect(net.member('c').readStates).toEqual([{ context: bytes('from-c'), index: 2 }]);
  });

  it('readIndex() on a follower whose leader cannot serve yet yields index -1', () => {
    const leader = newCore('a', ABC);
    makeLeader(leader, ['b']);
    drain(leader);
    leader.step({ type: 'readIndex', from: 'b', to: 'a', term: 1, context: bytes('q') });
    expect(messages(leader)).toEqual([
      { type: 'readIndexResp', from: 'a', to: 'b', term: 1, context: bytes('q'), index: -1 },
    ]);
    const follower = newCore('b', ABC, { term: 1 });
    follower.step({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 0 });
    drain(follower);
    follower.step({ type: 'readIndexResp', from: 'a', to: 'b', term: 1, context: bytes('q'), index: -1 });
    expect(drain(follower).readStates).toEqual([{ context: bytes('q'), index: -1 }]);
  });

  it('readIndex() without a known leader is refused with notLeader', () => {
    const core = newCore('b', ABC);
    expect(core.readIndex(bytes('q'))).toMatchObject({ ok: false, reason: 'notLeader', leader: null });
  });

  it('a leader that loses leadership answers its pending reads with -1', () => {
    const net = new Network(ABC, { electionTick: 10 });
    net.elect('a');
    net.tick(1, ['a']);
    net.isolate('a');
    net.core('a').readIndex(bytes('lost'));
    net.tick(25, ['a']); // check-quorum: a steps down
    expect(net.core('a').status().role).toBe('follower');
    expect(net.member('a').readStates.map((r) => [text(r.context), r.index])).toEqual([['lost', -1]]);
  });

  it('readIndex() requests are answered in order once a later one is confirmed', () => {
    const net = new Network(ABC);
    net.elect('a');
    net.tick(1, ['a']);
    net.filter = (m) => m.type !== 'heartbeatResp';
    net.core('a').readIndex(bytes('1'));
    net.core('a').readIndex(bytes('2'));
    net.settle();
    net.heal();
    net.tick(1, ['a']);
    expect(net.member('a').readStates.map((r) => text(r.context))).toEqual(['1', '2']);
  });
});
