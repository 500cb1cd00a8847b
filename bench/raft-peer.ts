/**
 * One Raft peer of `npm run bench:raft`, in its own process: libp2p host, file storage with real
 * fsync, a key-value state machine. Driven by the parent over IPC:
 *   parent → {t:'peers', peers:[{id, addresses}]}   start Raft with these three voters
 *   parent → {t:'load', concurrency, durationMs, valueBytes}   (sent to the leader) run a write load
 *   child  → {t:'ready', id, addresses} / {t:'leader', id} / {t:'result', ...} / {t:'error', message}
 */
import { decode, encode } from 'cbor-x';
import { createHost, loadOrCreateIdentity, Libp2pRaftTransport } from '../src/p2p/index.js';
import { RaftNode } from '../src/raft/driver/index.js';
import { FileRaftStorage } from '../src/raft/storage/index.js';
import type { StateMachine } from '../src/raft/interfaces.js';
import type { Entry } from '../src/raft/types.js';

class KvMachine implements StateMachine<number> {
  readonly #data = new Map<string, Uint8Array>();
  apply(entry: Entry): number {
    const { key, value } = decode(entry.data) as { key: string; value: Uint8Array };
    this.#data.set(key, value);
    return this.#data.size;
  }
  snapshot(): Uint8Array {
    return encode([...this.#data]);
  }
  restore(data: Uint8Array): void {
    this.#data.clear();
    for (const [k, v] of decode(data) as [string, Uint8Array][]) this.#data.set(k, v);
  }
}

const dir = process.argv[2]!;
const send = (message: object): void => void process.send!(message);

const identity = await loadOrCreateIdentity(dir);
const host = await createHost({ privateKey: identity.privateKey, listen: ['/ip4/127.0.0.1/tcp/0'] });
const transport = new Libp2pRaftTransport(host);
let node: RaftNode | null = null;
send({ t: 'ready', id: host.peerId, addresses: host.multiaddrs() });

process.on('message', (message: { t: string; [k: string]: unknown }) => {
  void handle(message).catch((error: unknown) =>
    send({ t: 'error', message: (error as Error).stack ?? String(error) }),
  );
});

async function handle(message: { t: string; [k: string]: unknown }): Promise<void> {
  if (message.t === 'peers') {
    const peers = message.peers as { id: string; addresses: string[] }[];
    for (const peer of peers) if (peer.id !== host.peerId) transport.setPeerAddresses(peer.id, peer.addresses);
    node = new RaftNode({
      id: host.peerId,
      storage: await FileRaftStorage.open(`${dir}/raft`),
      transport,
      stateMachine: new KvMachine(),
      bootstrapConf: { voters: peers.map((p) => p.id), learners: [] },
      tickMs: 100,
      snapshotEvery: 50_000,
    });
    node.on('leader:change', (leader) => {
      if (leader === host.peerId) send({ t: 'leader', id: host.peerId });
    });
    await node.start();
  } else if (message.t === 'load') {
    send({
      t: 'result',
      result: await runLoad(message.concurrency as number, message.durationMs as number, message.valueBytes as number),
    });
  } else if (message.t === 'exit') {
    await node?.stop();
    await host.stop();
    process.exit(0);
  }
}

/** `concurrency` closed-loop writers for `durationMs`; latency = propose → applied on the leader. */
async function runLoad(concurrency: number, durationMs: number, valueBytes: number) {
  const value = new Uint8Array(valueBytes).fill(7);
  const latencies: number[] = [];
  let ops = 0;
  const end = performance.now() + durationMs;
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; performance.now() < end; i++) {
      const started = performance.now();
      await node!.propose(encode({ key: `k${w}-${i % 1000}`, value }));
      latencies.push(performance.now() - started);
      ops++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => writer(w)));
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const pick = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { concurrency, ops, opsPerSec: (ops / elapsed) * 1000, p50Ms: pick(0.5), p99Ms: pick(0.99) };
}
