/**
 * `npm run demo`: a 3-node shoal cluster on this machine (loopback), showing what the admin sees:
 * init, two joins, the status table, kill -9 of the leader, a new leader within seconds, writes
 * still accepted, and the dead node rejoining from its own disk. Everything is cleaned up after.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

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

function step(text: string): void {
  process.stdout.write(`\n${bold(`==> ${text}`)}\n`);
}

function startAgent(node: DemoNode, extra: string[] = []): void {
  const args = [BUNDLE, 'agent', '--data-dir', node.dir, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', 'none', '--log-level', 'warn', ...extra];
  node.proc = spawn(NODE, args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Run a CLI command against a node and echo it like a shell session. */
function shoal(node: DemoNode, args: string[], quiet = false): { code: number; stdout: string } {
  if (!quiet) process.stdout.write(`$ SHOAL_ADDR=unix://${node.dir}/shoal.sock shoal ${args.join(' ')}\n`);
  const run = spawnSync(NODE, [BUNDLE, ...args], { env: { ...process.env, SHOAL_ADDR: `unix://${join(node.dir, 'shoal.sock')}` }, encoding: 'utf8' });
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

function statusOf(node: DemoNode): { leader: string | null; members: { id: string; raftRole: string; addresses: string[]; reachable: boolean | null }[] } | null {
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

  const before = statusOf(nodes[0]!)!;
  const leaderNode = await until('the leader node', () => nodes.find((n) => statusOf(n) && shoal(n, ['status', '-o', 'json'], true).stdout.includes(`"nodeId": "${before.leader}"`)));
  step(`kill -9 the leader (${leaderNode.name}, ${before.leader!.slice(0, 16)})`);
  const killedAt = Date.now();
  leaderNode.proc!.kill('SIGKILL');
  const survivor = nodes.find((n) => n !== leaderNode)!;
  const after = await until('a new leader', () => {
    const status = statusOf(survivor);
    return status?.leader && status.leader !== before.leader ? status : null;
  });
  process.stdout.write(`new leader ${after.leader!.slice(0, 16)} elected ${Date.now() - killedAt} ms after the kill\n`);
  await until('the dead node to show as unreachable', () => statusOf(survivor)?.members.some((m) => m.id === before.leader && m.reachable === false), 10_000);
  shoal(survivor, ['status']);

  step('the cluster still accepts changes (a write through a follower is forwarded to the new leader)');
  shoal(survivor, ['token', 'rotate']);

  step(`restart ${leaderNode.name}: it rejoins from its own disk, no flags needed`);
  startAgent(leaderNode);
  await until('the restarted node to be reachable', () => statusOf(survivor)?.members.every((m) => m.reachable !== false), 30_000);
  shoal(leaderNode, ['status']);
  step('done: stopping the demo cluster');
}

function stopAll(): void {
  for (const node of nodes) node.proc?.kill('SIGKILL');
  rmSync(ROOT, { recursive: true, force: true });
}

process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});
main().then(
  () => {
    stopAll();
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    stopAll();
    process.exit(1);
  },
);
