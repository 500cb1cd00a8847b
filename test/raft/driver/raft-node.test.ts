import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from 'cbor-x';
import { RaftNode } from '../../../src/raft/driver/index.js';
import { MemoryNetwork } from '../../../src/raft/transport/memory.js';
import { MemoryRaftStorage, FileRaftStorage } from '../../../src/raft/storage/index.js';
import { NotLeaderError } from '../../../src/raft/errors.js';
import type { RaftStorage, StateMachine } from '../../../src/raft/interfaces.js';
import type { Entry, HardState, Snapshot } from '../../../src/raft/types.js';

/** A counter log: apply appends the command and returns its position. */
class ListMachine implements StateMachine<number> {
  items: string[] = [];
  apply(entry: Entry): number {
    this.items.push(decode(entry.data) as string);
    return this.items.length;
  }
  snapshot(): Uint8Array {
    return encode(this.items);
  }
  restore(data: Uint8Array): void {
    this.items = decode(data) as string[];
  }
}

/** Wraps a storage and counts the saves that asked for fsync (to see group commit at work). */
class CountingStorage implements RaftStorage {
  syncedSaves = 0;
  constructor(readonly inner: RaftStorage) {}
  load() {
    return this.inner.load();
  }
  async save(parts: { snapshot?: Snapshot; entries: readonly Entry[]; hardState?: HardState }, sync: boolean) {
    if (sync) this.syncedSaves++;
    return this.inner.save(parts, sync);
  }
  saveSnapshot(snapshot: Snapshot) {
    return this.inner.saveSnapshot(snapshot);
  }
  close() {
    return this.inner.close();
  }
}

const ids = ['n1', 'n2', 'n3'];
const conf = { voters: ids, learners: [] };

async function waitFor<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('RaftNode', () => {
  let nodes: RaftNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    nodes = [];
  });

  function startCluster(
    network: MemoryNetwork,
    storages: Map<string, RaftStorage>,
    machines: Map<string, ListMachine>,
  ) {
    nodes = ids.map(
      (id) =>
        new RaftNode({
          id,
          storage: storages.get(id)!,
          transport: network.transport(id),
          stateMachine: machines.get(id)!,
          bootstrapConf: conf,
          tickMs: 10,
          snapshotEvery: 50,
        }),
    );
    return Promise.all(nodes.map((node) => node.start()));
  }

  it('propose() resolves with the apply result once committed, and every node applies it', async () => {
    const network = new MemoryNetwork();
    const machines = new Map(ids.map((id) => [id, new ListMachine()]));
    const storages = new Map<string, RaftStorage>(ids.map((id) => [id, new MemoryRaftStorage()]));
    await startCluster(network, storages, machines);
    const leader = await waitFor('a leader', () => nodes.find((node) => node.leader === node.id));
    await expect(leader.propose(encode('a'))).resolves.toBe(1);
    await expect(leader.propose(encode('b'))).resolves.toBe(2);
    await waitFor('all nodes to apply', () => ids.every((id) => machines.get(id)!.items.length === 2));
    expect(machines.get('n1')!.items).toEqual(['a', 'b']);
  });

  it('propose() on a follower fails fast with NotLeaderError naming the leader', async () => {
    const network = new MemoryNetwork();
    const machines = new Map(ids.map((id) => [id, new ListMachine()]));
    const storages = new Map<string, RaftStorage>(ids.map((id) => [id, new MemoryRaftStorage()]));
    await startCluster(network, storages, machines);
    const leader = await waitFor('a leader', () => nodes.find((node) => node.leader === node.id));
    const follower = await waitFor('a follower that knows the leader', () =>
      nodes.find((node) => node !== leader && node.leader === leader.id),
    );
    const error = await follower.propose(encode('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotLeaderError);
    expect((error as NotLeaderError).leader).toBe(leader.id);
  });

  it('read() on a follower sees every write acknowledged before it (ReadIndex)', async () => {
    const network = new MemoryNetwork();
    network.setDelay(0, 5);
    const machines = new Map(ids.map((id) => [id, new ListMachine()]));
    const storages = new Map<string, RaftStorage>(ids.map((id) => [id, new MemoryRaftStorage()]));
    await startCluster(network, storages, machines);
    const leader = await waitFor('a leader', () => nodes.find((node) => node.leader === node.id));
    const follower = nodes.find((node) => node !== leader)!;
    for (let i = 0; i < 20; i++) {
      await leader.propose(encode(`v${i}`));
      await readRetrying(follower);
      expect(machines.get(follower.id)!.items.length).toBe(i + 1);
    }
  });

  it('groups concurrent proposals into fewer fsyncs (group commit)', async () => {
    const network = new MemoryNetwork();
    const machines = new Map(ids.map((id) => [id, new ListMachine()]));
    const counting = new Map(ids.map((id) => [id, new CountingStorage(new MemoryRaftStorage())]));
    await startCluster(network, new Map<string, RaftStorage>(counting), machines);
    const leader = await waitFor('a leader', () => nodes.find((node) => node.leader === node.id));
    const before = counting.get(leader.id)!.syncedSaves;
    await Promise.all(Array.from({ length: 200 }, (_, i) => leader.propose(encode(`p${i}`))));
    const saves = counting.get(leader.id)!.syncedSaves - before;
    expect(saves).toBeGreaterThan(0);
    expect(saves).toBeLessThan(50);
  });

  it('a restarted node recovers its state from disk (snapshot + log) and catches up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-driver-'));
    try {
      const network = new MemoryNetwork();
      const machines = new Map(ids.map((id) => [id, new ListMachine()]));
      const storages = new Map<string, RaftStorage>();
      for (const id of ids) storages.set(id, await FileRaftStorage.open(join(dir, id)));
      await startCluster(network, storages, machines);
      const leader = await waitFor('a leader', () => nodes.find((node) => node.leader === node.id));
      for (let i = 0; i < 120; i++) await leader.propose(encode(`w${i}`));
      const victim = nodes.find((node) => node !== leader)!;
      await victim.stop();
      for (let i = 120; i < 130; i++) await leader.propose(encode(`w${i}`));
      const machine = new ListMachine();
      const restarted = new RaftNode({
        id: victim.id,
        storage: await FileRaftStorage.open(join(dir, victim.id)),
        transport: network.reset(victim.id),
        stateMachine: machine,
        bootstrapConf: conf,
        tickMs: 10,
        snapshotEvery: 50,
      });
      nodes = nodes.map((node) => (node === victim ? restarted : node));
      await restarted.start();
      await waitFor('the restarted node to catch up', () => machine.items.length === 130);
      expect(machine.items).toEqual(machines.get(leader.id)!.items);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('transferLeadership() moves leadership to the named voter', async () => {
    const network = new MemoryNetwork();
    const machines = new Map(ids.map((id) => [id, new ListMachine()]));
    const storages = new Map<string, RaftStorage>(ids.map((id) => [id, new MemoryRaftStorage()]));
    await startCluster(network, storages, machines);
    const leader = await waitFor('a leader', () => nodes.find((node) => node.leader === node.id));
    await leader.propose(encode('x'));
    const target = nodes.find((node) => node !== leader)!;
    await leader.transferLeadership(target.id);
    await waitFor('the target to lead', () => target.leader === target.id);
    await expect(target.propose(encode('y'))).resolves.toBe(2);
  });

  it('a minority side cannot commit, and the majority elects a new leader', async () => {
    const network = new MemoryNetwork();
    const machines = new Map(ids.map((id) => [id, new ListMachine()]));
    const storages = new Map<string, RaftStorage>(ids.map((id) => [id, new MemoryRaftStorage()]));
    await startCluster(network, storages, machines);
    const oldLeader = await waitFor('a leader', () => nodes.find((node) => node.leader === node.id));
    network.isolate(oldLeader.id);
    const abort = AbortSignal.timeout(300);
    await expect(oldLeader.propose(encode('lost?'), { signal: abort })).rejects.toBeDefined();
    const newLeader = await waitFor('a new leader on the majority side', () =>
      nodes.find((node) => node !== oldLeader && node.leader === node.id),
    );
    await expect(newLeader.propose(encode('kept'))).resolves.toBeGreaterThan(0);
    network.heal();
    await waitFor(
      'the old leader to follow',
      () => oldLeader.leader === newLeader.id || oldLeader.leader === oldLeader.id,
    );
    await waitFor('all nodes to agree', () => {
      const logs = ids.map((id) => JSON.stringify(machines.get(id)!.items));
      return logs.every((log) => log === logs[0]) && logs[0]!.includes('kept');
    });
    expect(machines.get(oldLeader.id)!.items).not.toContain('lost?');
  });
});

/**
 * A read that the leader did not confirm within its 200 ms bound (10 ms ticks) refuses with
 * "retry"; callers retry, as the agent does (src/agent/reads.ts). A loaded CI machine once took longer.
 */
async function readRetrying(node: RaftNode): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await node.read();
    } catch (error) {
      if (!(error instanceof NotLeaderError) || attempt >= 20) throw error;
    }
  }
}
