/** The core's sub-algorithms with no Raft state: quorum, configuration changes, windows, reads, chunking. */
import {
  applyConfChange,
  committedIndex,
  confAfter,
  encodeConfChange,
  hasQuorum,
  voteResult,
} from '../../../src/raft/core/index.js';
import { Inflights } from '../../../src/raft/core/inflights.js';
import { ReadOnlyQueue } from '../../../src/raft/core/read-only.js';
import { SnapshotSender } from '../../../src/raft/core/snapshot-sender.js';
import { EntryType } from '../../../src/raft/types.js';
import { bytes } from './support/network.js';

describe('quorum', () => {
  it.each([
    [['a'], { a: 5 }, 5],
    [['a', 'b', 'c'], { a: 5, b: 3, c: 1 }, 3],
    [['a', 'b', 'c', 'd'], { a: 5, b: 3, c: 1, d: 9 }, 3],
    [['a', 'b', 'c', 'd', 'e'], { a: 1, b: 2, c: 3, d: 4, e: 5 }, 3],
    [[], {}, 0],
  ])('committedIndex(%j) is the index a majority holds', (voters, matches, want) => {
    expect(committedIndex(voters, (id) => (matches as Record<string, number>)[id] ?? 0)).toBe(want);
  });

  it.each([
    [['a', 'b', 'c'], { a: true }, 'pending'],
    [['a', 'b', 'c'], { a: true, b: true }, 'won'],
    [['a', 'b', 'c'], { a: true, b: false, c: false }, 'lost'],
    [['a', 'b', 'c', 'd'], { a: true, b: true, c: false }, 'pending'],
    [['a', 'b', 'c', 'd'], { a: true, b: false, c: false }, 'lost'],
    [['a', 'b', 'c'], { a: true, x: true }, 'pending'],
  ])('voteResult(%j, %j) is %s', (voters, votes, want) => {
    expect(voteResult(voters, new Map(Object.entries(votes)))).toBe(want);
  });

  it('hasQuorum() ignores non-voters and is false without voters', () => {
    expect(hasQuorum(['a', 'b', 'c'], (id) => id === 'a' || id === 'x')).toBe(false);
    expect(hasQuorum([], () => true)).toBe(false);
  });
});

describe('conf', () => {
  const conf = { voters: ['a', 'b'], learners: ['l'] };
  it.each([
    [
      { type: 'addLearner', node: 'n' },
      { voters: ['a', 'b'], learners: ['l', 'n'] },
    ],
    [
      { type: 'promote', node: 'l' },
      { voters: ['a', 'b', 'l'], learners: [] },
    ],
    [
      { type: 'demote', node: 'b' },
      { voters: ['a'], learners: ['l', 'b'] },
    ],
    [
      { type: 'remove', node: 'l' },
      { voters: ['a', 'b'], learners: [] },
    ],
    [
      { type: 'remove', node: 'a' },
      { voters: ['b'], learners: ['l'] },
    ],
  ] as const)('applyConfChange(%j) applies', (change, want) => {
    expect(applyConfChange(conf, change)).toEqual({ ok: true, conf: want });
  });

  it.each([
    [{ type: 'addLearner', node: 'a' }, /already a voter/],
    [{ type: 'addLearner', node: 'l' }, /already a learner/],
    [{ type: 'promote', node: 'a' }, /not a learner/],
    [{ type: 'demote', node: 'l' }, /not a voter/],
    [{ type: 'remove', node: 'z' }, /not a member/],
  ] as const)('applyConfChange(%j) is refused with a reason', (change, why) => {
    const r = applyConfChange(conf, change);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.detail).toMatch(why);
  });

  it('confAfter() skips invalid changes identically everywhere', () => {
    const e = (index: number, data: Uint8Array) => ({ index, term: 1, type: EntryType.ConfChange, data });
    const entries = [
      e(1, encodeConfChange({ type: 'promote', node: 'a' })),
      e(2, bytes('garbage')),
      e(3, encodeConfChange({ type: 'promote', node: 'l' })),
    ];
    expect(confAfter(conf, entries)).toEqual({ voters: ['a', 'b', 'l'], learners: [] });
  });
});

describe('Inflights', () => {
  it('full() after capacity adds; freeLE() and freeFirstOne() make room', () => {
    const w = new Inflights(3);
    w.add(1);
    w.add(4);
    w.add(6);
    expect(w.full()).toBe(true);
    w.freeLE(4);
    expect(w.count()).toBe(1);
    w.freeFirstOne();
    expect(w.count()).toBe(0);
  });
});

describe('ReadOnlyQueue', () => {
  it('advance() releases the confirmed request and every earlier one, in order', () => {
    const q = new ReadOnlyQueue();
    q.add(bytes('1'), 5, 'a', 'a');
    q.add(bytes('2'), 6, 'b', 'a');
    q.add(bytes('3'), 7, 'a', 'a');
    expect(q.recvAck('c', bytes('2'))).toEqual(new Set(['a', 'c']));
    expect(q.advance(bytes('2')).map((r) => [r.index, r.requesters])).toEqual([
      [5, ['a']],
      [6, ['b']],
    ]);
    expect(q.size()).toBe(1);
    expect(q.recvAck('c', bytes('zz'))).toBeUndefined();
  });
});

describe('SnapshotSender', () => {
  const snapshot = { meta: { index: 9, term: 2, conf: { voters: ['a'], learners: [] } }, data: new Uint8Array(10) };

  it('start() sends a window of chunks and ack() slides it', () => {
    const s = new SnapshotSender(2, 2);
    expect(s.start('b', snapshot).map((c) => c.offset)).toEqual([0, 2]);
    expect(s.ack('b', 9, 2, 2).map((c) => c.offset)).toEqual([4]);
    expect(s.ack('b', 9, 2, 6).map((c) => [c.offset, c.done])).toEqual([
      [6, false],
      [8, true],
    ]);
    expect(s.ack('b', 9, 2, 10)).toEqual([]);
  });

  it('ack() of the same count twice resends from there; reject() restarts at 0; other snapshots are ignored', () => {
    const s = new SnapshotSender(2, 2);
    s.start('b', snapshot);
    s.ack('b', 9, 2, 2);
    expect(s.ack('b', 9, 2, 2).map((c) => c.offset)).toEqual([2, 4]);
    expect(s.reject('b', 9, 2).map((c) => c.offset)).toEqual([0, 2]);
    expect(s.ack('b', 8, 2, 4)).toEqual([]);
  });

  it('retransmitIfStalled() resends only after two rounds without an acknowledgement', () => {
    const s = new SnapshotSender(2, 1);
    s.start('b', snapshot);
    expect(s.retransmitIfStalled('b')).toEqual([]); // first check: just records progress
    expect(s.retransmitIfStalled('b')).toEqual([]); // one round of grace
    expect(s.retransmitIfStalled('b').map((c) => c.offset)).toEqual([0]);
    s.ack('b', 9, 2, 2);
    expect(s.retransmitIfStalled('b')).toEqual([]); // progress resets the count
  });
});
