/** The Ready contract: persist, send, apply, advance — and throw when it is broken. */
import { ReadyContractError } from '../../../src/raft/core/index.js';
import { drain, makeLeader, newCore } from './support/helpers.js';
import { Network, bytes } from './support/network.js';

const ABC = ['a', 'b', 'c'];

describe('Ready', () => {
  it('ready() twice without advance() throws a ReadyContractError that says what to do', () => {
    const core = newCore('a', ABC);
    core.campaign();
    core.ready();
    expect(() => core.ready()).toThrow(ReadyContractError);
    expect(() => core.ready()).toThrow(/advance/);
  });

  it('advance() of a Ready that is not the outstanding one throws', () => {
    const core = newCore('a', ABC);
    core.campaign();
    const rd = core.ready();
    expect(() => core.advance({ ...rd })).toThrow(ReadyContractError);
    core.advance(rd);
    expect(() => core.advance(rd)).toThrow(ReadyContractError);
  });

  it('hasReady() is false while a Ready is out and when nothing changed', () => {
    const core = newCore('a', ABC);
    expect(core.hasReady()).toBe(false);
    core.campaign();
    expect(core.hasReady()).toBe(true);
    const rd = core.ready();
    core.propose(bytes('ignored: not leader'));
    expect(core.hasReady()).toBe(false);
    core.advance(rd);
    expect(core.hasReady()).toBe(false);
  });

  it('ready() sets mustSync for term, vote and entries but not for a commit-only change', () => {
    const core = newCore('a', ['a', 'b']);
    makeLeader(core, ['b']);
    const first = drain(core);
    expect(first.mustSync).toBe(true);
    expect(first.softState).toEqual({ leader: 'a', role: 'leader' });
    const term = core.status().term;
    core.step({ type: 'appendResp', from: 'b', to: 'a', term, success: true, index: 1, hintIndex: 0, hintTerm: 0 });
    const rd = drain(core);
    expect(rd.hardState).toEqual({ term, vote: 'a', commit: 1 });
    expect(rd.entries).toEqual([]);
    expect(rd.mustSync).toBe(false);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1]);
  });

  it('ready() hands each entry out once to persist and once to apply', () => {
    const net = new Network(ABC);
    net.elect('a');
    for (let i = 0; i < 10; i++) net.propose('a', `v${i}`);
    for (const id of ABC) {
      const readys = net.member(id).readys;
      const persisted = readys.flatMap((rd) => rd.entries.map((e) => e.index));
      const applied = readys.flatMap((rd) => rd.committedEntries.map((e) => e.index));
      expect(persisted).toEqual([...Array(11).keys()].map((i) => i + 1));
      expect(applied).toEqual([...Array(11).keys()].map((i) => i + 1));
    }
  });

  it('ready() on a follower carries the append acknowledgement with the entries it promises', () => {
    const core = newCore('b', ABC, { term: 1 });
    const entries = [{ index: 1, term: 1, type: 0 as const, data: bytes('x') }];
    core.step({ type: 'append', from: 'a', to: 'b', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries, commit: 0 });
    const rd = core.ready();
    expect(rd.entries).toEqual(entries);
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'appendResp', success: true, index: 1 })]);
    core.advance(rd);
  });

  it('step() of a message while a Ready is out lands in the next Ready', () => {
    const core = newCore('b', ABC, { term: 1 });
    core.step({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 0 });
    const rd1 = core.ready();
    core.step({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 0 });
    core.advance(rd1);
    expect(rd1.messages.length).toBe(1);
    expect(drain(core).messages.length).toBe(1);
  });

  it('step() never throws on malformed or misrouted peer messages', () => {
    const core = newCore('a', ABC, { term: 2 });
    expect(() => {
      core.step({
        type: 'append',
        from: 'b',
        to: 'zz',
        term: 9,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [],
        commit: 0,
      });
      core.step({
        type: 'appendResp',
        from: 'q',
        to: 'a',
        term: 2,
        success: true,
        index: 99,
        hintIndex: 0,
        hintTerm: 0,
      });
      core.step({
        type: 'snapshotResp',
        from: 'b',
        to: 'a',
        term: 2,
        meta: { index: 5, term: 1 },
        received: 3,
        done: false,
        reject: false,
      });
      core.step({
        type: 'append',
        from: 'b',
        to: 'a',
        term: 2,
        prevLogIndex: 50,
        prevLogTerm: 1,
        entries: [],
        commit: 70,
      });
      core.step({ type: 'heartbeat', from: 'b', to: 'a', term: 2, commit: 70 });
    }).not.toThrow();
    expect(core.status().commit).toBe(0);
  });
});

describe('step() input checks', () => {
  it.each([
    [
      'an append whose entries skip an index',
      {
        type: 'append',
        from: 'b',
        to: 'a',
        term: 3,
        prevLogIndex: 0,
        prevLogTerm: 0,
        commit: 0,
        entries: [{ index: 2, term: 3, type: 0, data: new Uint8Array() }],
      },
    ],
    [
      'an append without entries',
      { type: 'append', from: 'b', to: 'a', term: 3, prevLogIndex: 0, prevLogTerm: 0, commit: 0 },
    ],
    ['a negative term', { type: 'heartbeat', from: 'b', to: 'a', term: -1, commit: 0 }],
    ['an unknown type', { type: 'gossip', from: 'b', to: 'a', term: 3 }],
    [
      'a snapshot chunk without data',
      {
        type: 'snapshot',
        from: 'b',
        to: 'a',
        term: 3,
        meta: { index: 1, term: 1, conf: { voters: [], learners: [] } },
        offset: 0,
        done: true,
      },
    ],
  ])('step() drops %s without throwing or changing state', (_name, msg) => {
    const core = newCore('a', ABC, { term: 2 });
    expect(() => core.step(msg as never)).not.toThrow();
    expect(core.status()).toMatchObject({ term: 2, lastIndex: 0, leader: null });
    expect(core.hasReady()).toBe(false);
  });
});

describe('compact()', () => {
  it('compact() may be called while the Ready that applied the entries is still out', () => {
    const net = new Network(['a']);
    net.elect('a');
    const core = net.core('a');
    core.propose(bytes('x'));
    const rd1 = core.ready();
    core.advance(rd1);
    const rd2 = core.ready();
    expect(rd2.committedEntries.map((e) => e.index)).toEqual([2]);
    core.compact(2, bytes('["x"]'));
    core.advance(rd2);
    expect(core.status()).toMatchObject({ firstIndex: 3, applied: 2, commit: 2 });
    expect(() => core.compact(5, bytes(''))).toThrow(/only 2 entries are applied/);
  });
});
