/** Replication mechanics: fast back-off, pipelining and flow control, proposal limits. */
import type { AppendRequest, Message } from '../../../src/raft/types.js';
import { drain, entriesWithTerms, makeLeader, messages, newCore } from './support/helpers.js';
import { Network, bytes } from './support/network.js';

const ABC = ['a', 'b', 'c'];

const rejects = (net: Network, from: string) =>
  net.delivered.filter((m) => m.type === 'appendResp' && m.from === from && !m.success).length;

describe('fast back-off', () => {
  it('sendAppend() skips a whole conflicting term of a follower in one round trip', () => {
    // b holds 40 entries of term 2 from a leader that never committed them; a leads with term-3 entries
    const net = new Network(ABC, { preVote: false, checkQuorum: false });
    const logs: Record<string, number[]> = {
      a: [1, ...Array<number>(30).fill(3)],
      b: [1, ...Array<number>(40).fill(2)],
      c: [1, ...Array<number>(30).fill(3)],
    };
    for (const id of ABC) {
      net.members.set(id, { ...net.member(id), core: newCore(id, ABC, { terms: logs[id]!, term: 3, commit: 1 }) });
      net.member(id).storage.entries = entriesWithTerms(logs[id]!);
    }
    net.elect('a');
    expect(net.core('a').status().role).toBe('leader');
    expect(net.member('b').storage.entries.map((e) => e.term)).toEqual([...logs.a!, 4]);
    // without hints this would take ~40 rejections
    expect(rejects(net, 'b')).toBeLessThanOrEqual(2);
  });

  it("sendAppend() jumps to the end of a follower's shorter log at once", () => {
    const net = new Network(ABC, { preVote: false, checkQuorum: false });
    net.elect('a');
    net.isolate('c');
    for (let i = 0; i < 30; i++) net.propose('a', `v${i}`);
    net.heal();
    const since = net.delivered.length;
    net.propose('a', 'last');
    expect(net.member('c').applied.length).toBe(31);
    // one rejection of the probe, plus at most one of an append already in flight
    expect(rejects(net, 'c')).toBeLessThanOrEqual(2);
    expect(
      net.delivered.slice(since).filter((m) => m.type === 'append' && m.to === 'c' && m.entries.length > 0).length,
    ).toBeLessThanOrEqual(2);
  });

  it('step() of a rejection answers with hintIndex/hintTerm of the conflicting term', () => {
    const core = newCore('b', ABC, { terms: [1, 2, 2, 2] });
    core.step({ type: 'append', from: 'a', to: 'b', term: 5, prevLogIndex: 4, prevLogTerm: 3, entries: [], commit: 0 });
    expect(messages(core)[0]).toMatchObject({
      type: 'appendResp',
      success: false,
      index: 4,
      hintIndex: 2,
      hintTerm: 2,
    });
    core.step({ type: 'append', from: 'a', to: 'b', term: 5, prevLogIndex: 9, prevLogTerm: 3, entries: [], commit: 0 });
    expect(messages(core)[0]).toMatchObject({
      type: 'appendResp',
      success: false,
      index: 9,
      hintIndex: 4,
      hintTerm: 0,
    });
  });
});

describe('pipelining and flow control', () => {
  /** A leader 'a' of {a,b} whose peer b is in replicate state. */
  function replicatingLeader(opts: { maxInflightMsgs?: number; maxSizePerMsg?: number } = {}) {
    const core = newCore('a', ['a', 'b'], opts);
    makeLeader(core, ['b']);
    const term = core.status().term;
    drain(core);
    core.step({ type: 'appendResp', from: 'b', to: 'a', term, success: true, index: 1, hintIndex: 0, hintTerm: 0 });
    drain(core);
    expect(core.status().progress!.find((p) => p.id === 'b')!.state).toBe('replicate');
    return { core, term };
  }

  it('propose() streams appends without waiting for acks up to maxInflightMsgs, then pauses', () => {
    const { core } = replicatingLeader({ maxInflightMsgs: 3 });
    for (let i = 0; i < 5; i++) core.propose(bytes(`p${i}`));
    const apps = messages(core).filter((m): m is AppendRequest => m.type === 'append');
    expect(apps.map((m) => m.entries.map((e) => e.index))).toEqual([[2], [3], [4]]);
    expect(core.status().progress!.find((p) => p.id === 'b')).toMatchObject({ inflight: 3, next: 5 });
  });

  it('step() of an ack frees the window and sends what waited, batched', () => {
    const { core, term } = replicatingLeader({ maxInflightMsgs: 2 });
    for (let i = 0; i < 5; i++) core.propose(bytes(`p${i}`));
    drain(core);
    core.step({ type: 'appendResp', from: 'b', to: 'a', term, success: true, index: 3, hintIndex: 0, hintTerm: 0 });
    const apps = messages(core).filter((m): m is AppendRequest => m.type === 'append' && m.entries.length > 0);
    expect(apps.map((m) => m.entries.map((e) => e.index))).toEqual([[4, 5, 6]]);
  });

  it('step() of a heartbeat response lets one more append through a full window', () => {
    const { core, term } = replicatingLeader({ maxInflightMsgs: 1 });
    core.propose(bytes('p0'));
    core.propose(bytes('p1'));
    expect(messages(core).filter((m) => m.type === 'append').length).toBe(1);
    core.step({ type: 'heartbeatResp', from: 'b', to: 'a', term });
    const apps = messages(core).filter((m): m is AppendRequest => m.type === 'append');
    expect(apps.map((m) => m.entries.map((e) => e.index))).toEqual([[3]]);
  });

  it('sendAppend() respects maxSizePerMsg (but always sends at least one entry)', () => {
    const { core, term } = replicatingLeader({ maxInflightMsgs: 1, maxSizePerMsg: 250 });
    core.propose(new Uint8Array(1000)); // fills the window of 1
    for (let i = 0; i < 6; i++) core.propose(new Uint8Array(100));
    drain(core);
    core.step({ type: 'appendResp', from: 'b', to: 'a', term, success: true, index: 2, hintIndex: 0, hintTerm: 0 });
    const apps = messages(core).filter((m): m is AppendRequest => m.type === 'append' && m.entries.length > 0);
    expect(apps[0]!.entries.length).toBe(2);
  });

  it('reportUnreachable() moves a replicating peer back to probing', () => {
    const { core } = replicatingLeader();
    core.reportUnreachable('b');
    expect(core.status().progress!.find((p) => p.id === 'b')!.state).toBe('probe');
    core.propose(bytes('x'));
    core.propose(bytes('y'));
    // a probe: one message at a time
    expect(messages(core).filter((m) => m.type === 'append').length).toBe(1);
  });

  it('step() of a rejection in replicate state falls back to probing from the hint', () => {
    const { core, term } = replicatingLeader();
    for (let i = 0; i < 3; i++) core.propose(bytes(`p${i}`));
    drain(core);
    const reject: Message = {
      type: 'appendResp',
      from: 'b',
      to: 'a',
      term,
      success: false,
      index: 3,
      hintIndex: 2,
      hintTerm: 0,
    };
    core.step(reject);
    const pr = core.status().progress!.find((p) => p.id === 'b')!;
    expect(pr.state).toBe('probe');
    expect(pr.next).toBe(3); // b holds up to 2
  });
});

describe('propose()', () => {
  it('propose() on a follower returns notLeader with the known leader', () => {
    const net = new Network(ABC);
    net.elect('a');
    expect(net.core('b').propose(bytes('x'))).toEqual({ ok: false, reason: 'notLeader', leader: 'a' });
  });

  it('propose() refuses once maxUncommittedBytes are uncommitted and accepts again after commit', () => {
    const net = new Network(ABC, { maxUncommittedBytes: 1000 });
    net.elect('a');
    net.isolate('a');
    expect(net.core('a').propose(new Uint8Array(600)).ok).toBe(true);
    const refused = net.core('a').propose(new Uint8Array(600));
    expect(refused).toMatchObject({ ok: false, reason: 'invalid' });
    expect((refused as { detail: string }).detail).toMatch(/uncommitted/);
    net.heal();
    net.tick(1, ['a']);
    net.settle();
    expect(net.core('a').propose(new Uint8Array(600)).ok).toBe(true);
  });
});
