/** Pre-vote (thesis §9.6) and check-quorum (thesis §6.2): elections that do not disrupt. */
import type { VoteRequest } from '../../../src/raft/types.js';
import { drain, messages, newCore, ticks } from './support/helpers.js';
import { Network } from './support/network.js';

const ABC = ['a', 'b', 'c'];

describe('pre-vote', () => {
  it('campaign() sends pre-vote requests for term+1 and changes neither term nor vote', () => {
    const core = newCore('a', ABC, { preVote: true, term: 3 });
    core.campaign();
    const rd = drain(core);
    expect(core.status()).toMatchObject({ role: 'preCandidate', term: 3, vote: null });
    expect(rd.hardState).toBeUndefined();
    const reqs = rd.messages as VoteRequest[];
    expect(reqs.map((m) => [m.to, m.term, m.preVote])).toEqual([
      ['b', 4, true],
      ['c', 4, true],
    ]);
  });

  it("step() of a pre-vote request grants it without changing the voter's term or vote", () => {
    const core = newCore('b', ABC, { preVote: true, term: 3, vote: 'c' });
    core.step({
      type: 'vote',
      from: 'a',
      to: 'b',
      term: 4,
      preVote: true,
      lastLogIndex: 0,
      lastLogTerm: 0,
      transfer: false,
    });
    expect(messages(core)).toEqual([{ type: 'voteResp', from: 'b', to: 'a', term: 4, preVote: true, granted: true }]);
    expect(core.status()).toMatchObject({ term: 3, vote: 'c' });
  });

  it('campaign() after winning the pre-vote runs the real election and bumps the term once', () => {
    const net = new Network(ABC, { preVote: true });
    net.elect('a');
    expect(net.core('a').status()).toMatchObject({ role: 'leader', term: 1 });
    expect(net.delivered.filter((m) => m.type === 'vote' && m.preVote).length).toBe(2);
  });

  it('tick() on an isolated node with pre-vote never raises its term, so it rejoins without disruption', () => {
    const net = new Network(ABC, { preVote: true, checkQuorum: false, electionTick: 10 });
    net.elect('a');
    net.isolate('c');
    net.tick(100);
    expect(net.core('c').status()).toMatchObject({ term: 1, role: 'preCandidate' });
    net.heal();
    net.tick(5);
    expect(net.core('a').status()).toMatchObject({ role: 'leader', term: 1 });
    expect(net.core('c').status()).toMatchObject({ role: 'follower', leader: 'a', term: 1 });
  });

  it('step() of a pre-vote from a candidate with a stale log is refused', () => {
    const core = newCore('b', ABC, { preVote: true, terms: [1, 2] });
    core.step({
      type: 'vote',
      from: 'a',
      to: 'b',
      term: 3,
      preVote: true,
      lastLogIndex: 1,
      lastLogTerm: 1,
      transfer: false,
    });
    expect(messages(core)[0]).toMatchObject({ type: 'voteResp', granted: false, term: 2 });
  });
});

describe('check-quorum', () => {
  it('tick() makes a leader that has not heard from a quorum within an election timeout step down', () => {
    const net = new Network(ABC, { checkQuorum: true, electionTick: 10 });
    net.elect('a');
    net.isolate('a');
    net.tick(9, ['a']);
    expect(net.core('a').status().role).toBe('leader');
    net.tick(12, ['a']);
    expect(net.core('a').status()).toMatchObject({ role: 'follower', leader: null });
  });

  it('tick() keeps a leader that hears from a quorum in office', () => {
    const net = new Network(['a', 'b', 'c', 'd', 'e'], { checkQuorum: true, electionTick: 10 });
    net.elect('a');
    net.isolate('d');
    net.isolate('e');
    net.tick(50);
    expect(net.core('a').status()).toMatchObject({ role: 'leader', term: 1 });
  });

  it('step() of a vote request within the leader lease is ignored unless it is a transfer', () => {
    const core = newCore('b', ABC, { checkQuorum: true, term: 2 });
    core.step({ type: 'append', from: 'a', to: 'b', term: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [], commit: 0 });
    drain(core);
    const vote = (transfer: boolean): VoteRequest => ({
      type: 'vote',
      from: 'c',
      to: 'b',
      term: 3,
      preVote: false,
      lastLogIndex: 5,
      lastLogTerm: 2,
      transfer,
    });
    core.step(vote(false));
    expect(core.status().term).toBe(2);
    expect(messages(core)).toEqual([]);
    core.step(vote(true));
    expect(core.status()).toMatchObject({ term: 3, vote: 'c' });
    // once the lease has passed, ordinary requests count again
    const other = newCore('b', ABC, { checkQuorum: true, term: 2 });
    other.step({ type: 'heartbeat', from: 'a', to: 'b', term: 2, commit: 0 });
    ticks(other, 10);
    other.step(vote(false));
    expect(other.status().term).toBe(3);
  });

  it('a rejoining partitioned node does not disrupt a healthy leader (pre-vote and check-quorum)', () => {
    const net = new Network(ABC, { electionTick: 10, seed: 5 });
    net.elect('a');
    net.propose('a', 'x');
    net.isolate('c');
    net.tick(100);
    net.propose('a', 'y');
    net.heal();
    net.tick(30);
    expect(net.core('a').status()).toMatchObject({ role: 'leader', term: 1 });
    expect(net.member('c').applied).toEqual(['x', 'y']);
  });

  it('a removed node that keeps campaigning is ignored by members that hear from their leader', () => {
    const net = new Network(ABC, { electionTick: 10, preVote: false, checkQuorum: true });
    net.elect('a');
    net.isolate('c');
    net.tick(40, ['c']); // c alone raises its term
    const cTerm = net.core('c').status().term;
    expect(cTerm).toBeGreaterThan(1);
    net.heal();
    net.isolate('a'); // only c's vote requests reach b
    net.core('c').campaign();
    net.settle();
    expect(net.core('b').status()).toMatchObject({ term: 1, leader: 'a' });
  });
});

describe('disruptive servers (thesis §4.2.3)', () => {
  // seed 35666: n3 was removed while cut off and never learnt it; with neither pre-vote nor
  // check-quorum, its endless campaigns deposed the leader every few hundred ms, and the
  // leader never kept office long enough to finish the snapshot transfer its only other
  // voter needed, so nothing committed again
  const outsider = (from: string, term: number): VoteRequest => ({
    type: 'vote',
    from,
    to: 'b',
    term,
    preVote: false,
    lastLogIndex: 9,
    lastLogTerm: 2,
    transfer: false,
  });

  it('step() of a vote request from outside the configuration is ignored while the leader is heard, without check-quorum', () => {
    const core = newCore('b', ['a', 'b'], { term: 2 });
    core.step({ type: 'heartbeat', from: 'a', to: 'b', term: 2, commit: 0 });
    drain(core);
    core.step(outsider('c', 3));
    expect(core.status()).toMatchObject({ term: 2, leader: 'a' });
    expect(messages(core)).toEqual([]);
    // a member's request still counts without check-quorum, and so does the outsider's once
    // the leader has been silent for an election timeout
    const member = newCore('b', ['a', 'b', 'c'], { term: 2 });
    member.step({ type: 'heartbeat', from: 'a', to: 'b', term: 2, commit: 0 });
    member.step(outsider('c', 3));
    expect(member.status().term).toBe(3);
    const silent = newCore('b', ['a', 'b'], { term: 2 });
    silent.step({ type: 'heartbeat', from: 'a', to: 'b', term: 2, commit: 0 });
    ticks(silent, 10);
    silent.step(outsider('c', 3));
    expect(silent.status().term).toBe(3);
  });

  it('a voter removed while cut off campaigns forever without deposing the leader (no pre-vote, no check-quorum)', () => {
    const net = new Network(ABC, { electionTick: 10, preVote: false, checkQuorum: false });
    net.elect('a');
    net.isolate('c');
    expect(net.core('a').proposeConfChange({ type: 'remove', node: 'c' }).ok).toBe(true);
    net.settle();
    expect(net.core('b').status().conf.voters).toEqual(['a', 'b']);
    expect(net.core('c').status().conf.voters).toEqual(ABC); // c never hears of its removal
    net.heal();
    net.tick(100);
    expect(net.core('c').status().term).toBeGreaterThan(1); // c did campaign, to a and b
    expect(net.delivered.some((m) => m.type === 'vote' && m.from === 'c' && m.to === 'a')).toBe(true);
    expect(net.core('a').status()).toMatchObject({ role: 'leader', term: 1 });
    expect(net.core('b').status()).toMatchObject({ term: 1, leader: 'a' });
    net.propose('a', 'x');
    expect(net.member('b').applied).toEqual(['x']);
  });
});
