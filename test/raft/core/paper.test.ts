/**
 * Tests that map to sentences of the Raft paper (Ongaro & Ousterhout, "In Search of an
 * Understandable Consensus Algorithm", extended version) and, for membership, the thesis.
 * Pre-vote and check-quorum are off here so terms move exactly as the paper describes.
 */
import type { AppendRequest, Message, VoteRequest } from '../../../src/raft/types.js';
import { encodeConfChange } from '../../../src/raft/core/index.js';
import { EntryType } from '../../../src/raft/types.js';
import { drain, entriesWithTerms, makeLeader, messages, newCore, ticks } from './support/helpers.js';
import { Network, bytes } from './support/network.js';
import { seeded } from './support/prng.js';

const paperOpts = { preVote: false, checkQuorum: false };
const ABC = ['a', 'b', 'c'];

describe('§5.1 Raft basics', () => {
  it('"When servers start up, they begin as followers."', () => {
    const core = newCore('a', ABC);
    expect(core.status().role).toBe('follower');
    expect(core.status().leader).toBeNull();
  });

  it.each(['follower', 'candidate', 'leader'] as const)(
    '"If a candidate or leader discovers that its term is out of date, it immediately reverts to follower state" (%s)',
    (role) => {
      const core = newCore('a', ABC, { term: 1 });
      if (role === 'candidate') core.campaign();
      if (role === 'leader') makeLeader(core, ['b']);
      core.step({
        type: 'append',
        from: 'b',
        to: 'a',
        term: 5,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [],
        commit: 0,
      });
      expect(core.status()).toMatchObject({ role: 'follower', term: 5, leader: 'b' });
    },
  );

  it('"If a server receives a request with a stale term number, it rejects the request."', () => {
    const core = newCore('a', ABC, { term: 3 });
    core.step({
      type: 'append',
      from: 'b',
      to: 'a',
      term: 2,
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: entriesWithTerms([2]),
      commit: 0,
    });
    expect(core.status().lastIndex).toBe(0);
    const [resp] = messages(core);
    expect(resp).toMatchObject({ type: 'appendResp', to: 'b', term: 3, success: false });
  });
});

describe('§5.2 Leader election', () => {
  it('"Leaders send periodic heartbeats (AppendEntries RPCs that carry no log entries) to all followers in order to maintain their authority."', () => {
    const core = newCore('a', ABC, { heartbeatTick: 1 });
    makeLeader(core, ['b']);
    drain(core);
    core.tick();
    const hbs = messages(core).filter((m) => m.type === 'heartbeat');
    expect(hbs.map((m) => m.to).sort()).toEqual(['b', 'c']);
  });

  it('"If a follower receives no communication over a period of time called the election timeout, then it assumes there is no viable leader and begins an election"', () => {
    const core = newCore('a', ABC, { electionTick: 10, term: 1 });
    ticks(core, 20);
    expect(core.status().role).toBe('candidate');
  });

  it('"To begin an election, a follower increments its current term and transitions to candidate state. It then votes for itself and issues RequestVote RPCs in parallel to each of the other servers"', () => {
    const core = newCore('a', ABC, { term: 1 });
    core.campaign();
    const rd = drain(core);
    expect(rd.hardState).toMatchObject({ term: 2, vote: 'a' });
    expect(rd.mustSync).toBe(true);
    const votes = rd.messages.filter((m): m is VoteRequest => m.type === 'vote');
    expect(votes.map((m) => m.to).sort()).toEqual(['b', 'c']);
    expect(votes.every((m) => m.term === 2 && !m.preVote)).toBe(true);
  });

  it.each([
    // voters, granted, rejected, expected role
    [1, [], [], 'leader'],
    [3, ['b'], [], 'leader'],
    [3, ['b', 'c'], [], 'leader'],
    [3, [], [], 'candidate'],
    [3, [], ['b', 'c'], 'follower'],
    [5, ['b', 'c'], [], 'leader'],
    [5, ['b'], ['c'], 'candidate'],
    [5, ['b'], ['c', 'd', 'e'], 'follower'],
  ] as const)(
    '"A candidate wins an election if it receives votes from a majority of the servers in the full cluster for the same term" (%i voters)',
    (size, granted, rejected, role) => {
      const voters = ['a', 'b', 'c', 'd', 'e'].slice(0, size);
      const core = newCore('a', voters, { term: 1 });
      core.campaign();
      for (const from of granted)
        core.step({ type: 'voteResp', from, to: 'a', term: 2, preVote: false, granted: true });
      for (const from of rejected)
        core.step({ type: 'voteResp', from, to: 'a', term: 2, preVote: false, granted: false });
      expect(core.status().role).toBe(role);
    },
  );

  it('"Each server will vote for at most one candidate in a given term, on a first-come-first-served basis"', () => {
    const core = newCore('a', ABC, { term: 1 });
    const req = (from: string): VoteRequest => ({
      type: 'vote',
      from,
      to: 'a',
      term: 2,
      preVote: false,
      lastLogIndex: 0,
      lastLogTerm: 0,
      transfer: false,
    });
    core.step(req('b'));
    core.step(req('c'));
    core.step(req('b')); // a repeated request from the same candidate is granted again
    const resps = messages(core).filter((m) => m.type === 'voteResp');
    expect(resps.map((m) => [m.to, m.type === 'voteResp' && m.granted])).toEqual([
      ['b', true],
      ['c', false],
      ['b', true],
    ]);
    expect(core.status().vote).toBe('b');
  });

  it('"If the leader\'s term ... is at least as large as the candidate\'s current term, then the candidate recognizes the leader as legitimate and returns to follower state."', () => {
    const core = newCore('a', ABC, { term: 1 });
    core.campaign();
    core.step({ type: 'heartbeat', from: 'b', to: 'a', term: 2, commit: 0 });
    expect(core.status()).toMatchObject({ role: 'follower', leader: 'b', term: 2 });
  });

  it('"If the term in the RPC is smaller than the candidate\'s current term, then the candidate rejects the RPC and continues in candidate state."', () => {
    const core = newCore('a', ABC, { term: 1 });
    core.campaign();
    core.step({ type: 'heartbeat', from: 'b', to: 'a', term: 1, commit: 0 });
    expect(core.status().role).toBe('candidate');
  });

  it('"each candidate will time out and start a new election by incrementing its term and initiating another round of RequestVote RPCs"', () => {
    const core = newCore('a', ABC, { term: 1, electionTick: 10 });
    core.campaign();
    expect(core.status().term).toBe(2);
    ticks(core, 20);
    expect(core.status()).toMatchObject({ role: 'candidate', term: 3 });
  });

  it('"Raft uses randomized election timeouts to ensure that split votes are rare": timeouts fall in [electionTick, 2*electionTick) and differ', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 30; seed++) {
      const core = newCore('a', ABC, { term: 1, electionTick: 10, random: seeded(seed) });
      let n = 0;
      while (core.status().role === 'follower' && n < 100) {
        core.tick();
        n++;
      }
      expect(n).toBeGreaterThanOrEqual(10);
      expect(n).toBeLessThan(20);
      seen.add(n);
    }
    expect(seen.size).toBeGreaterThan(3);
  });
});

describe('§5.3 Log replication', () => {
  it('"The leader appends the command to its log as a new entry, then issues AppendEntries RPCs in parallel to each of the other servers to replicate the entry."', () => {
    const net = new Network(ABC, paperOpts);
    net.elect('a');
    const core = net.core('a');
    const r = core.propose(bytes('cmd'));
    expect(r).toMatchObject({ ok: true, index: 2 });
    const rd = drain(core);
    expect(rd.entries.map((e) => e.index)).toEqual([2]);
    const apps = rd.messages.filter((m): m is AppendRequest => m.type === 'append');
    expect(apps.map((m) => m.to).sort()).toEqual(['b', 'c']);
    expect(apps.every((m) => m.entries.some((e) => e.index === 2))).toBe(true);
  });

  it('"A log entry is committed once the leader that created the entry has replicated it on a majority of the servers"', () => {
    const core = newCore('a', ['a', 'b', 'c', 'd', 'e']);
    makeLeader(core, ['b', 'c']);
    drain(core);
    core.propose(bytes('x'));
    drain(core); // persisted locally: 1 of 5
    const term = core.status().term;
    const ack = (from: string, index: number): Message => ({
      type: 'appendResp',
      from,
      to: 'a',
      term,
      success: true,
      index,
      hintIndex: 0,
      hintTerm: 0,
    });
    core.step(ack('b', 2));
    expect(core.status().commit).toBe(0); // 2 of 5
    core.step(ack('c', 2));
    expect(core.status().commit).toBe(2); // 3 of 5
  });

  it('"Once a follower learns that a log entry is committed, it applies the entry to its local state machine (in log order)." The leader "includes that index in future AppendEntries RPCs (including heartbeats)"', () => {
    const net = new Network(ABC, paperOpts);
    net.elect('a');
    net.cut('a', 'c');
    net.propose('a', 'x');
    expect(net.member('c').applied).toEqual([]);
    net.heal();
    net.tick(1, ['a']); // heartbeat carries the commit; c catches up
    expect(net.member('c').applied).toEqual(['x']);
    expect(net.core('c').status().commit).toBe(2);
  });

  it('"If the follower does not find an entry in its log with the same index and term, then it refuses the new entries."', () => {
    const core = newCore('b', ABC, { terms: [1, 2] });
    core.step({
      type: 'append',
      from: 'a',
      to: 'b',
      term: 3,
      prevLogIndex: 2,
      prevLogTerm: 3,
      entries: entriesWithTerms([3], 2),
      commit: 0,
    });
    expect(core.status().lastIndex).toBe(2);
    const [resp] = messages(core);
    expect(resp).toMatchObject({ type: 'appendResp', success: false, index: 2, hintTerm: 2 });
  });

  it('"If an existing entry conflicts with a new one (same index but different terms), delete the existing entry and all that follow it"', () => {
    const core = newCore('b', ABC, { terms: [1, 1, 2, 2] });
    core.step({
      type: 'append',
      from: 'a',
      to: 'b',
      term: 3,
      prevLogIndex: 2,
      prevLogTerm: 1,
      entries: entriesWithTerms([3], 2),
      commit: 0,
    });
    const rd = drain(core);
    expect(core.status().lastIndex).toBe(3);
    expect(rd.entries.map((e) => [e.index, e.term])).toEqual([[3, 3]]);
    expect(rd.messages[0]).toMatchObject({ type: 'appendResp', success: true, index: 3 });
  });

  it('"When a leader first comes to power, it initializes all nextIndex values to the index just after the last one in its log"', () => {
    const core = newCore('a', ABC, { terms: [1, 1, 2] });
    makeLeader(core, ['b']);
    const prs = core.status().progress!.filter((p) => p.id !== 'a');
    // 3 entries + the new leader's Noop at 4; the probe goes out with prevLogIndex 3
    expect(prs.every((p) => p.next === 4)).toBe(true);
    const app = messages(core).find((m) => m.type === 'append' && m.to === 'b') as AppendRequest;
    expect(app.prevLogIndex).toBe(3);
  });

  it('"Eventually nextIndex will reach a point where the leader and follower logs match" (Figure 7: every follower ends with the leader\'s log)', () => {
    // Figure 7: the leader of term 8 and followers (a)-(f)
    const leader = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followers: Record<string, number[]> = {
      fa: [1, 1, 1, 4, 4, 5, 5, 6, 6],
      fb: [1, 1, 1, 4],
      fc: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      fd: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      fe: [1, 1, 1, 4, 4, 4, 4],
      ff: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    };
    for (const [id, terms] of Object.entries(followers)) {
      // 'h' holds the leader's log and gives it the second vote (followers (c), (d) would refuse)
      const ids = ['lead', id, 'h'];
      const net = new Network(ids, paperOpts);
      const logs: Record<string, number[]> = { lead: leader, [id]: terms, h: leader };
      for (const n of ids) {
        net.members.set(n, { ...net.member(n), core: newCore(n, ids, { terms: logs[n]!, term: 8 }) });
        net.member(n).storage.entries = entriesWithTerms(logs[n]!);
      }
      net.elect('lead');
      expect(net.core('lead').status()).toMatchObject({ role: 'leader', term: 9 });
      const lastIndex = net.core('lead').status().lastIndex;
      expect(net.core(id).status().lastIndex).toBe(lastIndex);
      expect(net.member(id).storage.entries.map((e) => e.term)).toEqual([...leader, 9]);
    }
  });
});

describe('§5.4 Safety', () => {
  describe('§5.4.1 Election restriction', () => {
    it.each([
      // voter log terms, candidate lastLogIndex, lastLogTerm, granted
      [[1, 2], 2, 2, true],
      [[1, 2], 3, 2, true],
      [[1, 2], 1, 3, true],
      [[1, 2], 1, 2, false],
      [[1, 2], 5, 1, false],
    ] as const)(
      '"the voter denies its vote if its own log is more up-to-date than that of the candidate" (voter %j, candidate last %i@%i)',
      (terms, lastLogIndex, lastLogTerm, granted) => {
        const core = newCore('a', ABC, { terms: [...terms] });
        core.step({
          type: 'vote',
          from: 'b',
          to: 'a',
          term: 5,
          preVote: false,
          lastLogIndex,
          lastLogTerm,
          transfer: false,
        });
        const [resp] = messages(core);
        expect(resp).toMatchObject({ type: 'voteResp', granted });
      },
    );

    it('"Raft determines which of two logs is more up-to-date by comparing the index and term of the last entries in the logs": a node with a stale log cannot be elected', () => {
      const net = new Network(ABC, paperOpts);
      net.elect('a');
      net.cut('a', 'c');
      net.propose('a', 'x');
      net.heal();
      net.isolate('a');
      net.elect('c'); // c lacks 'x', which b holds
      expect(net.core('c').status().role).not.toBe('leader');
      net.elect('b');
      expect(net.core('b').status().role).toBe('leader');
      expect(net.member('b').applied).toEqual(['x']);
    });
  });

  describe('§5.4.2 Committing entries from previous terms', () => {
    it('"Raft never commits log entries from previous terms by counting replicas. Only log entries from the leader\'s current term are committed by counting replicas" (Figure 8 (c))', () => {
      // s1 leads term 4 with the term-2 entry at index 2 it wrote in term 2; its Noop is index 3
      const s1 = newCore('s1', ['s1', 's2', 's3', 's4', 's5'], { terms: [1, 2], term: 3, commit: 1 });
      makeLeader(s1, ['s2', 's3']);
      expect(s1.status().term).toBe(4);
      drain(s1);
      const ack = (from: string, index: number): Message => ({
        type: 'appendResp',
        from,
        to: 's1',
        term: 4,
        success: true,
        index,
        hintIndex: 0,
        hintTerm: 0,
      });
      s1.step(ack('s2', 2));
      s1.step(ack('s3', 2));
      // index 2 is on s1, s2, s3: a majority, yet not committed
      expect(s1.status().commit).toBe(1);
      s1.step(ack('s2', 3));
      s1.step(ack('s3', 3));
      // "once an entry from the current term has been committed ... all prior entries are committed indirectly"
      expect(s1.status().commit).toBe(3);
    });

    it('"Figure 8 (e): if S1 replicates an entry from its current term on a majority of the servers before crashing ... S5 cannot win an election"', () => {
      const ids = ['s1', 's2', 's3', 's4', 's5'];
      const net = new Network(ids, paperOpts);
      const logs: Record<string, number[]> = { s1: [1, 2], s2: [1, 2], s3: [1], s4: [1], s5: [1, 3] };
      for (const id of ids) {
        net.members.set(id, { ...net.member(id), core: newCore(id, ids, { terms: logs[id]!, term: 3, commit: 1 }) });
        net.member(id).storage.entries = entriesWithTerms(logs[id]!);
      }
      net.cut('s1', 's4');
      net.cut('s1', 's5');
      net.elect('s1'); // term 4 with s2, s3
      expect(net.core('s1').status()).toMatchObject({ role: 'leader', term: 4, commit: 3 });
      net.heal();
      net.isolate('s1'); // S1 crashes
      net.elect('s5');
      expect(net.core('s5').status().role).not.toBe('leader');
      // and whoever leads next keeps index 2 of term 2
      net.elect('s2');
      expect(net.core('s2').status().role).toBe('leader');
      for (const id of ['s2', 's3', 's4', 's5']) expect(net.member(id).storage.entries[1]!.term).toBe(2);
    });
  });
});

describe('§6 Cluster membership changes', () => {
  it('"The new configuration takes effect on each server as soon as it is added to that server\'s log" (thesis §4.1)', () => {
    const net = new Network(ABC, paperOpts);
    net.elect('a');
    net.add('d', { voters: [], learners: [] }, paperOpts);
    net.cut('a', 'c');
    const r = net.core('a').proposeConfChange({ type: 'addLearner', node: 'd' });
    expect(r.ok).toBe(true);
    // in force on the leader before it commits
    expect(net.core('a').status().conf.learners).toEqual(['d']);
    net.filter = (m) => !(m.type === 'appendResp' && m.to === 'a');
    net.settle();
    expect(net.core('a').status().commit).toBeLessThan((r as { index: number }).index);
    expect(net.core('b').status().conf.learners).toEqual(['d']); // appended, not committed
  });

  it('"a log entry for a configuration change can be removed (if leadership changes); in this case, a server must be prepared to fall back to the previous configuration in its log" (thesis §4.1)', () => {
    const b = newCore('b', ABC, { terms: [1], term: 1, commit: 1 });
    const change = {
      index: 2,
      term: 2,
      type: EntryType.ConfChange,
      data: encodeConfChange({ type: 'addLearner', node: 'd' }),
    };
    b.step({
      type: 'append',
      from: 'a',
      to: 'b',
      term: 2,
      prevLogIndex: 1,
      prevLogTerm: 1,
      entries: [change],
      commit: 1,
    });
    expect(b.status().conf).toEqual({ voters: ABC, learners: ['d'] });
    // a new leader of term 3 never had the change: its entry at 2 replaces it
    b.step({
      type: 'append',
      from: 'c',
      to: 'b',
      term: 3,
      prevLogIndex: 1,
      prevLogTerm: 1,
      entries: entriesWithTerms([3], 1),
      commit: 1,
    });
    expect(b.status().conf).toEqual({ voters: ABC, learners: [] });
    expect(b.status().lastIndex).toBe(2);
  });

  it('"The leader ... must not accept a new configuration change until the previous one is committed" and "a leader may not append a new configuration entry until it has committed an entry from its current term"', () => {
    const core = newCore('a', ABC);
    makeLeader(core, ['b']);
    expect(core.proposeConfChange({ type: 'addLearner', node: 'd' })).toMatchObject({
      ok: false,
      reason: 'noQuorumYet',
    });
    drain(core);
    core.step({ type: 'appendResp', from: 'b', to: 'a', term: 1, success: true, index: 1, hintIndex: 0, hintTerm: 0 });
    expect(core.status().commit).toBe(1);
    expect(core.proposeConfChange({ type: 'addLearner', node: 'd' })).toMatchObject({ ok: true, index: 2 });
    expect(core.proposeConfChange({ type: 'addLearner', node: 'e' })).toMatchObject({
      ok: false,
      reason: 'confChangePending',
    });
  });

  it('"the leader steps down (returns to follower state) once it has committed the Cnew log entry" (thesis §4.2.2)', () => {
    const net = new Network(ABC, paperOpts);
    net.elect('a');
    expect(net.core('a').proposeConfChange({ type: 'remove', node: 'a' }).ok).toBe(true);
    net.settle();
    expect(net.core('a').status().role).toBe('follower');
    for (const id of ['b', 'c']) expect(net.core(id).status().conf.voters).toEqual(['b', 'c']);
    net.tick(40);
    const leader = net.leader();
    expect(['b', 'c']).toContain(leader);
    expect(net.core('a').status().role).toBe('follower'); // a removed node never campaigns
  });

  it('"servers disregard RequestVote RPCs when they believe a current leader exists" (with check-quorum)', () => {
    const core = newCore('b', ABC, { checkQuorum: true, term: 2 });
    core.step({ type: 'heartbeat', from: 'a', to: 'b', term: 2, commit: 0 });
    drain(core);
    core.step({
      type: 'vote',
      from: 'c',
      to: 'b',
      term: 3,
      preVote: false,
      lastLogIndex: 9,
      lastLogTerm: 2,
      transfer: false,
    });
    expect(core.status().term).toBe(2);
    expect(messages(core)).toEqual([]);
  });
});

describe('§7 Log compaction', () => {
  it('"Each server takes snapshots independently, covering just the committed entries in its log"', () => {
    const net = new Network(ABC, paperOpts);
    net.elect('a');
    for (let i = 0; i < 4; i++) net.propose('a', `v${i}`);
    net.compact('b');
    expect(net.core('b').status().firstIndex).toBe(6);
    expect(net.core('a').status().firstIndex).toBe(1);
    expect(() => net.core('b').compact(99, new Uint8Array())).toThrow(RangeError);
  });

  it('"the leader must occasionally send snapshots to followers that lag behind" and "the follower discards its entire log; it is all superseded by the snapshot"', () => {
    const net = new Network(ABC, paperOpts);
    net.elect('a');
    net.isolate('c');
    for (let i = 0; i < 5; i++) net.propose('a', `v${i}`);
    net.compact('a');
    net.heal();
    net.tick(1, ['a']);
    const c = net.member('c');
    expect(c.readys.some((rd) => rd.snapshot?.meta.index === 6)).toBe(true);
    expect(c.applied).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    expect(net.core('c').status().firstIndex).toBe(7);
    net.propose('a', 'after');
    expect(c.applied.at(-1)).toBe('after');
  });

  it('"If instead the follower receives a snapshot that describes a prefix of its log ... entries following the snapshot are still valid and must be retained."', () => {
    const meta = { index: 2, term: 1, conf: { voters: ABC, learners: [] } };
    const core = newCore('b', ABC, { terms: [1, 1, 1, 1], term: 1, commit: 1 });
    core.step({ type: 'snapshot', from: 'a', to: 'b', term: 1, meta, offset: 0, chunk: bytes('[]'), done: true });
    const rd = drain(core);
    expect(rd.snapshot).toBeUndefined();
    expect(core.status()).toMatchObject({ lastIndex: 4, commit: 2, firstIndex: 1 });
    expect(rd.messages[0]).toMatchObject({ type: 'snapshotResp', done: true });
  });

  it('compact() keeps the snapshot with the configuration in force at its index', () => {
    const net = new Network(ABC, paperOpts);
    net.elect('a');
    net.propose('a', 'x');
    net.core('a').proposeConfChange({ type: 'addLearner', node: 'd' });
    net.settle();
    net.compact('a');
    expect(net.member('a').storage.snapshot?.meta.conf).toEqual({ voters: ABC, learners: ['d'] });
    const entries = net.member('a').storage.entries;
    expect(entries.every((e) => e.type !== EntryType.ConfChange)).toBe(true);
  });
});
