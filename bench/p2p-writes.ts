/**
 * `npm run bench:p2p`: socket writes, throughput and CPU of shoal's libp2p stack (TCP + Noise +
 * Yamux, hosts made by `createHost`) on loopback, with Noise's writes coalesced (`on`, the
 * default) and without (`off`, what shoal did before).
 *
 * Three workloads, each between two hosts in this process:
 * - `paced`: N Raft-sized (~200 B) frames on one stream, the next sent once the previous arrived
 *   (Raft at a modest write rate: every append travels alone);
 * - `burst`: N such frames on one stream as fast as backpressure allows;
 * - `rpc`: M request/response calls through `RpcService` (one stream per call).
 *
 * Writes are counted by wrapping `net.Socket`'s `_write`/`_writev` (each is one libuv write
 * request, one write/writev syscall on loopback; `strace -c -f -e trace=write,writev` agrees).
 * CPU is this process's (both hosts). The machine is shared: runs alternate off/on and the
 * figures are medians. JSON on the last line.
 *
 *   npm run bench:p2p -- --messages 5000 --rpcs 1000 --runs 5
 *   strace -c -f -e trace=write,writev npx tsx bench/p2p-writes.ts --runs 1 --mode on
 */
import { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { createHost, readFrames, RpcService, writeFrame } from '../src/p2p/index.js';
import type { P2PHost } from '../src/p2p/index.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '5000' },
    rpcs: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '5' },
    /** `off`/`on` alone, e.g. to run each under strace; default both. */
    mode: { type: 'string', default: 'both' },
  },
});
if (!['both', 'off', 'on'].includes(values.mode)) {
  throw new RangeError(`--mode: expected both, off or on, got "${values.mode}"`);
}
const MODES = (['off', 'on'] as const).filter((m) => values.mode === 'both' || values.mode === m);
const MESSAGES = positive('messages', values.messages);
const RPCS = positive('rpcs', values.rpcs);
const RUNS = positive('runs', values.runs);
const PROTOCOL = '/shoal/bench/p2p-writes/1.0.0';
/** A Raft append of one small command, as cbor-x would carry it (~200 B on the wire). */
const PAYLOAD = { type: 'append', term: 7, prevLogIndex: 41, entries: [{ data: new Uint8Array(120) }], commit: 40 };

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name}: expected an integer >= 1, got "${text}"`);
  return n;
}

/** Socket writes per socket, counted below the stream layer of `net.Socket`. */
const writesBySocket = new Map<Socket, number>();
function countWrites(): void {
  const proto = Socket.prototype as Socket & Record<'_write' | '_writev', (...args: unknown[]) => void>;
  for (const name of ['_write', '_writev'] as const) {
    const original = proto[name];
    proto[name] = function (this: Socket, ...args: unknown[]) {
      writesBySocket.set(this, (writesBySocket.get(this) ?? 0) + 1);
      return original.apply(this, args);
    };
  }
}

/** Writes since the last reset by the sending host's sockets and the receiving host's. */
function takeWrites(receiverPort: number): { sender: number; receiver: number } {
  let sender = 0;
  let receiver = 0;
  for (const [socket, n] of writesBySocket) {
    if (socket.localPort === receiverPort) receiver += n;
    else sender += n;
  }
  writesBySocket.clear();
  return { sender, receiver };
}

interface PhaseResult {
  readonly senderWrites: number;
  readonly receiverWrites: number;
  readonly perSecond: number;
  readonly cpuMsPer1k: number;
  /** The kernel's share of it (the write syscalls and loopback TCP are most of it). */
  readonly sysMsPer1k: number;
}

async function measure(count: number, receiverPort: number, body: () => Promise<void>): Promise<PhaseResult> {
  takeWrites(receiverPort);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await body();
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const writes = takeWrites(receiverPort);
  return {
    senderWrites: writes.sender / count,
    receiverWrites: writes.receiver / count,
    perSecond: (count / elapsedMs) * 1000,
    cpuMsPer1k: ((used.user + used.system) / 1000 / count) * 1000,
    sysMsPer1k: (used.system / 1000 / count) * 1000,
  };
}

async function onePass(coalesceWrites: boolean): Promise<Record<string, PhaseResult>> {
  const [a, b] = await Promise.all(
    [0, 1].map(async () =>
      createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], coalesceWrites }),
    ),
  );
  const sender = a!;
  const receiver = b!;
  try {
    const receiverPort = Number(/\/tcp\/(\d+)/.exec(receiver.multiaddrs()[0]!)![1]);
    let received = 0;
    let arrived: (() => void) | null = null;
    await receiver.handle(PROTOCOL, async (stream) => {
      for await (const _frame of readFrames(stream)) {
        received++;
        arrived?.();
      }
    });
    const rpcServer = new RpcService(receiver);
    rpcServer.handle('echo', (payload) => payload);
    await rpcServer.start();
    const rpcClient = new RpcService(sender);
    await rpcClient.start();

    const stream = await sender.dialProtocol(receiver.peerId, PROTOCOL, { addresses: receiver.multiaddrs() });
    const next = (): Promise<void> => new Promise((resolve) => (arrived = resolve));
    // Warm up: the connection, the stream and the first RPC stream are open before counting.
    const warm = next();
    await writeFrame(stream, PAYLOAD);
    await warm;
    await rpcClient.call(receiver.peerId, 'echo', PAYLOAD);

    const paced = await measure(MESSAGES, receiverPort, async () => {
      for (let i = 0; i < MESSAGES; i++) {
        const got = next();
        await writeFrame(stream, PAYLOAD);
        await got;
      }
    });
    const burst = await measure(MESSAGES, receiverPort, async () => {
      const target = received + MESSAGES;
      const done = new Promise<void>((resolve) => (arrived = () => received >= target && resolve()));
      for (let i = 0; i < MESSAGES; i++) await writeFrame(stream, PAYLOAD);
      await done;
    });
    const rpc = await measure(RPCS, receiverPort, async () => {
      for (let i = 0; i < RPCS; i++) await rpcClient.call(receiver.peerId, 'echo', PAYLOAD);
    });
    await stream.close();
    await Promise.all([rpcClient.stop(), rpcServer.stop()]);
    return { paced, burst, rpc };
  } finally {
    await stopHosts([sender, receiver]);
  }
}

async function stopHosts(hosts: P2PHost[]): Promise<void> {
  for (const h of hosts) for (const c of h.libp2p.getConnections()) c.abort(new Error('bench over'));
  await Promise.all(hosts.map((h) => h.stop()));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

countWrites();
const passes: Record<'off' | 'on', Record<string, PhaseResult>[]> = { off: [], on: [] };
for (let run = 0; run < RUNS; run++) {
  for (const mode of MODES) passes[mode].push(await onePass(mode === 'on'));
}

const summary: Record<string, number> = { messages: MESSAGES, rpcs: RPCS, runs: RUNS };
for (const mode of MODES) {
  for (const phase of ['paced', 'burst', 'rpc']) {
    const of = (pick: (r: PhaseResult) => number): number => median(passes[mode].map((p) => pick(p[phase]!)));
    const unit = phase === 'rpc' ? 'call' : 'msg';
    const row = {
      sender: of((r) => r.senderWrites),
      receiver: of((r) => r.receiverWrites),
      perSecond: of((r) => r.perSecond),
      cpu: of((r) => r.cpuMsPer1k),
      sys: of((r) => r.sysMsPer1k),
    };
    console.log(
      `${mode.padEnd(3)} ${phase.padEnd(5)} writes/${unit}: sender ${row.sender.toFixed(2)} + receiver ` +
        `${row.receiver.toFixed(2)} = ${(row.sender + row.receiver).toFixed(2)}; ${Math.round(row.perSecond)} ${unit}s/s; ` +
        `${row.cpu.toFixed(1)} CPU ms per 1,000 (both hosts; ${row.sys.toFixed(1)} of it system)`,
    );
    summary[`${phase}_writes_per_${unit}_${mode}`] = round(row.sender + row.receiver);
    summary[`${phase}_per_s_${mode}`] = Math.round(row.perSecond);
    summary[`${phase}_cpu_ms_per_1k_${mode}`] = round(row.cpu, 1);
    summary[`${phase}_sys_ms_per_1k_${mode}`] = round(row.sys, 1);
  }
}
console.log(JSON.stringify(summary));
