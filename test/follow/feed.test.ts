/** The state feed over real libp2p hosts on loopback, in one process. */
import { FEED_PROTOCOL, FeedFollower, FeedProtocolError, FeedSource } from '../../src/follow/index.js';
import type { FeedFollowerOptions, FeedSourceOptions, FollowedStateMachine } from '../../src/follow/index.js';
import { encodeFrame, readFrames, writeFrame } from '../../src/p2p/index.js';
import type { P2PHost } from '../../src/p2p/index.js';
import { realClock } from '../../src/raft/driver/clock.js';
import { EntryType, type Entry } from '../../src/raft/types.js';
import { ClusterStateMachine, encodeCommand } from '../../src/state/index.js';
import { newKey, startHost, stopAll, waitFor } from '../p2p/helpers.js';
import { init, register } from '../state/helpers.js';

/** A member: a host, its state machine and the feed it serves. */
interface Member {
  readonly host: P2PHost;
  readonly machine: ClusterStateMachine;
  readonly feed: FeedSource;
}

const hosts = new Map<string, P2PHost>();

async function member(conf: () => { voters: string[]; learners: string[] }, options: FeedSourceOptions = {}) {
  const host = await startHost(await newKey());
  hosts.set(host.peerId, host);
  const machine = new ClusterStateMachine();
  const feed = new FeedSource(
    {
      host,
      snapshot: () => ({ index: machine.appliedIndex, term: 1, data: machine.snapshot() }),
      leader: () => conf().voters[0] ?? null,
      conf,
      clock: realClock,
    },
    options,
  );
  await feed.start();
  return { host, machine, feed };
}

interface ObserverOptions extends FeedFollowerOptions {
  /** Time added to every dial, after the stream opened (a slow dial under load). */
  readonly dialDelayMs?: number;
  /** Wrap the state machine the follower applies to (to make applying slow). */
  readonly wrap?: (machine: ClusterStateMachine) => FollowedStateMachine;
}

/** An observer that records every index it applies, to check for gaps and repeats, and every error. */
async function observer(members: () => readonly string[], options: ObserverOptions = {}) {
  const { dialDelayMs = 0, wrap = (m: ClusterStateMachine) => m, ...followerOptions } = options;
  const host = await startHost(await newKey());
  const machine = new ClusterStateMachine();
  const seen: number[] = [];
  const errors: Error[] = [];
  const follower = new FeedFollower(
    {
      selfId: host.peerId,
      open: async (peer, protocol, { signal }) => {
        const stream = await host.dialProtocol(peer, protocol, {
          addresses: hosts.get(peer)?.multiaddrs() ?? [],
          signal,
        });
        if (dialDelayMs > 0) await new Promise((r) => setTimeout(r, dialDelayMs));
        return stream;
      },
      members,
      stateMachine: wrap(machine),
      clock: realClock,
    },
    { silenceMs: 1_500, retryAfterMs: 2_000, backoffMs: { min: 20, max: 200 }, ...followerOptions },
  );
  follower.on('feed:applied', (entries) => seen.push(...entries.map((e) => e.index)));
  follower.on('feed:restored', (index) => seen.push(-index));
  follower.on('feed:error', (_source, error) => errors.push(error));
  return { host, machine, follower, seen, errors };
}

/** Block the event loop for `ms`, as applying a large frame on a loaded machine does. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

/** Entries 1..n: cluster.init, node registrations, and a Noop every 50 (as a new leader writes). */
function log(n: number): Entry[] {
  const out: Entry[] = [];
  for (let index = 1; index <= n; index++) {
    const term = 1 + Math.floor(index / 50);
    if (index % 50 === 0) out.push({ index, term, type: EntryType.Noop, data: new Uint8Array() });
    else {
      const command = index === 1 ? init() : register(index);
      out.push({ index, term, type: EntryType.Normal, data: encodeCommand(command) });
    }
  }
  return out;
}

/** Apply entries to a member and tell its feed, in batches as a Raft driver would. */
function applyTo(m: Member, entries: readonly Entry[], batch = 25): void {
  for (let i = 0; i < entries.length; i += batch) {
    const part = entries.slice(i, i + batch);
    for (const e of part) m.machine.apply(e);
    m.feed.onApplied(part);
  }
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

function expectContiguous(seen: readonly number[]): void {
  // After the last restore (negative marker), indexes go up by one, no repeats.
  const lastRestore = seen.findLastIndex((i) => i < 0);
  const after = seen.slice(lastRestore + 1);
  const start = lastRestore >= 0 ? -seen[lastRestore]! + 1 : 1;
  expect(after).toEqual(Array.from({ length: after.length }, (_, i) => start + i));
}

describe('state feed over libp2p', () => {
  afterEach(async () => {
    hosts.clear();
    await stopAll();
  });

  it('a source streams 1,000 entries to 3 subscribers; every state equals the source', async () => {
    let voters: string[] = [];
    const source = await member(() => ({ voters, learners: [] }));
    voters = [source.host.peerId];
    const observers = await Promise.all([0, 1, 2].map(() => observer(() => voters)));
    for (const o of observers) o.follower.start();
    const entries = log(1_000);
    for (let i = 0; i < entries.length; i += 100) {
      applyTo(source, entries.slice(i, i + 100));
      await tick();
    }
    await waitFor(() => observers.every((o) => o.follower.appliedIndex === 1_000), 'observers at 1,000', 25_000);
    for (const o of observers) {
      expect(o.machine.state()).toEqual(source.machine.state());
      expect(o.follower.leader).toBe(source.host.peerId);
      expect(o.follower.conf).toEqual({ voters, learners: [] });
      expectContiguous(o.seen);
      await o.follower.stop();
    }
    expect(observers[0]!.machine.nodes()).toHaveLength(1_000 - 20 - 1); // less the Noops and cluster.init;
  });

  it('a subscriber that connects late gets a snapshot, then entries', async () => {
    let voters: string[] = [];
    const source = await member(() => ({ voters, learners: [] }), { ring: { maxEntries: 100 } });
    voters = [source.host.peerId];
    const entries = log(600);
    applyTo(source, entries.slice(0, 500));
    const late = await observer(() => voters);
    late.follower.start();
    await waitFor(() => late.follower.appliedIndex === 500, 'snapshot restored');
    expect(late.seen[0]).toBe(-500);
    applyTo(source, entries.slice(500));
    await waitFor(() => late.follower.appliedIndex === 600, 'entries after the snapshot');
    expect(late.seen).toEqual([-500, ...Array.from({ length: 100 }, (_, i) => 501 + i)]);
    expect(late.machine.state()).toEqual(source.machine.state());
    await late.follower.stop();
  });

  it('fails over to a second source when the stream is killed, without gaps or repeats', async () => {
    let voters: string[] = [];
    const a = await member(() => ({ voters, learners: [] }));
    const b = await member(() => ({ voters, learners: [] }));
    voters = [a.host.peerId, b.host.peerId];
    const o = await observer(() => voters);
    o.follower.start();
    const entries = log(1_000);
    await waitFor(() => o.follower.source !== null, 'a source');
    const first = o.follower.source!;
    const [from, other] = first === a.host.peerId ? [a, b] : [b, a];
    const sources: (string | null)[] = [];
    o.follower.on('source:change', (source) => sources.push(source));
    for (let i = 0; i < 1_000; i += 50) {
      const part = entries.slice(i, i + 50);
      applyTo(from, part);
      applyTo(other, part);
      if (i === 400) {
        // Kill the feed stream on the source's side, mid-flow.
        for (const c of from.host.libp2p.getConnections())
          for (const s of c.streams) if (s.protocol === FEED_PROTOCOL) s.abort(new Error('killed by the test'));
      }
      await tick();
    }
    await waitFor(() => o.follower.appliedIndex === 1_000, 'observer at 1,000 after failover', 60_000);
    // It went over to the other source (and, on a loaded machine, may have come back since).
    expect(sources).toContain(other.host.peerId);
    // The only snapshot is the first answer (a fresh observer asks from 0); the failover
    // resumed from the second source's ring.
    expect(o.seen.filter((i) => i < 0)).toEqual(o.seen[0]! < 0 ? [o.seen[0]] : []);
    expectContiguous(o.seen);
    expect(o.machine.state()).toEqual(a.machine.state());
    await o.follower.stop();
  }, 90_000);

  it('FeedSource answers a fresh observer at a member that has applied nothing with entries, not a snapshot at 0', async () => {
    // A snapshot at 0 is the empty state the observer already has, and no frame can carry it
    // (a snapshot's index is at least 1): sending one made the observer drop a healthy member.
    let voters: string[] = [];
    const source = await member(() => ({ voters, learners: [] }));
    voters = [source.host.peerId];
    const o = await observer(() => voters);
    o.follower.start();
    await waitFor(() => source.feed.subscribers().length === 1, 'a subscriber');
    applyTo(source, log(10));
    await waitFor(() => o.follower.appliedIndex === 10, 'entries 1..10');
    expect(o.errors).toEqual([]);
    expect(o.seen).toEqual(Array.from({ length: 10 }, (_, i) => 1 + i));
    await o.follower.stop();
  });

  it('FeedFollower counts silence from its request, not from the start of a slow dial', async () => {
    // The source's first frame (a keepalive) comes after the watchdog's first check (silenceMs / 3)
    // and well within silenceMs of the request; the dial alone took longer than silenceMs.
    let voters: string[] = [];
    const source = await member(() => ({ voters, learners: [] }), { keepaliveMs: 1_000 });
    voters = [source.host.peerId];
    const o = await observer(() => voters, { silenceMs: 1_500, dialDelayMs: 2_000 });
    o.follower.start();
    await waitFor(() => o.follower.leader !== null, 'a keepalive');
    applyTo(source, log(10));
    await waitFor(() => o.follower.appliedIndex === 10, 'entries 1..10');
    expect(o.errors).toEqual([]);
    await o.follower.stop();
  });

  it('FeedFollower does not count the time it spends applying a frame as the source going silent', async () => {
    let voters: string[] = [];
    const source = await member(() => ({ voters, learners: [] }), { keepaliveMs: 100 });
    voters = [source.host.peerId];
    const o = await observer(() => voters, {
      silenceMs: 600,
      wrap: (machine) => ({
        apply: (entry) => {
          if (entry.index === 3) busy(1_200);
          return machine.apply(entry);
        },
        restore: (data, index) => machine.restore(data, index),
      }),
    });
    o.follower.start();
    await waitFor(() => source.feed.subscribers().length === 1, 'a subscriber');
    const entries = log(10);
    applyTo(source, entries.slice(0, 5), 5);
    await waitFor(() => o.follower.appliedIndex === 5, 'entries 1..5');
    applyTo(source, entries.slice(5), 5);
    await waitFor(() => o.follower.appliedIndex === 10, 'entries 6..10');
    expect(o.errors).toEqual([]);
    await o.follower.stop();
  });

  it('a malformed frame from a source closes the stream with a clear error', async () => {
    const evil = await startHost(await newKey());
    hosts.set(evil.peerId, evil);
    await evil.handle(FEED_PROTOCOL, async (stream) => {
      for await (const request of readFrames(stream)) {
        void request;
        break;
      }
      await writeFrame(stream, { t: 'entries', entries: [], leader: null, conf: { voters: [], learners: [] } });
    });
    const o = await observer(() => [evil.peerId]);
    const errors: Error[] = [];
    o.follower.on('feed:error', (_source, error) => errors.push(error));
    o.follower.start();
    await waitFor(() => errors.length > 0, 'a feed error');
    await o.follower.stop();
    expect(errors[0]).toBeInstanceOf(FeedProtocolError);
    expect(errors[0]!.message).toBe(
      'Cannot accept entries frame: entries: expected an array of 1..10000 entries, got an array of 0',
    );
    expect(o.follower.appliedIndex).toBe(0);
  });

  it('a malformed request closes the stream on the source, which keeps serving others', async () => {
    let voters: string[] = [];
    const source = await member(() => ({ voters, learners: [] }));
    voters = [source.host.peerId];
    const client = await startHost(await newKey());
    const stream = await client.dialProtocol(source.host.peerId, FEED_PROTOCOL, {
      addresses: source.host.multiaddrs(),
    });
    stream.send(encodeFrame({ from: 'everything' }));
    await expect(
      (async () => {
        for await (const frame of readFrames(stream)) void frame;
      })(),
    ).rejects.toThrow();
    const o = await observer(() => voters);
    o.follower.start();
    applyTo(source, log(10));
    await waitFor(() => o.follower.appliedIndex === 10, 'a good observer served');
    await o.follower.stop();
  });
});
