/**
 * `npm run demo`: a 3-node shoal cluster on this machine, showing what the admin sees: init, two
 * joins, the status table, a Compose stack deployed (3 web replicas and a global service), then
 * the leader's machine lost (kill -9 of its agent and its containers gone): a new leader within a
 * second, its replica back on the other nodes within seconds, and the node rejoining from its own
 * disk without duplicates. Cleaned up after. As root, the three machines are the test bed's (each
 * its own network namespace and Docker Engine: the lost machine's engine stops); otherwise, or
 * with `npm run demo -- --loopback`, three agents on loopback share this machine's engine.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { demoMachines, type DemoMachines } from './demo-machines.js';

const REPO = resolve(import.meta.dirname, '..');
const NODE = process.execPath;
const BUNDLE = join(REPO, 'build/shoal.cjs');
const ROOT = join(REPO, '.shoal-demo');
const bold = (text: string): string => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

interface DemoNode {
  readonly name: string;
  readonly dir: string;
  proc: ChildProcess | null;
}

const nodes: DemoNode[] = ['n1', 'n2', 'n3'].map((name) => ({ name, dir: join(ROOT, name), proc: null }));
let machines: DemoMachines | null = null;

function step(text: string): void {
  process.stdout.write(`\n${bold(`==> ${text}`)}\n`);
}

function startAgent(node: DemoNode, extra: string[] = []): void {
  const i = nodes.indexOf(node);
  const args = [
    BUNDLE,
    'agent',
    '--data-dir',
    node.dir,
    '--listen',
    machines!.listen(i),
    '--api',
    'none',
    '--log-level',
    'warn',
    ...extra,
  ];
  const { file, args: argv, env } = machines!.command(i, node.name, args);
  node.proc = spawn(file, argv, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
}

/** Run a CLI command against a node and echo it like a shell session. */
function shoal(node: DemoNode, args: string[], quiet = false): { code: number; stdout: string } {
  if (!quiet)
    process.stdout.write(
      `$ SHOAL_ADDR=unix://${node.dir}/shoal.sock shoal ${args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}\n`,
    );
  const run = spawnSync(NODE, [BUNDLE, ...args], {
    env: { ...process.env, SHOAL_ADDR: `unix://${join(node.dir, 'shoal.sock')}` },
    encoding: 'utf8',
  });
  if (!quiet) process.stdout.write(run.stdout + run.stderr);
  return { code: run.status ?? 1, stdout: run.stdout };
}

async function until<T>(what: string, probe: () => T | null | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function statusOf(node: DemoNode): {
  leader: string | null;
  members: { id: string; raftRole: string; addresses: string[]; reachable: boolean | null }[];
} | null {
  const run = shoal(node, ['status', '-o', 'json', '--timeout', '2000'], true);
  if (run.code !== 0) return null;
  try {
    return JSON.parse(run.stdout);
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  if (!existsSync(BUNDLE)) {
    step('bundling shoal (build/shoal.cjs)');
    const built = spawnSync(NODE, [join(REPO, 'scripts/bundle.mjs')], { cwd: REPO, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('demo: bundling failed');
  }
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(ROOT, { recursive: true });
  const docker = dockerAvailable();
  machines = await demoMachines({
    root: ROOT,
    image: docker ? 'shoal-test/busybox:latest' : null,
    loopback: process.argv.includes('--loopback'),
  });
  step(`the machines: ${machines.description}`);

  step('start node 1 and create a cluster on it');
  startAgent(nodes[0]!, ['--init']);
  const token = await until('the join token', () => {
    const run = shoal(nodes[0]!, ['token', 'show', '-o', 'json'], true);
    return run.code === 0 ? (JSON.parse(run.stdout) as { token: string }).token : null;
  });
  const first = await until('node 1 status', () => statusOf(nodes[0]!));
  const address = first.members[0]!.addresses[0]!;

  step('start nodes 2 and 3 and join them with the token (they join as learners and get promoted)');
  process.stdout.write(`$ shoal agent --join ${address} --token ${token.slice(0, 26)}...\n`);
  startAgent(nodes[1]!, ['--join', address, '--token', token]);
  startAgent(nodes[2]!, ['--join', address, '--token', token]);
  await until('3 voters', () => statusOf(nodes[0]!)?.members.filter((m) => m.raftRole === 'voter').length === 3);
  shoal(nodes[1]!, ['status']);
  shoal(nodes[2]!, ['node', 'ls']);

  if (docker) {
    step('deploy a stack from a Compose file: 3 web replicas spread over the nodes, and a global service');
    shoal(nodes[1]!, ['stack', 'deploy', '-f', join(REPO, 'examples/web/compose.yml'), '--name', 'web']);
    await until(
      '3/3 web replicas running',
      () => servicesRunning(nodes[0]!, 'web_web') === 3 && servicesRunning(nodes[0]!, 'web_agent') === 3,
      90_000,
    );
    shoal(nodes[0]!, ['stack', 'ps', 'web']);
    perMachine('web_web');
  } else {
    step('no Docker Engine answers here: skipping the services part (start dockerd for it)');
  }

  const before = statusOf(nodes[0]!)!;
  const leaderNode = await until('the leader node', () =>
    nodes.find((n) => shoal(n, ['status', '-o', 'json'], true).stdout.includes(`"nodeId": "${before.leader}"`)),
  );
  step(
    `the leader's machine dies: kill -9 its agent (${leaderNode.name})${docker ? (machines.containersPerMachine('web_web') ? ', its engine stops with its containers' : ' and remove its containers') : ''}`,
  );
  const killedAt = Date.now();
  leaderNode.proc!.kill('SIGKILL');
  await machines.die(nodes.indexOf(leaderNode), before.leader!);
  const survivor = nodes.find((n) => n !== leaderNode)!;
  const after = await until('a new leader', () => {
    const status = statusOf(survivor);
    return status?.leader && status.leader !== before.leader ? status : null;
  });
  process.stdout.write(`new leader ${after.leader!.slice(0, 16)} elected ${Date.now() - killedAt} ms after the kill\n`);
  if (docker) {
    await until(
      '3/3 web replicas running on the two live nodes',
      () => servicesRunning(survivor, 'web_web', before.leader!) === 3,
      60_000,
    );
    process.stdout.write(
      `3/3 web replicas running again ${Date.now() - killedAt} ms after the kill (the node was marked down after its 5 s grace period)\n`,
    );
    shoal(survivor, ['stack', 'ps', 'web']);
    perMachine('web_web');
  }
  shoal(survivor, ['node', 'ls']);

  step('the cluster still accepts changes (a write through a follower is forwarded to the new leader)');
  shoal(survivor, ['token', 'rotate']);

  step(`restart ${leaderNode.name}: it rejoins from its own disk, no flags needed, and runs no duplicate`);
  await machines.revive(nodes.indexOf(leaderNode));
  startAgent(leaderNode);
  await until(
    'the restarted node to be reachable',
    () => statusOf(survivor)?.members.every((m) => m.reachable !== false),
    30_000,
  );
  if (docker) {
    await until('the global service back on 3 nodes', () => servicesRunning(survivor, 'web_agent') === 3, 60_000);
    shoal(survivor, ['service', 'ls']);
    step('remove the stack');
    shoal(survivor, ['stack', 'rm', 'web']);
  }
  shoal(leaderNode, ['status']);
  await batchDemo(survivor);
  step('done: stopping the demo cluster');
}

/** Batch, Slurm-style: an array of host-process jobs, a high-priority job that jumps the queue, the history. */
async function batchDemo(node: DemoNode): Promise<void> {
  step('batch: submit a low-priority array of 12 units of 1 CPU (the 3 nodes have 6 CPUs in all), as with sbatch');
  shoal(node, [
    'job',
    'submit',
    '--name',
    'mining',
    '--priority',
    '50',
    '-c',
    '1',
    '--array',
    '0-11',
    '--',
    'sh',
    '-c',
    'sleep 2',
  ]);
  step('a high-priority job arrives: it takes a CPU from the array at once (preemption; the unit is requeued)');
  shoal(node, [
    'job',
    'submit',
    '--name',
    'urgent',
    '--priority',
    '900',
    '-c',
    '1',
    '--',
    'sh',
    '-c',
    'echo urgent done',
  ]);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  shoal(node, ['queue']);
  await until(
    'both jobs to complete',
    () => {
      const run = shoal(node, ['queue', '--all', '-o', 'json'], true);
      const rows = JSON.parse(run.stdout || '[]') as { state: string }[];
      return rows.length >= 2 && rows.every((r) => r.state === 'COMPLETED');
    },
    120_000,
  );
  step('the accounting (like sacct): every unit, its node, exit code and state; a preempted run shows PREEMPTED');
  shoal(node, ['job', 'history']);
}

function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore' });
    execFileSync('bash', [join(REPO, 'scripts/build-test-image.sh')], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Tasks running (as the cluster sees them) for a service, optionally not on `exceptNode`. */
function servicesRunning(node: DemoNode, service: string, exceptNode?: string): number {
  const run = shoal(node, ['service', 'ps', service, '-o', 'json'], true);
  if (run.code !== 0) return -1;
  try {
    const tasks = JSON.parse(run.stdout) as { state: string; desiredState: string; nodeId: string | null }[];
    return tasks.filter((t) => t.state === 'running' && t.desiredState === 'running' && t.nodeId !== exceptNode).length;
  } catch {
    return -1;
  }
}

/** On separate engines: how many containers of `service` each machine's engine runs. */
function perMachine(service: string): void {
  const counts = machines?.containersPerMachine(service);
  if (counts)
    process.stdout.write(
      `containers of ${service} on each machine's own engine: ${counts.map((n, i) => `${nodes[i]!.name} ${n}`).join(', ')}\n`,
    );
}

async function stopAll(): Promise<void> {
  for (const node of nodes) node.proc?.kill('SIGKILL');
  await machines?.close().catch(() => undefined);
  rmSync(ROOT, { recursive: true, force: true });
}

process.on('SIGINT', () => {
  void stopAll().then(() => process.exit(130));
});
main().then(
  async () => {
    await stopAll();
    process.exit(0);
  },
  async (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    await stopAll();
    process.exit(1);
  },
);
