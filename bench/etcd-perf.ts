/**
 * etcd's own write benchmark, the anchor of `bench:raft -- --via api --etcd`: three etcd members
 * on loopback (Debian's `etcd-server`), then `etcdctl check perf --load l`, which writes from a
 * client over gRPC for 60 s. Returns its throughput (writes/s).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PORTS = [31379, 32379, 33379];

function ensureEtcd(): void {
  if (spawnSync('etcd', ['--version']).status === 0 && spawnSync('etcdctl', ['version']).status === 0) return;
  console.log('installing Debian etcd-server and etcd-client (apt-get)…');
  const install = spawnSync('apt-get', ['install', '-y', '-qq', 'etcd-server', 'etcd-client'], { stdio: 'inherit' });
  if (install.status !== 0)
    throw new Error('cannot install etcd-server: run `apt-get install etcd-server etcd-client` as root');
}

/** Runs `etcdctl check perf --load <load>` against a fresh 3-member cluster; writes/s. */
export async function etcdCheckPerf(load: 's' | 'm' | 'l' = 'l'): Promise<number> {
  ensureEtcd();
  const root = mkdtempSync(join(tmpdir(), 'shoal-bench-etcd-'));
  const cluster = PORTS.map((p, i) => `e${i}=http://127.0.0.1:${p + 1}`).join(',');
  const members: ChildProcess[] = PORTS.map((port, i) =>
    spawn(
      'etcd',
      [
        '--name',
        `e${i}`,
        '--data-dir',
        join(root, `e${i}`),
        '--listen-client-urls',
        `http://127.0.0.1:${port}`,
        '--advertise-client-urls',
        `http://127.0.0.1:${port}`,
        '--listen-peer-urls',
        `http://127.0.0.1:${port + 1}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${port + 1}`,
        '--initial-cluster',
        cluster,
        '--initial-cluster-state',
        'new',
        '--log-level',
        'error',
      ],
      { stdio: 'ignore' },
    ),
  );
  try {
    const endpoints = PORTS.map((p) => `http://127.0.0.1:${p}`).join(',');
    const env = { ...process.env, ETCDCTL_API: '3' };
    for (let i = 0; i < 100; i++) {
      if (spawnSync('etcdctl', ['--endpoints', endpoints, 'endpoint', 'health'], { env }).status === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const perf = spawnSync('etcdctl', ['--endpoints', endpoints, 'check', 'perf', '--load', load], {
      env,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const match = /Throughput (?:is|too low:) (\d+) writes\/s/.exec(perf.stdout ?? '');
    if (!match)
      throw new Error(
        `etcdctl check perf printed no throughput: ${(perf.stdout ?? '').slice(-300)} ${perf.stderr ?? ''}`,
      );
    return Number(match[1]);
  } finally {
    for (const member of members) member.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
}
