/**
 * Linearizability of a 3-node Raft KV store under faults: concurrent clients put and read
 * (ReadIndex barrier then a local lookup) through whichever node they picked, following
 * NotLeaderError hints, while a nemesis isolates the leader, partitions, drops messages and
 * kills and restarts the leader from what its disk kept. The recorded history (real
 * timestamps) must be linearizable.
 */
import { performance } from 'node:perf_hooks';
import { RaftNode } from '../../src/raft/driver/index.js';
import { NotLeaderError } from '../../src/raft/errors.js';
import { MemoryRaftStorage } from '../../src/raft/storage/index.js';
import { MemoryNetwork } from '../../src/raft/transport/memory.js';
import { checkLinearizable, type KvOperation } from '../support/linearizability.js';
import { encodePut, KvStateMachine } from '../support/kv-state-machine.js';
import { Prng } from '../support/prng.js';

const IDS = ['n1', 'n2', 'n3'];
const CONF = { voters: IDS, learners: [] };
const KEYS = ['a', 'b', 'c'];
const CLIENTS = 5;
/** Each client stops after this many operations, or once the nemesis is done. */
const OPS_PER_CLIENT = 120;
/** Wall-clock bound of the whole workload; operations still pending then never returned. */
const WORKLOAD_MS = 12_000;

interface Member {
  node: RaftNode;
  machine: KvStateMachine;
  storage: MemoryRaftStorage;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class Cluster {
  readonly network: MemoryNetwork;
  readonly members = new Map<string, Member>();
  readonly #rng: Prng;

  constructor(rng: Prng) {
    this.#rng = rng;
    this.network = new MemoryNetwork({ random: rng.fork().asFunction() });
    this.network.setDelay(0, 3);
  }

  async start(id: string, storage: MemoryRaftStorage, transport = this.network.transport(id)): Promise<void> {
    const machine = new KvStateMachine();
    const random = this.#rng.fork();
    const node = new RaftNode({
      id,
      storage,
      transport,
      stateMachine: machine,
      bootstrapConf: CONF,
      tickMs: 10,
      random: () => random.next(),
      snapshotEvery: 40,
    });
    this.members.set(id, { node, machine, storage });
    await node.start();
  }

  leader(): string | null {
    for (const [id, m] of this.members) if (m.node.leader === id) return id;
    return null;
  }

  /** Crash `id`: stop it, keep only what its disk synced plus a torn prefix, and boot it again. */
  async crashAndRestart(id: string, downMs: number): Promise<void> {
    const member = this.members.get(id)!;
    await member.node.stop();
    const kept = member.storage.cloneCrashed(this.#rng.int(0, member.storage.unsyncedSteps + 1));
    await sleep(downMs);
    await this.start(id, kept, this.network.reset(id));
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.members.values()].map((m) => m.node.stop()));
  }
}

/** One client: a sequence of operations, each retried (same id) until it completes or time runs out. */
async function client(
  name: string,
  cluster: Cluster,
  rng: Prng,
  deadline: number,
  history: KvOperation[],
  stop: () => boolean,
): Promise<void> {
  let target = rng.pick(IDS);
  const retarget = (error: unknown): void => {
    target = error instanceof NotLeaderError && error.leader ? error.leader : rng.pick(IDS);
  };
  for (let seq = 0; seq < OPS_PER_CLIENT && !stop() && performance.now() < deadline; seq++) {
    const key = rng.pick(KEYS);
    const call = performance.now();
    if (rng.chance(0.5)) {
      const value = `${name}.${seq}`;
      const data = encodePut({ key, value, id: `${name}-${seq}` });
      let output: string | null | undefined;
      while (output === undefined && performance.now() < deadline) {
        try {
          output = (await cluster.members.get(target)!.node.propose(data, { signal: AbortSignal.timeout(400) })) as
            string | null;
        } catch (error) {
          // Not the leader, leadership lost, stopped, timed out: the put may or may not have
          // happened; retrying the same id is idempotent.
          retarget(error);
          await sleep(rng.int(1, 10));
        }
      }
      history.push({
        client: name,
        op: 'put',
        key,
        value,
        call,
        return: output === undefined ? null : performance.now(),
        ...(output === undefined ? {} : { output }),
      });
    } else {
      let output: string | null | undefined;
      while (output === undefined && performance.now() < deadline) {
        try {
          const member = cluster.members.get(target)!;
          await member.node.read({ signal: AbortSignal.timeout(400) });
          output = member.machine.get(key);
        } catch (error) {
          retarget(error);
          await sleep(rng.int(1, 10));
        }
      }
      // A read that never completed told us nothing: leave it out.
      if (output !== undefined) history.push({ client: name, op: 'get', key, call, return: performance.now(), output });
    }
    await sleep(rng.int(2, 20));
  }
}

/** The faults: isolate the leader, a random partition, lossy links, a leader crash-restart. */
async function nemesis(cluster: Cluster, rng: Prng): Promise<string[]> {
  const log: string[] = [];
  const steps: (() => Promise<void>)[] = [
    async () => {
      const leader = cluster.leader();
      if (!leader) return;
      log.push(`isolate leader ${leader}`);
      cluster.network.isolate(leader);
      await sleep(rng.int(200, 500));
    },
    async () => {
      const [a, ...rest] = rng.shuffle(IDS);
      log.push(`partition ${a} | ${rest.join(',')}`);
      cluster.network.partition([a!], rest);
      await sleep(rng.int(200, 500));
    },
    async () => {
      log.push('drop 10%');
      cluster.network.setDropRate(0.1);
      await sleep(rng.int(200, 500));
      cluster.network.setDropRate(0);
    },
    async () => {
      const leader = cluster.leader();
      if (!leader) return;
      log.push(`crash-restart leader ${leader}`);
      await cluster.crashAndRestart(leader, rng.int(50, 300));
    },
  ];
  // A leader crash-restart early (so clients see it), then the other faults in random order.
  const plan = [rng.pick(steps.slice(0, 3)), steps[3]!, ...rng.shuffle(steps.slice(0, 3))];
  for (const step of plan) {
    await sleep(rng.int(100, 300));
    await step();
    cluster.network.heal();
    log.push('heal');
  }
  return log;
}

/**
 * Make a get return a value that a later, completed put had already replaced: a get G saw v; a
 * put P of another value started after G returned; a get G2 that started after P returned now
 * claims v again. Values are unique, so no order explains it.
 */
function plantStaleRead(history: readonly KvOperation[]): KvOperation[] | null {
  for (const g of history) {
    if (g.op !== 'get' || g.output === null || g.output === undefined) continue;
    for (const p of history) {
      if (p.op !== 'put' || p.key !== g.key || p.value === g.output || p.call <= g.return!) continue;
      const i = history.findIndex(
        (g2) => g2.op === 'get' && g2.key === g.key && g2.call > p.return! && g2.output !== g.output,
      );
      if (i < 0) continue;
      const copy = [...history];
      copy[i] = { ...copy[i]!, output: g.output };
      return copy;
    }
  }
  return null;
}

describe('Raft KV linearizability', () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.stopAll();
    cluster = null;
  });

  it('checkLinearizable() accepts the history of puts and ReadIndex gets under partitions, loss and a leader crash-restart', async () => {
    const rng = new Prng(20261124);
    cluster = new Cluster(rng.fork());
    await Promise.all(IDS.map((id) => cluster!.start(id, new MemoryRaftStorage())));
    const history: KvOperation[] = [];
    const deadline = performance.now() + WORKLOAD_MS;
    let faultsDone = false;
    const completedCount = (): number => history.filter((op) => op.return !== null).length;
    const clients = Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        // Past the faults, the clients go on until enough work completed (a loaded machine
        // completes fewer operations while the faults last), within the deadline.
        client(`c${i}`, cluster!, rng.fork(), deadline, history, () => faultsDone && completedCount() > 150),
      ),
    );
    const faults = await nemesis(cluster, rng.fork());
    faultsDone = true;
    await clients;

    const completed = history.filter((op) => op.return !== null);
    const result = checkLinearizable(history);
    if (!result.ok) console.log(`faults: ${faults.join('; ')}\n${result.explanation}`);
    expect(result).toEqual({ ok: true });
    // The run did real work through the faults: most operations completed, some reads saw writes.
    expect(faults.some((f) => f.startsWith('crash-restart'))).toBe(true);
    expect(completed.length).toBeGreaterThan(100);
    expect(completed.filter((op) => op.op === 'get' && op.output !== null).length).toBeGreaterThan(10);

    // The same history with one stale read planted in it must fail: the check has teeth here.
    const stale = plantStaleRead(completed);
    expect(stale).not.toBeNull();
    expect(checkLinearizable(stale!).ok).toBe(false);
  }, 30_000);
});
