/**
 * `npm run bench:raft`: three Raft peers in three processes on loopback, over the real libp2p
 * transport (TCP + Noise + Yamux), with real fsync to disk. A key-value workload of 256-byte
 * writes at concurrency 1, 16 and 256 runs on the leader; prints ops/s and p50/p99 commit
 * latency per level, and the disk's fsync latency as the physical floor. Last line: JSON.
 *
 *   npm run bench:raft -- [--seconds 5] [--levels 1,16,256]
 *   npm run bench:raft -- --via api [--etcd] [--seconds 5] [--levels 16,256] [--cpu-prof DIR] [--client lean|node]
 *
 * With `--via api` the writes come from a separate client process through the admin API of a
 * real 3-agent cluster, to the leader and to a follower (bench/raft-api.ts); with `--etcd` the
 * same run also measures etcd's `check perf --load l` on 3 members (the anchor); with `--cpu-prof DIR`
 * each agent writes a V8 CPU profile there (open in Chrome DevTools, or summarise by self time).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureFsyncLatency } from '../src/raft/storage/index.js';
import { etcdCheckPerf } from './etcd-perf.js';
import { benchViaApi } from './raft-api.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    levels: { type: 'string' },
    via: { type: 'string', default: 'core' },
    etcd: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    client: { type: 'string', default: 'lean' },
  },
});
const durationMs = Number(values.seconds) * 1000;
const levels = (values.levels ?? (values.via === 'api' ? '16,256' : '1,16,256')).split(',').map(Number);
if (values.via !== 'core' && values.via !== 'api') {
  console.error(
    `--via ${values.via}: expected core (writes inside the leader's process) or api (from a client process)`,
  );
  process.exit(2);
}
const root = mkdtempSync(join(tmpdir(), 'shoal-bench-raft-'));

interface Child {
  proc: ChildProcess;
  id: string;
  addresses: string[];
}

function next<T>(proc: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { t: string; message?: string }): void => {
      if (message.t === 'error') reject(new Error(message.message));
      if (message.t !== type) return;
      proc.off('message', onMessage);
      resolve(message as T);
    };
    proc.on('message', onMessage);
  });
}

async function main(): Promise<void> {
  const fsync = await measureFsyncLatency(root, { samples: 200 });
  console.log(
    `fsync (4 KiB write + fsync) on ${root}: p50 ${(fsync.p50Micros / 1000).toFixed(2)} ms, p99 ${(fsync.p99Micros / 1000).toFixed(2)} ms`,
  );

  const children: Child[] = await Promise.all(
    [0, 1, 2].map(async (i) => {
      const proc = fork(join(import.meta.dirname, 'raft-peer.ts'), [join(root, `p${i}`)], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const ready = await next<{ id: string; addresses: string[] }>(proc, 'ready');
      return { proc, id: ready.id, addresses: ready.addresses };
    }),
  );
  const leaderElected = Promise.race(children.map((c) => next<{ id: string }>(c.proc, 'leader').then(() => c)));
  const peers = children.map((c) => ({ id: c.id, addresses: c.addresses }));
  for (const child of children) child.proc.send({ t: 'peers', peers });
  const leader = await leaderElected;
  console.log(`3 peers over libp2p on loopback; leader ${leader.id.slice(0, 16)}`);

  const results: { concurrency: number; ops: number; opsPerSec: number; p50Ms: number; p99Ms: number }[] = [];
  for (const concurrency of levels) {
    const result = next<{ result: (typeof results)[number] }>(leader.proc, 'result');
    leader.proc.send({ t: 'load', concurrency, durationMs, valueBytes: 256 });
    const r = (await result).result;
    results.push(r);
    console.log(
      `concurrency ${String(concurrency).padStart(3)}: ${r.opsPerSec.toFixed(0).padStart(6)} ops/s   p50 ${r.p50Ms.toFixed(2)} ms   p99 ${r.p99Ms.toFixed(2)} ms   (${r.ops} writes)`,
    );
  }
  for (const child of children) child.proc.send({ t: 'exit' });
  await Promise.all(children.map((c) => new Promise((resolve) => c.proc.on('exit', resolve))));
  rmSync(root, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      bench: 'raft',
      transport: 'libp2p',
      valueBytes: 256,
      durationMs,
      fsyncP50Ms: fsync.p50Micros / 1000,
      fsyncP99Ms: fsync.p99Micros / 1000,
      levels: results,
    }),
  );
}

async function mainViaApi(): Promise<void> {
  if (values.client !== 'lean' && values.client !== 'node') {
    console.error(`--client ${values.client}: expected lean (raw HTTP/1.1 on sockets) or node (node:http's client)`);
    process.exit(2);
  }
  const results = await benchViaApi(levels, durationMs / 1000, {
    cpuProfDir: values['cpu-prof'],
    client: values.client,
  });
  const etcd = values.etcd ? await etcdCheckPerf('l') : null;
  if (etcd !== null) console.log(`etcd 3 members on loopback, etcdctl check perf --load l: ${etcd} writes/s`);
  const at = (target: string, c: number) =>
    Math.round(results.find((r) => r.target === target && r.concurrency === c)?.opsPerSec ?? 0) || null;
  const p = (target: string, c: number, key: 'p50Ms' | 'p99Ms') => {
    const r = results.find((x) => x.target === target && x.concurrency === c);
    return r ? Number(r[key].toFixed(2)) : null;
  };
  const cpu = (target: string, c: number) =>
    results.find((x) => x.target === target && x.concurrency === c)?.cpuUsPerWrite ?? null;
  const goal = etcd === null ? null : (at('follower', 256) ?? 0) >= 1.5 * etcd;
  if (goal !== null) console.log(`goal api_follower_ops_256 >= 1.5 x etcd_check_perf_l: ${goal ? 'met' : 'not met'}`);
  rmSync(root, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      bench: 'raft',
      via: 'api',
      client: values.client,
      api_leader_ops_16: at('leader', 16),
      api_leader_ops_256: at('leader', 256),
      api_follower_ops_16: at('follower', 16),
      api_follower_ops_256: at('follower', 256),
      api_leader_p50_ms_256: p('leader', 256, 'p50Ms'),
      api_leader_p99_ms_256: p('leader', 256, 'p99Ms'),
      api_follower_p50_ms_256: p('follower', 256, 'p50Ms'),
      api_follower_p99_ms_256: p('follower', 256, 'p99Ms'),
      api_leader_cpu_us_per_write_256: cpu('leader', 256),
      api_follower_cpu_us_per_write_256: cpu('follower', 256),
      etcd_check_perf_l: etcd,
    }),
  );
}

(values.via === 'api' ? mainViaApi() : main()).catch((error: unknown) => {
  console.error(error);
  rmSync(root, { recursive: true, force: true });
  process.exit(1);
});
