import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { ApiError } from '../../src/api/index.js';
import { COMMAND_SPECS, runCli } from '../../src/cli/index.js';
import { createAdminToken } from '../../src/security/index.js';
import { startHarness, type Harness } from '../api/harness.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Run the CLI in process, capturing its output. The default-socket probe sees no /var/lib/shoal. */
async function cli(argv: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    env,
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    fileExists: () => false,
  });
  return { code, out, err };
}

/** A node id as the CLI's tables shorten it. */
const short = (id: string) => id.slice(0, 16);

let h: Harness;
let addr: string;
beforeEach(async () => {
  h = await startHarness();
  addr = `unix://${h.socketPath}`;
});
afterEach(async () => {
  await h.close();
});

describe('shoal status', () => {
  it('prints the cluster and a member table', async () => {
    const { code, out, err } = await cli(['status', '--addr', addr]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const status = await h.agent.agent.api.status();
    const alpha = short(h.idOf('alpha'));
    expect(out).toMatch(new RegExp(`^Cluster: +${status.clusterId}$`, 'm'));
    expect(out).toMatch(new RegExp(`^Leader: +${alpha}$`, 'm'));
    expect(out).toMatch(/^Term: +\d+$/m);
    expect(out).toMatch(/^Commit index: +\d+ \(applied \d+\)$/m);
    expect(out).toMatch(/^MEMBER +HOSTNAME +RAFT +LEADER +REACHABLE +MATCH +LAG +ADDRESS$/m);
    expect(out).toMatch(new RegExp(`^${alpha} \\* +alpha +Voter +yes +yes +\\d+ +0 +/memory/\\S+-alpha/p2p/`, 'm'));
    expect(out).not.toContain('WARNING');
    expect(h.api.calls[0]!.args).toEqual(['linearizable']);
  });

  it('prints the warnings about what the cluster can survive', async () => {
    await h.close();
    h = await startHarness({ nodes: 1 });
    addr = `unix://${h.socketPath}`;
    const { code, out } = await cli(['status', '--addr', addr]);
    expect(code).toBe(0);
    expect(out).toContain('WARNING: 1 voter: losing it stops all changes to the cluster');
  });

  it('-o json prints the API JSON as is; --stale asks for a stale read', async () => {
    const { code, out } = await cli(['status', '-o', 'json', '--stale', '--addr', addr]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(await h.agent.agent.api.status({ consistency: 'stale' }));
    expect(h.api.calls[0]!.args).toEqual(['stale']);
  });

  it('says how to start when the agent is not in a cluster', async () => {
    await h.close();
    h = await startHarness({ nodes: 1, form: false });
    addr = `unix://${h.socketPath}`;
    const { code, out } = await cli(['status', '--addr', addr]);
    expect(code).toBe(0);
    expect(out).toContain('run `shoal init`');
  });
});

describe('shoal node', () => {
  it('ls prints a docker-style table with shortened ids', async () => {
    const { code, out } = await cli(['node', 'ls', '--addr', addr]);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +HOSTNAME +STATUS +REACHABLE +AVAILABILITY +RAFT +LEADER +ADDRESS$/);
    const alphaRow = lines.find((line) => line.startsWith(short(h.idOf('alpha'))));
    expect(alphaRow).toMatch(/^\S+ +alpha +Ready +yes +Active +Voter +yes +\/memory\/\S+-alpha\/p2p\//);
    expect(lines).toHaveLength(4);
    // Columns are aligned: every row has HOSTNAME at the same offset.
    expect(new Set(lines.map((line) => line.search(/ (HOSTNAME|alpha|beta|gamma) /))).size).toBe(1);
  });

  it('ls --no-trunc, -q, -o wide and -o json', async () => {
    expect((await cli(['node', 'ls', '--no-trunc', '--addr', addr])).out).toContain(h.idOf('beta'));
    const ids = (await h.agent.agent.api.listNodes()).map((n) => n.id);
    expect((await cli(['node', 'ls', '-q', '--addr', addr])).out).toBe(ids.map((id) => `${id}\n`).join(''));
    await h.agent.agent.api.updateNodeLabels(h.idOf('alpha'), { add: { zone: 'a', gpu: 'h100' } });
    const wide = await cli(['node', 'list', '-o', 'wide', '--addr', addr]);
    expect(wide.out).toMatch(/CPUS +MEMORY +GPUS +VERSION +LABELS +MESSAGE$/m);
    expect(wide.out).toContain('16.0GiB');
    expect(wide.out).toContain('gpu=h100,zone=a');
    const asJson = await cli(['node', 'ls', '--output=json', '--addr', addr]);
    expect(JSON.parse(asJson.out)).toEqual(await h.agent.agent.api.listNodes());
  });

  it('rm takes a hostname or a unique id prefix and passes --force', async () => {
    const [beta, gamma] = [h.idOf('beta'), h.idOf('gamma')];
    const byName = await cli(['node', 'rm', 'beta', '--force', '--addr', addr]);
    expect(byName).toEqual({ code: 0, out: `${beta}\n`, err: '' });
    const byPrefix = await cli(['node', 'rm', '-f', gamma.slice(0, 20), '-o', 'json', '--addr', addr]);
    expect(JSON.parse(byPrefix.out)).toEqual([{ removed: gamma }]);
    expect(h.api.calls.filter((call) => call.method === 'removeNode').map((call) => call.args)).toEqual([
      [beta, true],
      [gamma, true],
    ]);
  });

  it('rm of an ambiguous prefix names the candidates and exits 1', async () => {
    // every Ed25519 peer id starts with 12D3KooW
    const { code, err } = await cli(['node', 'rm', '12D3KooW', '--addr', addr]);
    expect(code).toBe(1);
    expect(err).toContain('matches 3 nodes');
  });
});

describe('shoal token, init, join, leader', () => {
  it('token show prints the join command with this node address; -q only the token', async () => {
    const { token } = await h.agent.agent.api.showToken();
    const { code, out } = await cli(['token', 'show', '--addr', addr]);
    expect(code).toBe(0);
    expect(out).toContain(`shoal join ${h.agent.agent.advertisedAddresses()[0]} --token ${token}`);
    expect((await cli(['token', 'show', '-q', '--addr', addr])).out).toBe(`${token}\n`);
  });

  it('token rotate -o json prints the new token', async () => {
    const { code, out } = await cli(['token', 'rotate', '-o', 'json', '--addr', addr]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(await h.agent.agent.api.showToken());
  });

  it('init --name creates the cluster and prints the token', async () => {
    await h.close();
    h = await startHarness({ nodes: 1, form: false });
    addr = `unix://${h.socketPath}`;
    const { code, out } = await cli(['init', '--name', 'lab', '--addr', addr]);
    expect(code).toBe(0);
    const { clusterId } = await h.agent.agent.api.status();
    expect(out).toContain(`Cluster ${clusterId} created`);
    expect(out).toContain(`--token ${(await h.agent.agent.api.showToken()).token}`);
  });

  it('join takes the token from SHOAL_JOIN_TOKEN', async () => {
    await h.close();
    h = await startHarness({ nodes: 2, form: false });
    addr = `unix://${h.socketPath}`;
    const member = h.cluster.agents[1]!.agent;
    const { clusterId, token } = await member.api.init({});
    const target = member.advertisedAddresses()[0]!;
    const { code, out } = await cli(['join', target, '--addr', addr], { SHOAL_JOIN_TOKEN: token });
    expect(code).toBe(0);
    expect(out).toBe(`Joined cluster ${clusterId} as node ${h.idOf('alpha')} (Raft members: 1).\n`);
    expect(h.api.calls[0]!.args[0]).toEqual({ address: target, token });
  });

  it('leader transfer resolves a hostname', async () => {
    const { code, out } = await cli(['leader', 'transfer', 'gamma', '--addr', addr]);
    expect(code).toBe(0);
    expect(out).toBe(`Leadership transferred to ${short(h.idOf('gamma'))}.\n`);
  });
});

describe('shoal exit codes', () => {
  it('2 for usage errors, with the message and the usage line', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /^shoal: unknown command "frobnicate"\n/],
      [['status', '--frce'], /^shoal: Unknown option '--frce'\nUsage: shoal status \[options\]\n/],
      [['node', 'rm'], /^shoal: "node rm" needs <node>\.\.\.\nUsage: shoal node rm \[options\] <node>\.\.\.\n/],
      [['status', 'extra'], /^shoal: "status" takes no arguments; got "extra"/],
      [['node', 'ls', '-o', 'yaml'], /^shoal: -o yaml: unknown output format; expected table, wide, json/],
      [['node'], /^shoal: missing a command after "node"\n/],
      [
        ['--addr', '/x.sock'],
        /^shoal: missing a command\nUsage: shoal <command> \[options\]\nRun 'shoal help' for more\.\n$/,
      ],
      [['node', 'eat'], /^shoal: unknown command "node eat"\n/],
      [
        ['join', `/ip4/1.2.3.4/tcp/1/p2p/${h.idOf('alpha')}`],
        /^shoal: join needs a join token: give --token TOKEN or set SHOAL_JOIN_TOKEN/,
      ],
      [['join', '1.2.3.4:7946', '--token', 't'], /is not a member multiaddr/],
      [['status', '--timeout', 'soon'], /^shoal: --timeout "soon": expected a positive duration/],
      [['status', '--addr', 'ftp://x'], /unknown scheme ftp:\/\//],
    ];
    for (const [argv, message] of cases) {
      const run = await cli([...argv, ...(argv.includes('--addr') ? [] : ['--addr', addr])]);
      expect({ argv, code: run.code }).toEqual({ argv, code: 2 });
      expect(run.err).toMatch(message);
    }
    expect(h.api.calls).toEqual([]);
  });

  it('1 when the agent refuses the request', async () => {
    const { code, err } = await cli(['node', 'rm', 'beta', '--addr', addr]);
    expect(code).toBe(1);
    const beta = h.idOf('beta');
    expect(err).toBe(
      `shoal: Node ${beta} is up: drain it first, or remove it anyway with \`shoal node rm --force ${beta}\`\n`,
    );
  });

  it('3 when nothing answers, naming the address and how to change it', async () => {
    const missing = join(h.dir, 'nope.sock');
    const run = await cli(['status'], { SHOAL_ADDR: missing });
    expect(run.code).toBe(3);
    expect(run.err).toContain(`cannot reach the shoal agent at unix://${missing}: no socket at ${missing}`);
    expect(run.err).toContain('--addr ADDR or SHOAL_ADDR=ADDR (this address came from SHOAL_ADDR)');
    // A closed TCP port: take a free one and release it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const tcp = await cli(['node', 'ls', '--addr', `127.0.0.1:${port}`]);
    expect(tcp.code).toBe(3);
    expect(tcp.err).toContain(`at 127.0.0.1:${port}: connection refused`);
  });

  it('4 when the node does not exist', async () => {
    const { code, err } = await cli(['node', 'rm', 'nope', '--addr', addr]);
    expect(code).toBe(4);
    expect(err).toContain('No node nope');
  });

  it('5 when the cluster is unavailable, and when the agent does not answer in time', async () => {
    h.api.failNext = new ApiError(503, 'unavailable', 'no leader right now: retry in a few seconds');
    const unavailable = await cli(['status', '--addr', addr]);
    expect(unavailable).toEqual({ code: 5, out: '', err: 'shoal: no leader right now: retry in a few seconds\n' });
    h.api.hang = true;
    const slow = await cli(['status', '--timeout', '100ms', '--addr', addr]);
    expect(slow.code).toBe(5);
    expect(slow.err).toContain('did not answer within 100 ms');
  });
});

describe('shoal addresses and tokens', () => {
  it('uses SHOAL_ADDR as host:port and as http://, and --addr wins over it', async () => {
    expect((await cli(['status', '-o', 'json'], { SHOAL_ADDR: `127.0.0.1:${h.port}` })).code).toBe(0);
    expect((await cli(['status', '-o', 'json'], { SHOAL_ADDR: `http://127.0.0.1:${h.port}` })).code).toBe(0);
    expect((await cli(['status', '--addr', h.socketPath], { SHOAL_ADDR: '/nonexistent/x.sock' })).code).toBe(0);
  });

  it('uses $SHOAL_DATA_DIR/shoal.sock when no address is given', async () => {
    expect((await cli(['node', 'ls', '-q'], { SHOAL_DATA_DIR: h.dir })).code).toBe(0);
  });

  it('sends the admin token from SHOAL_TOKEN or --token-file', async () => {
    await h.close();
    const token = createAdminToken();
    h = await startHarness({
      nodes: 1,
      server: { listen: [{ host: '127.0.0.1', port: 0, requireToken: true }], adminToken: token },
    });
    const tcp = `127.0.0.1:${h.port}`;
    const none = await cli(['status', '--addr', tcp]);
    expect(none.code).toBe(1);
    expect(none.err).toContain('admin token missing or wrong');
    expect((await cli(['status', '--addr', tcp], { SHOAL_TOKEN: token })).code).toBe(0);
    const file = join(h.dir, 'token');
    await writeFile(file, `${token}\n`);
    expect((await cli(['status', '--addr', tcp, '--token-file', file])).code).toBe(0);
    expect((await cli(['status', '--addr', tcp, '--token-file', join(h.dir, 'missing')])).code).toBe(2);
  });
});

describe('shoal help', () => {
  it('shoal help lists every command and documents the exit codes', async () => {
    const { code, out } = await cli(['help']);
    expect(code).toBe(0);
    for (const spec of COMMAND_SPECS) expect(out).toContain(`  ${spec.words.join(' ')} `);
    for (const exit of ['0', '1', '2', '3', '4', '5']) expect(out).toMatch(new RegExp(`^  ${exit}   \\S`, 'm'));
    expect((await cli([])).out).toBe(out);
    expect((await cli(['--help'])).out).toBe(out);
  });

  it.each(COMMAND_SPECS.map((spec) => [spec.words.join(' ')]))(
    'shoal %s --help shows usage, options and examples',
    async (name) => {
      const run = await cli([...name.split(' '), '--help']);
      expect(run.code).toBe(0);
      expect(run.out).toMatch(new RegExp(`^Usage: shoal ${name} \\[options\\]`));
      expect(run.out).toContain('Examples:\n  shoal ');
      expect(run.out).toContain('-h, --help');
      expect((await cli(['help', ...name.split(' ')])).out).toBe(run.out);
      expect((await cli([...name.split(' '), '-h'])).out).toBe(run.out);
    },
  );

  it('shoal node --help lists the subcommands', async () => {
    const { code, out } = await cli(['node', '--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/^ {2}ls +List the nodes/m);
  });

  it('shoal version prints the version without an agent', async () => {
    const { code, out } = await cli(['version', '-o', 'json', '--addr', '/nonexistent.sock']);
    expect(code).toBe(0);
    expect(JSON.parse(out).version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
