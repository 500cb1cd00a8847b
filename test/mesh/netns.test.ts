/**
 * The mesh between two "machines": two network namespaces on a bridge (test/support/netbed.ts),
 * each running a mesh node (fixtures/mesh-node.ts). A client in namespace A resolves the service
 * name with A's mesh DNS, connects to the VIP, and its bytes reach an echo server that listens
 * only on 127.0.0.1 inside namespace B: through A's proxy and a libp2p mesh stream. Needs root.
 */
import { jest } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { NetBed } from '../support/netbed.js';

jest.setTimeout(60_000);

const REPO = process.cwd();
const NODE = join(REPO, 'node_modules/.bin/node');
const FIXTURE = join(REPO, 'test/mesh/fixtures/mesh-node.ts');
const root = process.getuid?.() === 0;
const describeRoot = root ? describe : describe.skip;
if (!root) process.stdout.write('skipping the mesh test in network namespaces: it needs root (CI runs as root)\n');

interface MeshNode {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly peerId: string;
  readonly addrs: string[];
  /** The next JSON line the node prints. */
  next(): Promise<Record<string, unknown>>;
  stderr(): string;
}

async function startNode(bed: NetBed, i: number, env: Record<string, string>): Promise<MeshNode> {
  const proc = spawn(bed.enter(i)[0]!, [...bed.enter(i).slice(1), NODE, '--import', 'tsx', FIXTURE], {
    env: { ...process.env, MESH_LISTEN: bed.hosts[i]!.address, ...env },
    cwd: REPO,
  });
  let errors = '';
  proc.stderr.on('data', (c: Buffer) => (errors += c.toString()));
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done === true) throw new Error(`mesh node ${i} exited: ${errors}`);
    return JSON.parse(line.value);
  };
  const { ready } = await next();
  if (typeof ready !== 'object' || ready === null || !('peerId' in ready) || !('addrs' in ready)) {
    throw new Error(`mesh node ${i} did not say it was ready: ${errors}`);
  }
  const { peerId, addrs } = ready;
  if (typeof peerId !== 'string' || !Array.isArray(addrs)) throw new Error(`mesh node ${i}: bad ready line`);
  return { proc, peerId, addrs: addrs.map(String), next, stderr: () => errors };
}

/** The client, run in namespace A: resolve names with the mesh DNS, then send 1 MiB to the VIP. */
const CLIENT = `
const dns = require('node:dns').promises, net = require('node:net'), crypto = require('node:crypto');
(async () => {
  const r = new dns.Resolver({ timeout: 1000, tries: 2 });
  r.setServers(['10.253.0.1']);
  const names = {};
  for (const n of ['web', 'web.shop', 'tasks.web']) names[n] = await r.resolve4(n);
  const sent = crypto.randomBytes(1 << 20);
  const got = await new Promise((resolve, reject) => {
    const s = net.connect({ host: names['web.shop'][0], port: 80, allowHalfOpen: true }, () => s.end(sent));
    const chunks = [];
    s.on('data', (c) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  });
  const hash = (b) => crypto.createHash('sha256').update(b).digest('hex');
  console.log(JSON.stringify({ names, sent: hash(sent), got: hash(got), bytes: got.length }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

describeRoot('the mesh across network namespaces (root)', () => {
  const bed = new NetBed(2);
  const nodes: MeshNode[] = [];

  beforeAll(() => bed.up());

  afterAll(() => {
    for (const node of nodes) node.proc.kill('SIGTERM');
    bed.down();
  });

  it('a client in A reaches a server that listens only inside B, by name, through the VIP', async () => {
    const a = await startNode(bed, 0, {});
    nodes.push(a);
    const b = await startNode(bed, 1, { MESH_ECHO_PORT: '8080' });
    nodes.push(b);
    const members = [a.peerId, b.peerId];
    const peers = { [a.peerId]: a.addrs, [b.peerId]: b.addrs };
    const endpoints = { shop_web: [{ taskId: 'web.1', nodeId: b.peerId, healthy: true, draining: false }] };
    b.proc.stdin.write(
      `${JSON.stringify({ members, peers, vips: [], listeners: [], endpoints, tasks: { 'web.1': { host: '127.0.0.1', port: 8080 } } })}\n`,
    );
    expect(await b.next()).toEqual({ configured: { failed: [] } });
    a.proc.stdin.write(
      `${JSON.stringify({
        members,
        peers,
        vips: ['10.253.0.1', '10.253.0.7'],
        dns: {
          host: '10.253.0.1',
          names: { web: ['10.253.0.7'], 'web.shop': ['10.253.0.7'], 'tasks.web': ['10.253.0.7'] },
        },
        listeners: [{ service: 'shop_web', address: '10.253.0.7', port: 80, targetPort: 8080 }],
        endpoints,
        tasks: {},
      })}\n`,
    );
    expect(await a.next()).toEqual({ configured: { failed: [] } });

    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        bed.enter(0)[0]!,
        [...bed.enter(0).slice(1), NODE, '-e', CLIENT],
        { timeout: 30_000 },
        (err, stdout, stderr) =>
          err === null
            ? resolve(stdout)
            : reject(new Error(`client failed: ${stderr}\nnode A: ${a.stderr()}\nnode B: ${b.stderr()}`)),
      ),
    );
    const result = JSON.parse(out);
    expect(result.names).toEqual({ web: ['10.253.0.7'], 'web.shop': ['10.253.0.7'], 'tasks.web': ['10.253.0.7'] });
    expect(result.bytes).toBe(1 << 20);
    expect(result.got).toBe(result.sent);
  });
});
