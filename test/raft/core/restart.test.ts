import { RaftConfigError, RaftCore, RestoredStateError, encodeConfChange } from '../../../src/raft/core/index.js';
import { EntryType } from '../../../src/raft/types.js';
import { entriesWithTerms } from './support/helpers.js';
import { Network, bytes } from './support/network.js';
import { seeded } from './support/prng.js';

describe('RaftCore restart', () => {
  it('new RaftCore() elects, replicates and commits in a 3-node cluster', () => {
    const net = new Network(['a', 'b', 'c']);
    net.elect('a');
    expect(net.core('a').status().role).toBe('leader');
    for (let i = 0; i < 5; i++) expect(net.propose('a', `v${i}`).ok).toBe(true);
    for (const id of ['a', 'b', 'c']) {
      expect(net.member(id).applied).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
      expect(net.core(id).status().commit).toBe(6);
    }
  });

  it('new RaftCore() restores term, vote and log and replays committed entries', () => {
    const net = new Network(['a', 'b', 'c']);
    net.elect('a');
    net.propose('a', 'x');
    net.propose('a', 'y');
    const before = net.core('b').status();
    const core = net.restart('b');
    const after = core.status();
    expect(after.term).toBe(before.term);
    expect(after.vote).toBe(before.vote);
    expect(after.lastIndex).toBe(before.lastIndex);
    expect(after.applied).toBe(0);
    expect(after.conf).toEqual({ voters: ['a', 'b', 'c'], learners: [] });
    net.settle();
    expect(net.member('b').applied).toEqual(['x', 'y']);
  });

  it('new RaftCore() starts a single voter that elects itself and commits on advance', () => {
    const core = new RaftCore(
      { id: 'solo', random: seeded(3) },
      { hardState: { term: 0, vote: null, commit: 0 }, entries: [], bootstrapConf: { voters: ['solo'], learners: [] } },
    );
    for (let i = 0; i < 20 && core.status().role !== 'leader'; i++) core.tick();
    expect(core.status().role).toBe('leader');
    const p = core.propose(bytes('one'));
    expect(p.ok).toBe(true);
    let rd = core.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(rd.committedEntries).toEqual([]);
    core.advance(rd);
    rd = core.ready();
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1, 2]);
    expect(rd.hardState?.commit).toBe(2);
    core.advance(rd);
    expect(core.hasReady()).toBe(false);
  });

  it('new RaftCore() takes its configuration from the last ConfChange in the log, else the snapshot', () => {
    const snapshot = {
      meta: { index: 5, term: 2, conf: { voters: ['a', 'b', 'c'], learners: [] } },
      data: bytes('[]'),
    };
    const change = {
      index: 7,
      term: 2,
      type: EntryType.ConfChange,
      data: encodeConfChange({ type: 'addLearner', node: 'd' }),
    };
    const entries = [...entriesWithTerms([2], 5), change];
    const core = new RaftCore(
      { id: 'a', random: seeded(1) },
      { hardState: { term: 2, vote: 'a', commit: 6 }, snapshot, entries },
    );
    expect(core.status()).toMatchObject({
      firstIndex: 6,
      lastIndex: 7,
      commit: 6,
      applied: 5,
      conf: { voters: ['a', 'b', 'c'], learners: ['d'] },
    });
    const rd = core.ready();
    expect(rd.committedEntries.map((e) => e.index)).toEqual([6]);
    expect(rd.snapshot).toBeUndefined(); // already persisted and applied by the caller
    core.advance(rd);
    const plain = new RaftCore(
      { id: 'a', random: seeded(1) },
      { hardState: { term: 2, vote: 'a', commit: 5 }, snapshot, entries: [] },
    );
    expect(plain.status().conf).toEqual(snapshot.meta.conf);
  });

  it('new RaftCore() refuses a restored state whose commit is beyond its log or whose log has a gap', () => {
    const conf = { voters: ['a'], learners: [] };
    expect(
      () =>
        new RaftCore(
          { id: 'a', random: seeded(1) },
          { hardState: { term: 1, vote: null, commit: 3 }, entries: entriesWithTerms([1]), bootstrapConf: conf },
        ),
    ).toThrow(RestoredStateError);
    const gap = [...entriesWithTerms([1]), { index: 3, term: 1, type: EntryType.Normal, data: bytes('') }];
    expect(
      () =>
        new RaftCore(
          { id: 'a', random: seeded(1) },
          { hardState: { term: 1, vote: null, commit: 0 }, entries: gap, bootstrapConf: conf },
        ),
    ).toThrow(/gap/);
  });

  it('new RaftCore() rejects out-of-range tunables with a RaftConfigError naming the value', () => {
    const restored = {
      hardState: { term: 0, vote: null, commit: 0 },
      entries: [],
      bootstrapConf: { voters: ['a'], learners: [] },
    };
    expect(() => new RaftCore({ id: 'a', random: seeded(1), electionTick: 2, heartbeatTick: 2 }, restored)).toThrow(
      RaftConfigError,
    );
    expect(() => new RaftCore({ id: 'a', random: seeded(1), maxInflightMsgs: 0 }, restored)).toThrow(
      /maxInflightMsgs.*got 0/,
    );
  });

  it('a restarted leader is re-elected and the cluster keeps every committed entry', () => {
    const net = new Network(['a', 'b', 'c'], { electionTick: 10 });
    net.elect('a');
    net.propose('a', 'x');
    net.restart('a');
    net.tick(40);
    const leader = net.leader()!;
    expect(leader).toBeDefined();
    net.propose(leader, 'y');
    for (const id of ['a', 'b', 'c']) expect(net.member(id).applied).toEqual(['x', 'y']);
  });

  it('a joiner that replays the log from index 1 learns the founding configuration from it', () => {
    const net = new Network(['a', 'b', 'c']);
    net.elect('a');
    net.add('d', { voters: [], learners: [] });
    net.core('a').proposeConfChange({ type: 'addLearner', node: 'd' });
    net.settle();
    net.tick(1, ['a']);
    expect(net.core('d').status().conf).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    const restarted = net.restart('d');
    expect(restarted.status().conf).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
  });
});

describe('RaftCore replay', () => {
  it('ready() replays a long committed log in batches of about maxSizePerMsg bytes', () => {
    const entries = Array.from({ length: 10 }, (_, i) => ({
      index: i + 1,
      term: 1,
      type: EntryType.Normal,
      data: new Uint8Array(100),
    }));
    const core = new RaftCore(
      { id: 'a', random: seeded(1), maxSizePerMsg: 250 },
      {
        hardState: { term: 1, vote: null, commit: 10 },
        entries,
        bootstrapConf: { voters: ['a', 'b', 'c'], learners: [] },
      },
    );
    const batches: number[][] = [];
    for (let i = 0; i < 20 && core.hasReady(); i++) {
      const rd = core.ready();
      batches.push(rd.committedEntries.map((e) => e.index));
      core.advance(rd);
    }
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
      [9, 10],
    ]);
  });
});
