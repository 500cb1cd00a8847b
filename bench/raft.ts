/**
 * `npm run bench:raft`: three Raft peers in three processes on loopback, over the real libp2p
 * transport (TCP + Noise + Yamux), with real fsync to disk. A key-value workload of 256-byte
 * writes at concurrency 1, 16 and 256 runs on the leader; prints ops/s and p50/p99 commit
 * latency per level, and the disk's fsync latency as the physical floor. Last line: JSON.
 *
 *   npm run bench:raft -- [--seconds 5] [--levels 1,16,256]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureFsyncLatency } from '../src/raft/storage/index.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, levels: { type: 'string', default: '1,16,256' } },
});
const durationMs = Number(values.seconds) * 1000;
const levels = values.levels!.split(',').map(Number);
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

main().catch((error: unknown) => {
  console.error(error);
  rmSync(root, { recursive: true, force: true });
  process.exit(1);
});
