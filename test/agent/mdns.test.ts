/**
 * `--mdns`: agents find each other on a LAN. The LAN here is two network namespaces this test
 * makes, joined by a veth pair: the multicast never leaves them.
 */
import { jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { makeAgents, waitFor, type AgentProcess } from './support/agents.js';

jest.setTimeout(90_000);

interface Discovered {
  peerId: string;
  addresses: string[];
  member: boolean;
}

const tag = randomBytes(3).toString('hex');
const nsA = `shoal-mdns-a-${tag}`;
const nsB = `shoal-mdns-b-${tag}`;
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

function makeLan(): void {
  if (process.getuid?.() !== 0) throw new Error('this test makes network namespaces and needs root (CI runs as root)');
  ip('netns', 'add', nsA);
  ip('netns', 'add', nsB);
  ip('link', 'add', `va${tag}`, 'type', 'veth', 'peer', 'name', `vb${tag}`);
  ip('link', 'set', `va${tag}`, 'netns', nsA);
  ip('link', 'set', `vb${tag}`, 'netns', nsB);
  for (const [ns, dev, addr] of [
    [nsA, `va${tag}`, '10.213.0.1/24'],
    [nsB, `vb${tag}`, '10.213.0.2/24'],
  ] as const) {
    ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
    ip('-n', ns, 'link', 'set', dev, 'up', 'multicast', 'on');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev);
  }
}

function removeLan(): void {
  for (const ns of [nsA, nsB]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // never made
    }
  }
}

async function discovered(agent: AgentProcess): Promise<Discovered[]> {
  const reply = await agent.api<Discovered[]>('GET', '/v1/discovered').catch(() => null);
  return reply?.status === 200 ? reply.body : [];
}

describe('shoal agent --mdns', () => {
  const { agents, cleanup } = makeAgents(2, 'shoal-it-mdns-');
  beforeAll(makeLan);
  afterAll(async () => {
    await cleanup();
    removeLan();
  });

  it('finds an agent on the LAN, and a new node joins through the address it found', async () => {
    const [a, b] = agents as [AgentProcess, AgentProcess];
    a.start(['--init', '--mdns', '--listen', '/ip4/10.213.0.1/tcp/0'], {}, nsA);
    b.start(['--mdns', '--listen', '/ip4/10.213.0.2/tcp/0'], {}, nsB);
    await Promise.all([a.waitForApi(), b.waitForApi()]);
    const aId = (await a.api<{ nodeId: string }>('GET', '/v1/status?stale=1')).body.nodeId;
    let found: Discovered | undefined;
    await waitFor(
      'b to discover a',
      async () => {
        found = (await discovered(b)).find((p) => p.peerId === aId);
        return found !== undefined;
      },
      30_000,
      () => b.output.slice(-2000),
    );
    expect(found!.member).toBe(false);
    expect(found!.addresses.some((addr) => addr.startsWith('/ip4/10.213.0.1/tcp/'))).toBe(true);

    const table = await b.cli(['discover']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(aId.slice(0, 16));

    let token = '';
    await waitFor('the token', async () => {
      const reply = await a.api<{ token: string }>('GET', '/v1/token');
      token = reply.status === 200 ? reply.body.token : '';
      return token !== '';
    });
    const address = found!.addresses.find((addr) => addr.startsWith('/ip4/10.213.0.1/'))!;
    const join = await b.cli(['join', address, '--token', token]);
    expect(join.stderr).toBe('');
    expect(join.code).toBe(0);
    const bId = (await b.api<{ nodeId: string }>('GET', '/v1/status?stale=1')).body.nodeId;
    await waitFor(
      'a to see b as a member',
      async () => (await discovered(a)).some((p) => p.peerId === bId && p.member),
      30_000,
    );
  });
});
