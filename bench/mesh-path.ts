/**
 * `npm run bench:mesh-path`: the service mesh's data path without the test bed (no root, no
 * Docker), to profile and compare changes to src/mesh. Four processes on loopback, as on two
 * machines: the task (bench/mesh-server.ts), node B (a libp2p host serving mesh streams to the
 * task), node A (a libp2p host and a ServiceProxy whose balancer points at the task on B) and
 * the load (bench/mesh-load.ts, against A's proxy, then directly against the task).
 *
 * Profile the nodes with `MESH_PATH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`.
 * The last line is JSON: mesh_rps, direct_rps, mesh_mbps, direct_mbps, mesh_p50_ms, direct_p50_ms, and
 * the CPU time the two nodes spent per request and per MB: on a busy machine the rates swing
 * with other work, the CPU cost much less.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { MemberSet, createHost } from '../src/p2p/index.js';
import { Balancer, MeshService, ServiceProxy } from '../src/mesh/index.js';
import { freePort } from '../test/support/free-port.js';

const REPO = resolve(import.meta.dirname, '..');
const NODE = join(REPO, 'node_modules/.bin/node');
const NODE_FLAGS = (process.env.MESH_PATH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');

interface Load {
  readonly rps: number;
  readonly p50_ms: number;
  readonly mbps: number;
}

/** One node: prints {peerId, addrs} then reads one config line {peer, addrs, taskPort, proxyPort}. */
async function node(): Promise<void> {
  const key = await generateKeyPair('Ed25519');
  const gate = new MemberSet();
  const host = await createHost({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], gate });
  let config: { peer: string; addrs: string[]; taskPort: number; proxyPort?: number } | null = null;
  const mesh = new MeshService(host, {
    resolveLocal: () =>
      config === null
        ? { refused: 'unknown-task', reason: 'not configured' }
        : { host: '127.0.0.1', port: config.taskPort },
    addressesOf: () => config?.addrs ?? [],
  });
  await mesh.start();
  const balancers = new Map<string, Balancer>();
  let dials = 0;
  const proxy = new ServiceProxy({
    localNodeId: host.peerId,
    balancers,
    dialRemote: (nodeId, taskId, port, options) => {
      dials++;
      return mesh.dial(nodeId, taskId, port, options);
    },
  });
  process.stdout.write(`${JSON.stringify({ peerId: host.peerId, addrs: host.multiaddrs() })}\n`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === '') break;
    if (line === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.stdout.write(`${JSON.stringify({ cpuUs: user + system })}\n`);
      continue;
    }
    config = JSON.parse(line);
    gate.add(config!.peer);
    if (config!.proxyPort !== undefined) {
      const balancer = new Balancer();
      balancer.setEndpoints([{ taskId: 'web.1', nodeId: config!.peer, healthy: true, draining: false }]);
      balancers.set('web', balancer);
      await proxy.setListeners([{ service: 'web', address: '127.0.0.1', port: config!.proxyPort, targetPort: 80 }]);
    }
    process.stdout.write('{"configured":true}\n');
  }
  if (dials > 0) process.stderr.write(`mesh streams opened: ${dials}\n`);
  await proxy.stop();
  await mesh.stop();
  await host.stop();
  process.exit(0);
}

function startNode(): { child: ChildProcess; next: () => Promise<unknown> } {
  const child = spawn(NODE, [...NODE_FLAGS, '--import', 'tsx', 'bench/mesh-path.ts', '--node'], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, next: async () => JSON.parse((await lines.next()).value as string) };
}

function load(args: readonly string[]): Load {
  const out = execFileSync(NODE, ['--import', 'tsx', 'bench/mesh-load.ts', ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Load;
}

async function main(): Promise<void> {
  const taskPort = await freePort();
  const proxyPort = await freePort();
  const task = spawn(NODE, ['bench/mesh-server.ts', String(taskPort)], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((r) => task.stdout!.once('data', r));
  const a = startNode();
  const b = startNode();
  const [ia, ib] = (await Promise.all([a.next(), b.next()])) as { peerId: string; addrs: string[] }[];
  b.child.stdin!.write(`${JSON.stringify({ peer: ia!.peerId, addrs: ia!.addrs, taskPort })}\n`);
  a.child.stdin!.write(`${JSON.stringify({ peer: ib!.peerId, addrs: ib!.addrs, taskPort, proxyPort })}\n`);
  await Promise.all([a.next(), b.next()]);
  /** CPU time both nodes spent (µs) while `run` ran. */
  const cpuOf = async <T>(run: () => T): Promise<{ value: T; cpuUs: number }> => {
    const ask = async (): Promise<number> => {
      a.child.stdin!.write('cpu\n');
      b.child.stdin!.write('cpu\n');
      const [ca, cb] = (await Promise.all([a.next(), b.next()])) as { cpuUs: number }[];
      return ca!.cpuUs + cb!.cpuUs;
    };
    const before = await ask();
    const value = run();
    return { value, cpuUs: (await ask()) - before };
  };
  try {
    const seconds = Number(process.env.MESH_PATH_SECONDS ?? '5');
    const mb = Number(process.env.MESH_PATH_MB ?? '256');
    const at = (port: number, more: string[]): string[] => ['--host', '127.0.0.1', '--port', String(port), ...more];
    // Requests (64 warm-up, the timed ones, 500 one at a time), then one stream, each with the nodes' CPU time.
    const requests = await cpuOf(() => load(at(proxyPort, ['--seconds', String(seconds), '--mb', '0'])));
    const stream = await cpuOf(() => load(at(proxyPort, ['--seconds', '0', '--mb', String(mb)])));
    const direct = load(at(taskPort, ['--seconds', String(seconds), '--mb', String(mb)]));
    const count = requests.value.rps * seconds + 564;
    console.log(
      JSON.stringify({
        mesh_rps: requests.value.rps,
        direct_rps: direct.rps,
        mesh_mbps: stream.value.mbps,
        direct_mbps: direct.mbps,
        mesh_p50_ms: requests.value.p50_ms,
        direct_p50_ms: direct.p50_ms,
        nodes_cpu_us_per_request: Math.round(requests.cpuUs / count),
        nodes_cpu_ms_per_mb: Number((stream.cpuUs / 1000 / (mb * 1.048576)).toFixed(2)),
      }),
    );
  } finally {
    const exits = [a.child, b.child].map((c) => new Promise((r) => c.once('exit', r)));
    a.child.stdin!.end('\n');
    b.child.stdin!.end('\n');
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 10_000))]);
    task.kill();
  }
}

if (process.argv.includes('--node')) await node();
else await main();
