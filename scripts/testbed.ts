/**
 * `npm run testbed -- up N | down | status | env I`: a cluster of N separate machines on this one
 * (network namespaces, one Docker Engine and one agent each; see test/support/testbed.ts). Needs
 * root. The test image (shoal-test/busybox) is built on the host and copied into every engine.
 *
 * @example
 * npm run testbed -- up 3
 * eval "$(npm run -s testbed -- env 1)"   # DOCKER_HOST and SHOAL_ADDR of node 1
 * node build/shoal.cjs node ls
 * npm run testbed -- down
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { bundle } from './bundle.mjs';
import { TESTBED_ROOT, TestBed } from '../test/support/testbed.js';

const REPO = resolve(import.meta.dirname, '..');
const NODE = join(REPO, 'node_modules/.bin/node');
const BUNDLE = join(REPO, 'build/shoal.cjs');
const IMAGE = 'shoal-test/busybox:latest';

interface Status {
  nodeId: string;
  leader: string | null;
  members: { id: string; raftRole: string; addresses: string[] }[];
}

const usage = `Usage: npm run testbed -- COMMAND

Commands:
  up N      start N nodes (1-20): namespaces, engines, agents; the first inits the cluster
  down      stop and remove everything the test bed made
  status    the nodes, their addresses and how to reach them
  env I     shell exports (DOCKER_HOST, SHOAL_ADDR) for node I (1-based)

Examples:
  npm run testbed -- up 3
  eval "$(npm run -s testbed -- env 2)" && node build/shoal.cjs node ls
  npm run testbed -- down`;

async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function up(count: number): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the test bed makes network namespaces and engines: run it as root');
  if (TestBed.open()) throw new Error(`a test bed is already up in ${TESTBED_ROOT}: npm run testbed -- down first`);
  const bed = TestBed.create(count, TESTBED_ROOT);
  try {
    process.stderr.write('bundling the agent and building the test image...\n');
    await bundle(BUNDLE);
    execFileSync('bash', [join(REPO, 'scripts/build-test-image.sh'), IMAGE], { stdio: 'ignore' });
    process.stderr.write(`starting ${count} namespaces and Docker Engines...\n`);
    await bed.up([IMAGE]);
    process.stderr.write('starting the agents...\n');
    // Each node is a machine of its own: the service mesh runs on every one.
    bed.startAgent(0, [NODE, BUNDLE], ['--init', '--mesh']);
    const first = await waitFor('the first agent to lead', async () => {
      const status = await bed.api<Status>(0, '/v1/status');
      return status?.leader ? status : null;
    });
    const { token } = await waitFor('the join token', () => bed.api<{ token: string }>(0, '/v1/token'));
    const address = first.members.find((m) => m.id === first.leader)?.addresses[0];
    if (!address) throw new Error('the first agent names no leader address');
    for (let i = 1; i < count; i++) bed.startAgent(i, [NODE, BUNDLE], ['--join', address, '--token', token, '--mesh']);
    const voters = Math.min(count, 3);
    await waitFor(`${count} members and ${voters} voters`, async () => {
      const status = await bed.api<Status>(0, '/v1/status');
      const ready = status && status.members.length === count;
      return ready && status.members.filter((m) => m.raftRole === 'voter').length === voters ? status : null;
    });
  } catch (error) {
    if (process.env.SHOAL_TESTBED_KEEP === '1') process.stderr.write(`the test bed did not come up; kept for a look\n`);
    else {
      process.stderr.write(`the test bed did not come up; taking it down (SHOAL_TESTBED_KEEP=1 keeps it)\n`);
      await bed.down();
    }
    throw error;
  }
  status(bed);
}

function status(bed: TestBed): void {
  const rows = bed.nodes.map((n) => [
    `n${n.index + 1}`,
    n.host.address,
    n.host.name,
    n.engine.dockerHost,
    `unix://${n.socket}`,
  ]);
  const header = ['NODE', 'ADDRESS', 'NETNS', 'DOCKER_HOST', 'SHOAL_ADDR'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  for (const row of [header, ...rows])
    console.log(
      row
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    );
  console.log(`\nRun a command on node I: nsenter --net=/run/netns/<NETNS> -- COMMAND`);
}

async function main(): Promise<number> {
  const [command, arg] = process.argv.slice(2);
  const bed = TestBed.open();
  switch (command) {
    case 'up': {
      const count = Number(arg);
      if (!Number.isInteger(count) || count < 1 || count > 20)
        throw new Error(`up takes a node count from 1 to 20\n\n${usage}`);
      await up(count);
      return 0;
    }
    case 'down':
      if (!bed) console.log('no test bed is up');
      else await bed.down();
      return 0;
    case 'status':
      if (!bed) console.log('no test bed is up: npm run testbed -- up 3');
      else status(bed);
      return bed ? 0 : 1;
    case 'env': {
      const node = bed?.nodes[Number(arg) - 1];
      if (!node) throw new Error(`no node ${arg ?? ''} in ${bed ? `a bed of ${bed.nodes.length}` : 'no test bed'}`);
      console.log(`export DOCKER_HOST=${node.engine.dockerHost}\nexport SHOAL_ADDR=unix://${node.socket}`);
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
      console.log(usage);
      return command === undefined ? 2 : 0;
    default:
      throw new Error(`unknown command ${JSON.stringify(command)}\n\n${usage}`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`testbed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
