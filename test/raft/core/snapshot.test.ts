/** Chunked InstallSnapshot (§7): many chunks, lost chunks, leader change mid-transfer. */
import type { SnapshotRequest } from '../../../src/raft/types.js';
import { drain, messages, newCore } from './support/helpers.js';
import { Network, bytes } from './support/network.js';

const ABC = ['a', 'b', 'c'];
const big = (i: number): string => `${i}:`.padEnd(2000, 'x');

/** A cluster where c missed 50 large entries that a has compacted away. */
function lagging(chunk = 4096) {
  const net = new Network(ABC, { snapshotChunkSize: chunk, electionTick: 10 });
  net.elect('a');
  net.isolate('c');
  for (let i = 0; i < 50; i++) net.propose('a', big(i));
  net.compact('a');
  net.compact('b');
  return net;
}

const chunksTo = (net: Network, to: string, since = 0) =>
  net.delivered.slice(since).filter((m): m is SnapshotRequest => m.type === 'snapshot' && m.to === to);

describe('snapshot transfer', () => {
  it('sendAppend() streams a large snapshot in many chunks that the follower installs whole', () => {
    const net = lagging();
    net.heal();
    net.tick(1, ['a']);
    const chunks = chunksTo(net, 'c');
    const size = net.member('a').storage.snapshot!.data.length;
    expect(size).toBeGreaterThan(100_000);
    expect(chunks.length).toBe(Math.ceil(size / 4096));
    expect(chunks.every((m, i) => m.offset === i * 4096)).toBe(true);
    expect(chunks.at(-1)!.done).toBe(true);
    const c = net.member('c');
    expect(c.storage.snapshot!.data).toEqual(net.member('a').storage.snapshot!.data);
    expect(c.applied).toEqual(net.member('a').applied);
    // and replication continues with entries after it
    net.propose('a', 'after');
    expect(c.applied.at(-1)).toBe('after');
    expect(
      net
        .core('a')
        .status()
        .progress!.find((p) => p.id === 'c')!.state,
    ).toBe('replicate');
  });

  it('step() of snapshot responses keeps only a few chunks in flight', () => {
    const net = lagging();
    net.heal();
    net.filter = (m) => m.type !== 'snapshotResp';
    net.tick(1, ['a']);
    expect(chunksTo(net, 'c').length).toBeLessThanOrEqual(4);
    expect(
      net
        .core('a')
        .status()
        .progress!.find((p) => p.id === 'c')!.state,
    ).toBe('snapshot');
  });

  it('a lost chunk is sent again and the transfer completes', () => {
    const net = lagging();
    net.heal();
    let dropped = 0;
    net.filter = (m) => {
      if (m.type === 'snapshot' && m.offset === 4096 * 5 && dropped === 0) {
        dropped++;
        return false;
      }
      return true;
    };
    net.tick(3, ['a']);
    expect(dropped).toBe(1);
    expect(net.member('c').applied).toEqual(net.member('a').applied);
  });

  it('a leader change mid-transfer restarts the transfer from byte 0 with the new leader', () => {
    const net = lagging();
    net.heal();
    let seen = 0;
    net.filter = (m) => !(m.type === 'snapshot' && m.from === 'a' && ++seen > 6);
    net.tick(1, ['a']);
    expect(net.member('c').storage.snapshot).toBeUndefined();
    net.isolate('a');
    net.filter = () => true;
    const since = net.delivered.length;
    // c heard from a recently (check-quorum lease): let time pass until b wins
    for (let i = 0; i < 100 && net.core('b').status().role !== 'leader'; i++) net.tick(1, ['b', 'c']);
    expect(net.core('b').status().role).toBe('leader');
    net.tick(2, ['b', 'c']);
    const fromB = chunksTo(net, 'c', since).filter((m) => m.from === 'b');
    expect(fromB[0]!.offset).toBe(0);
    expect(net.member('c').applied).toEqual(net.member('b').applied);
    expect(net.core('c').status().leader).toBe('b');
  });

  it('step() of a mid-transfer chunk from another term is refused so the leader restarts', () => {
    const meta = { index: 10, term: 2, conf: { voters: ABC, learners: [] } };
    const core = newCore('c', ABC, { term: 2 });
    const chunk = (term: number, offset: number, done = false): SnapshotRequest => ({
      type: 'snapshot',
      from: term === 2 ? 'a' : 'b',
      to: 'c',
      term,
      meta,
      offset,
      chunk: bytes('abcd'),
      done,
    });
    core.step(chunk(2, 0));
    expect(messages(core)[0]).toMatchObject({ type: 'snapshotResp', received: 4, done: false, reject: false });
    core.step(chunk(3, 4));
    expect(messages(core)[0]).toMatchObject({ type: 'snapshotResp', term: 3, received: 0, reject: true });
    core.step(chunk(3, 0));
    core.step(chunk(3, 4, true));
    const rd = drain(core);
    expect(rd.snapshot?.meta.index).toBe(10);
    expect(rd.snapshot?.data).toEqual(bytes('abcdabcd'));
    expect(rd.messages.at(-1)).toMatchObject({ type: 'snapshotResp', done: true, received: 8 });
    expect(core.status()).toMatchObject({ commit: 10, firstIndex: 11, lastIndex: 10 });
  });

  it('step() of an out-of-order chunk answers how far the follower got', () => {
    const meta = { index: 10, term: 2, conf: { voters: ABC, learners: [] } };
    const core = newCore('c', ABC, { term: 2 });
    const chunk = (offset: number): SnapshotRequest => ({
      type: 'snapshot',
      from: 'a',
      to: 'c',
      term: 2,
      meta,
      offset,
      chunk: bytes('abcd'),
      done: false,
    });
    core.step(chunk(0));
    core.step(chunk(8));
    const resps = messages(core);
    expect(resps.map((m) => m.type === 'snapshotResp' && m.received)).toEqual([4, 4]);
  });

  it('a restarted follower with an installed snapshot starts from it', () => {
    const net = lagging();
    net.heal();
    net.tick(1, ['a']);
    const restarted = net.restart('c');
    const st = restarted.status();
    expect(st.firstIndex).toBe(net.member('c').storage.snapshot!.meta.index + 1);
    expect(st.applied).toBe(net.member('c').storage.snapshot!.meta.index);
    net.propose('a', 'after');
    expect(net.member('c').applied.at(-1)).toBe('after');
  });
});

describe('snapshot transfer under duplication', () => {
  it('step() of a late duplicate of chunk 0 does not reset a transfer under way', () => {
    const meta = { index: 10, term: 2, conf: { voters: ['a', 'b', 'c'], learners: [] } };
    const core = newCore('c', ['a', 'b', 'c'], { term: 2 });
    const chunk = (offset: number, done = false): SnapshotRequest => ({
      type: 'snapshot',
      from: 'a',
      to: 'c',
      term: 2,
      meta,
      offset,
      chunk: bytes('abcd'),
      done,
    });
    core.step(chunk(0));
    core.step(chunk(4));
    core.step(chunk(0)); // delayed duplicate
    expect(messages(core).map((m) => m.type === 'snapshotResp' && m.received)).toEqual([4, 8, 8]);
    core.step(chunk(8, true));
    expect(drain(core).snapshot?.data).toEqual(bytes('abcdabcdabcd'));
  });
});
