/**
 * What a Ready may promise: no message acknowledges an entry that a later step of the same
 * Ready replaced, and a node never restarts with a log ahead of its term. Each case was found
 * by the simulator (the seed is named) and is built here by hand.
 */
import type { AppendRequest, Entry, Message, SnapshotRequest } from '../../../src/raft/types.js';
import { EntryType } from '../../../src/raft/types.js';
import { drain, entriesWithTerms, newCore } from './support/helpers.js';

const entry = (index: number, term: number): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array() });

function append(from: string, term: number, prev: [number, number], entries: Entry[], commit = 0): AppendRequest {
  return {
    type: 'append',
    from,
    to: 'b',
    term,
    prevLogIndex: prev[0],
    prevLogTerm: prev[1],
    entries,
    commit,
  };
}

const successAcks = (messages: readonly Message[]) =>
  messages.flatMap((m) => (m.type === 'appendResp' && m.success ? [`${m.to}:${m.index}@${m.term}`] : []));

describe('RaftCore acknowledgements within one Ready', () => {
  // seed 4792: n2 acknowledged index 39 to n1 (term 1), then in the same Ready became n4's
  // follower in term 2 and replaced its entries from 34 on; the acknowledgement went out after
  // the write, vouching for entries no longer on disk
  it('ready() drops an acknowledgement of entries that a later append in the same Ready replaced', () => {
    const core = newCore('b', ['a', 'b', 'c', 'd'], { terms: [1, 1] });
    core.step(append('a', 1, [2, 1], [entry(3, 1), entry(4, 1), entry(5, 1)]));
    core.step(append('d', 2, [2, 1], [entry(3, 2)]));
    const rd = drain(core);
    expect(rd.entries.map((e) => `${e.index}/${e.term}`)).toEqual(['3/2']);
    expect(successAcks(rd.messages)).toEqual(['d:3@2']);
  });

  it('ready() keeps an acknowledgement of entries below the replaced ones', () => {
    const core = newCore('b', ['a', 'b', 'c', 'd'], { terms: [1, 1] });
    core.step(append('a', 1, [2, 1], [entry(3, 1)]));
    core.step(append('d', 2, [3, 1], [entry(4, 2)]));
    core.step(append('d', 2, [3, 1], [entry(4, 2)]));
    const rd = drain(core);
    expect(successAcks(rd.messages)).toEqual(['a:3@1', 'd:4@2', 'd:4@2']);
  });

  it('ready() drops acknowledgements to an earlier leader when a snapshot replaces the whole log', () => {
    const core = newCore('b', ['a', 'b', 'c', 'd'], { terms: [1, 1] });
    core.step(append('a', 1, [2, 1], [entry(3, 1)]));
    const snapshot: SnapshotRequest = {
      type: 'snapshot',
      from: 'd',
      to: 'b',
      term: 2,
      meta: { index: 10, term: 2, conf: { voters: ['a', 'b', 'c', 'd'], learners: [] } },
      offset: 0,
      chunk: new Uint8Array([1]),
      done: true,
    };
    core.step(snapshot);
    const rd = drain(core);
    expect(rd.snapshot?.meta.index).toBe(10);
    expect(successAcks(rd.messages)).toEqual([]);
    expect(rd.messages.some((m) => m.type === 'snapshotResp' && m.done)).toBe(true);
  });
});

describe('RaftCore restart with a log ahead of the persisted term', () => {
  // the snapshot file of a Ready is written before the WAL frame with its hard state: a crash
  // between the two leaves a snapshot of a term the hard state never reached
  it('new RaftCore() takes the term of its last entry, with no vote, and persists it in the first Ready', () => {
    const snapshot = {
      meta: { index: 4, term: 3, conf: { voters: ['a', 'b', 'c'], learners: [] } },
      data: new Uint8Array(),
    };
    const core = newCore('b', ['a', 'b', 'c'], { snapshot, terms: [3], term: 1, vote: 'a', commit: 4 });
    expect(core.status()).toMatchObject({ term: 3, vote: null, lastIndex: 5 });
    const rd = drain(core);
    expect(rd.hardState).toEqual({ term: 3, vote: null, commit: 4 });
    expect(rd.mustSync).toBe(true);
  });

  it('new RaftCore() keeps term and vote when the log is not ahead', () => {
    const core = newCore('b', ['a', 'b', 'c'], {
      terms: entriesWithTerms([1, 2]).map((e) => e.term),
      term: 2,
      vote: 'a',
    });
    expect(core.status()).toMatchObject({ term: 2, vote: 'a' });
  });
});

describe('RaftCore answers a vote request of an earlier term', () => {
  // seed 14866: a candidate nobody could elect kept raising the voters' terms; the one
  // electable candidate asked in older terms, was ignored, and never learnt the current one
  it('step() refuses it with the current term, so the candidate catches up', () => {
    const core = newCore('b', ['a', 'b', 'c'], { terms: [1], term: 7 });
    core.step({
      type: 'vote',
      from: 'a',
      to: 'b',
      term: 5,
      preVote: false,
      lastLogIndex: 3,
      lastLogTerm: 1,
      transfer: false,
    });
    const rd = drain(core);
    expect(rd.messages).toEqual([{ type: 'voteResp', from: 'b', to: 'a', term: 7, preVote: false, granted: false }]);
  });
});
