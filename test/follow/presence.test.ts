/** Presence and observer reads over real libp2p hosts on loopback. */
import {
  NoLeaderError,
  PRESENCE_PROTOCOL,
  PresenceSender,
  PresenceTracker,
  READ_INDEX_METHOD,
  observerRead,
  readIndexHandler,
} from '../../src/follow/index.js';
import { RemoteError, RpcService, readFrames, writeFrame } from '../../src/p2p/index.js';
import type { P2PHost } from '../../src/p2p/index.js';
import { realClock } from '../../src/raft/driver/clock.js';
import { newKey, startHost, stopAll, waitFor } from '../p2p/helpers.js';

describe('presence over libp2p', () => {
  const stoppers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const stop of stoppers.splice(0)) await stop();
    await stopAll();
  });

  it('records an observer within a second, follows a leader change and forgets nothing', async () => {
    const [l1, l2, obs] = await Promise.all([newKey(), newKey(), newKey()].map(async (k) => startHost(await k)));
    const trackers = new Map<string, PresenceTracker>();
    for (const h of [l1!, l2!]) {
      const tracker = new PresenceTracker({ host: h, clock: realClock });
      await tracker.start();
      trackers.set(h.peerId, tracker);
      stoppers.push(() => tracker.stop());
    }
    const byId = new Map<string, P2PHost>([l1!, l2!].map((h) => [h.peerId, h]));
    let leader = l1!.peerId;
    const sender = new PresenceSender({
      leader: () => leader,
      appliedIndex: () => 7,
      open: (peer, protocol, { signal }) =>
        obs!.dialProtocol(peer, protocol, { addresses: byId.get(peer)!.multiaddrs(), signal }),
      clock: realClock,
    });
    const started = Date.now();
    sender.start();
    stoppers.push(() => sender.stop());
    const first = trackers.get(l1!.peerId)!;
    await waitFor(() => first.lastHeard().has(obs!.peerId), 'the first leader hears the observer');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(first.appliedIndexes().get(obs!.peerId)).toBe(7);

    leader = l2!.peerId;
    const second = trackers.get(l2!.peerId)!;
    const changed = Date.now();
    await waitFor(() => second.lastHeard().has(obs!.peerId), 'the second leader hears the observer');
    expect(Date.now() - changed).toBeLessThan(1_500);
    expect(sender.target).toBe(l2!.peerId);
    // The first leader still remembers when it last heard the observer.
    expect(first.lastHeard().get(obs!.peerId)).toBeGreaterThanOrEqual(started);
  });

  it('resets a stream that sends a malformed presence frame', async () => {
    const [leader, obs] = await Promise.all([newKey(), newKey()].map(async (k) => startHost(await k)));
    const tracker = new PresenceTracker({ host: leader!, clock: realClock });
    await tracker.start();
    stoppers.push(() => tracker.stop());
    const stream = await obs!.dialProtocol(leader!.peerId, PRESENCE_PROTOCOL, { addresses: leader!.multiaddrs() });
    await writeFrame(stream, { t: 'here', index: 'lots' });
    await expect(
      (async () => {
        for await (const frame of readFrames(stream)) void frame;
      })(),
    ).rejects.toThrow();
    expect(tracker.lastHeard().size).toBe(0);
  });
});

describe('observerRead() over the RPC service', () => {
  afterEach(() => stopAll());

  it('asks the leader for a read index and waits until the observer applied it', async () => {
    const [leader, obs] = await Promise.all([newKey(), newKey()].map(async (k) => startHost(await k)));
    const served = new RpcService(leader!);
    served.handle(READ_INDEX_METHOD, readIndexHandler({ readIndex: async () => 12 }));
    await served.start();
    const client = new RpcService(obs!, { addressesOf: () => leader!.multiaddrs() });
    let applied = 10;
    const waited: number[] = [];
    const read = observerRead({
      rpc: client,
      leader: () => leader!.peerId,
      waitForApplied: async (index) => {
        waited.push(index);
        while (applied < index) await new Promise((r) => setTimeout(r, 5));
      },
    });
    setTimeout(() => (applied = 12), 50);
    await expect(read).resolves.toBe(12);
    expect(waited).toEqual([12]);
    await Promise.all([served.stop(), client.stop()]);
  });

  it('fails clearly without a leader, and passes on what the leader could not serve', async () => {
    const [leader, obs] = await Promise.all([newKey(), newKey()].map(async (k) => startHost(await k)));
    const served = new RpcService(leader!);
    served.handle(
      READ_INDEX_METHOD,
      readIndexHandler({
        readIndex: async () => {
          throw new Error('not the leader');
        },
      }),
    );
    await served.start();
    const client = new RpcService(obs!, { addressesOf: () => leader!.multiaddrs() });
    const deps = { rpc: client, waitForApplied: async () => undefined };
    await expect(observerRead({ ...deps, leader: () => null })).rejects.toThrow(NoLeaderError);
    await expect(observerRead({ ...deps, leader: () => leader!.peerId })).rejects.toThrow(RemoteError);
    await Promise.all([served.stop(), client.stop()]);
  });
});
