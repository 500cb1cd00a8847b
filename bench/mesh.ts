/**
 * `npm run bench:mesh` (issue 14, item 6): what the service mesh costs, on the test bed
 * (test/support/testbed.ts) with two machines, each with its own engine and an agent run with
 * `--mesh`. Needs root and dockerd.
 *
 * The task: a keep-alive HTTP server (bench/mesh-server.ts) run by Node inside a container on n2
 * (the host's node binary and libraries bind-mounted read-only into the test image). The load
 * (bench/mesh-load.ts) runs as a host process, as a process-runtime task would:
 *
 * - mesh: on n1, to `web.mb` resolved by n1's mesh DNS: n1's proxy, a libp2p mesh stream to n2,
 *   n2's connection to the container;
 * - direct: on n2, to the container's own address (the floor: no proxy at all; another node
 *   cannot reach that address, there being no overlay network);
 * - docker_proxy: on n2, to 127.0.0.1 on the port the task also publishes in `host` mode, which
 *   Docker's userland proxy (`docker-proxy`) serves.
 *
 * The last line is JSON: mesh_rps, direct_rps, docker_proxy_rps, mesh_mbps, direct_mbps,
 * docker_proxy_mbps, mesh_p50_ms, direct_p50_ms (and docker_proxy_p50_ms). Requests/s with 64
 * keep-alive connections; p50 of requests sent one at a time; MB/s of one 128 MiB response.
 *
 * Profiling: `SHOAL_AGENT_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:mesh`
 * (the agents are then stopped with SIGTERM, so that they write their profiles).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundle } from '../scripts/bundle.mjs';
import { TestBed } from '../test/support/testbed.js';

const REPO = resolve(import.meta.dirname, '..');
const NODE = join(REPO, 'node_modules/.bin/node');
const BUNDLE = join(REPO, 'build/shoal.cjs');
const IMAGE = 'shoal-test/busybox:latest';
/** Extra Node.js flags for the agents (space-separated), e.g. `--cpu-prof`. */
const AGENT_NODE_FLAGS = (process.env.SHOAL_AGENT_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
const AGENT = [NODE, ...AGENT_NODE_FLAGS, BUNDLE];

interface Status {
  leader: string | null;
  members: { id: string; raftRole: string; addresses: string[] }[];
}
interface TaskRow {
  readonly serviceId: string;
  readonly state: string;
  readonly nodeId: string | null;
}
interface Load {
  readonly rps: number;
  readonly p50_ms: number;
  readonly mbps: number;
}

async function waitFor<T>(what: string, probe: () => Promise<T | null> | T | null, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The Compose file: the server pinned to n2, its port published in ingress mode and in host mode. */
function compose(nodeBinary: string): string {
  const ro = (host: string, inside = host) => `"${host}:${inside}:ro"`;
  return [
    'services:',
    '  web:',
    `    image: ${IMAGE}`,
    '    command: ["/opt/node", "/opt/mesh-server.ts", "80"]',
    '    ports: ["8080:80", { target: 80, published: 8081, mode: host }]',
    '    volumes:',
    `      - ${ro(nodeBinary, '/opt/node')}`,
    `      - ${ro(join(REPO, 'bench/mesh-server.ts'), '/opt/mesh-server.ts')}`,
    `      - ${ro('/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu')}`,
    `      - ${ro('/usr/lib64', '/lib64')}`,
    '    deploy:',
    '      placement:',
    '        constraints: ["node.hostname == n2"]',
    '',
  ].join('\n');
}

function load(bed: TestBed, node: number, args: readonly string[]): Load {
  const out = execFileSync(
    'nsenter',
    [`--net=/run/netns/${bed.nodes[node]!.host.name}`, '--', NODE, '--import', 'tsx', 'bench/mesh-load.ts', ...args],
    { cwd: REPO, encoding: 'utf8', timeout: 120_000 },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as Load;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:mesh runs on the test bed: it needs root (and dockerd)');
  const root = mkdtempSync(join(tmpdir(), 'shoal-bench-mesh-'));
  const bed = TestBed.create(2, root);
  try {
    process.stderr.write('bundling the agent, building the test image, starting 2 machines...\n');
    await bundle(BUNDLE);
    execFileSync('bash', [join(REPO, 'scripts/build-test-image.sh'), IMAGE], { stdio: 'ignore' });
    await bed.up([IMAGE]);
    bed.startAgent(0, AGENT, ['--init', '--mesh']);
    const address = await waitFor('the first agent to lead', async () => {
      const status = await bed.api<Status>(0, '/v1/status');
      return status?.members.find((m) => m.id === status.leader)?.addresses[0] ?? null;
    });
    const { token } = await waitFor('the join token', () => bed.api<{ token: string }>(0, '/v1/token'));
    bed.startAgent(1, AGENT, ['--join', address, '--token', token, '--mesh']);
    await waitFor('two members', async () =>
      (await bed.api<Status>(0, '/v1/status'))?.members.length === 2 ? 1 : null,
    );
    const file = join(root, 'mb.yml');
    writeFileSync(file, compose(realpathSync(NODE)));
    execFileSync(NODE, [BUNDLE, 'stack', 'deploy', '-f', file, 'mb'], {
      env: { ...process.env, SHOAL_ADDR: `unix://${bed.nodes[0]!.socket}` },
      stdio: 'ignore',
    });
    await waitFor('the server running on n2', async () => {
      const tasks = (await bed.api<TaskRow[]>(0, '/v1/stacks/mb/tasks')) ?? [];
      return tasks.some((t) => t.serviceId === 'mb_web' && t.state === 'running') ? 1 : null;
    });
    const engine = bed.nodes[1]!.engine;
    const container = engine.docker(['ps', '-q', '--filter', 'label=shoal.service.id=mb_web']).trim();
    const ip = engine
      .docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container])
      .trim();
    await waitFor('the server answering', () => {
      try {
        load(bed, 1, ['--host', ip, '--port', '80', '--seconds', '0.2', '--mb', '1']);
        return 1;
      } catch {
        return null;
      }
    });
    process.stderr.write('measuring: mesh (n1 -> web.mb), direct (n2 -> container), docker-proxy (n2 -> 127.0.0.1)\n');
    const mesh = load(bed, 0, ['--host', 'web.mb', '--dns', '10.253.0.1', '--port', '80']);
    const direct = load(bed, 1, ['--host', ip, '--port', '80']);
    const proxy = load(bed, 1, ['--host', '127.0.0.1', '--port', '8081']);
    console.log(`            rps    p50 ms   MB/s`);
    for (const [name, r] of [
      ['mesh', mesh],
      ['direct', direct],
      ['docker-proxy', proxy],
    ] as const)
      console.log(
        `${name.padEnd(12)} ${String(r.rps).padStart(6)} ${r.p50_ms.toFixed(3).padStart(9)} ${String(r.mbps).padStart(6)}`,
      );
    console.log(
      JSON.stringify({
        mesh_rps: mesh.rps,
        direct_rps: direct.rps,
        docker_proxy_rps: proxy.rps,
        mesh_mbps: mesh.mbps,
        direct_mbps: direct.mbps,
        docker_proxy_mbps: proxy.mbps,
        mesh_p50_ms: mesh.p50_ms,
        direct_p50_ms: direct.p50_ms,
        docker_proxy_p50_ms: proxy.p50_ms,
      }),
    );
  } catch (error) {
    for (const n of bed.nodes) {
      const log = join(n.dataDir, '..', 'agent.log');
      if (existsSync(log))
        process.stderr.write(`--- n${n.index + 1} agent log ---\n${readFileSync(log, 'utf8').slice(-3000)}\n`);
    }
    throw error;
  } finally {
    if (AGENT_NODE_FLAGS.length > 0) await Promise.all(bed.nodes.map((_, i) => bed.stopAgent(i)));
    await bed.down();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:mesh: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
