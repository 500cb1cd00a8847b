/**
 * Real agents, real processes: bootstrap and join over libp2p on loopback, the same answers
 * through any peer, kill -9 of the leader, catch-up by snapshot after compaction.
 */
import { jest } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapCluster, makeAgents, waitFor, type AgentProcess, type StatusBody } from './support/agents.js';

jest.setTimeout(120_000);

async function leaderOf(agents: AgentProcess[]): Promise<string | null> {
  for (const agent of agents) {
    if (!agent.running) continue;
    const reply = await agent.api<StatusBody>('GET', '/v1/status?stale=1').catch(() => null);
    if (reply?.status === 200 && reply.body.leader) return reply.body.leader;
  }
  return null;
}

async function agentById(agents: AgentProcess[], id: string): Promise<AgentProcess> {
  for (const agent of agents) {
    const reply = await agent.api<StatusBody & { nodeId: string }>('GET', '/v1/status?stale=1').catch(() => null);
    if (reply?.body.nodeId === id) return agent;
  }
  throw new Error(`no running agent with id ${id}`);
}

describe('a 3-agent cluster on loopback', () => {
  const { agents, cleanup } = makeAgents(3);
  afterAll(cleanup);

  it('bootstraps with init, joins two nodes by token, and promotes them to voters', async () => {
    await bootstrapCluster(agents);
    const reply = await agents[0]!.api<StatusBody>('GET', '/v1/status');
    expect(reply.body.members.map((m) => m.raftRole)).toEqual(['voter', 'voter', 'voter']);
  });

  it('status gives the same cluster view through every peer (CLI, -o json)', async () => {
    const views = await Promise.all(
      agents.map(async (agent) => {
        const run = await agent.cli(['status', '-o', 'json']);
        expect(run.code).toBe(0);
        const view = JSON.parse(run.stdout) as StatusBody & { clusterId: string };
        return { clusterId: view.clusterId, leader: view.leader, members: view.members.map((m) => [m.id, m.raftRole]) };
      }),
    );
    expect(views[1]).toEqual(views[0]);
    expect(views[2]).toEqual(views[0]);
  });

  it('node ls lists the three nodes as ready from any peer', async () => {
    const run = await agents[2]!.cli(['node', 'ls', '-o', 'json']);
    expect(run.code).toBe(0);
    const nodes = JSON.parse(run.stdout) as { status: string; raftRole: string }[];
    expect(nodes).toHaveLength(3);
    expect(nodes.every((n) => n.status === 'ready' && n.raftRole === 'voter')).toBe(true);
  });

  it('stack deploy and service scale warn when services reach each other by name across nodes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-naming-'));
    try {
      const file = join(dir, 'compose.yml');
      writeFileSync(
        file,
        [
          'services:',
          '  web:',
          '    image: shoal-test/busybox:latest',
          '    command: ["sleep", "3600"]',
          '    deploy:',
          '      replicas: 0',
          '  client:',
          '    image: shoal-test/busybox:latest',
          '    command: ["wget", "-q", "-O", "-", "http://web:8080/"]',
          '    deploy:',
          '      replicas: 0',
          '',
        ].join('\n'),
      );
      const deploy = await agents[1]!.cli(['stack', 'deploy', '-f', file, '--name', 'named']);
      expect(deploy.code).toBe(0);
      // (Beside the warning that the local test image is pinned to its image id.)
      expect(deploy.stderr).toMatch(
        /^WARNING: stack named: client → web reach by service name, which resolves only where/m,
      );
      const scale = await agents[2]!.cli(['service', 'scale', 'named_web=0']);
      expect(scale.code).toBe(0);
      expect(scale.stderr).toContain('WARNING: stack named: client → web');
      expect((await agents[0]!.cli(['stack', 'rm', 'named'])).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('survives kill -9 of the leader: a new leader is elected and acknowledged writes are kept', async () => {
    const fingerprints: string[] = [];
    for (let i = 0; i < 5; i++) {
      const follower = agents[(i % 2) + 1]!;
      const reply = await follower.api<{ fingerprint: string }>('POST', '/v1/token/rotate');
      expect(reply.status).toBe(200);
      fingerprints.push(reply.body.fingerprint);
    }
    const oldLeader = (await leaderOf(agents))!;
    const victim = await agentById(agents, oldLeader);
    await victim.kill('SIGKILL');
    const survivors = agents.filter((a) => a !== victim);
    await waitFor(
      'a new leader',
      async () => {
        const leader = await leaderOf(survivors);
        return leader !== null && leader !== oldLeader;
      },
      20_000,
    );
    // Every rotation acknowledged before the kill is in the new leader's state: the last one is current.
    const current = await survivors[0]!.api<{ error: { message: string } }>('GET', '/v1/token');
    const holder = await survivors[1]!.api<{ fingerprint?: string; error?: { message: string } }>('GET', '/v1/token');
    expect(JSON.stringify([current.body, holder.body])).toContain(fingerprints.at(-1)!);
    const rotated = await survivors[0]!.api<{ fingerprint: string }>('POST', '/v1/token/rotate');
    expect(rotated.status).toBe(200);
    // A new leader counts every peer as active until one election timeout has passed.
    let status = await survivors[1]!.api<StatusBody & { warnings: string[] }>('GET', '/v1/status');
    await waitFor(
      'the dead leader to show as unreachable',
      async () => {
        status = await survivors[1]!.api<StatusBody & { warnings: string[] }>('GET', '/v1/status');
        return status.body.members.find((m) => m.id === oldLeader)?.reachable === false;
      },
      10_000,
    );
    expect(status.body.leader).not.toBe(oldLeader);
    expect(status.body.warnings.join('\n')).toMatch(/unreachable/);
    // Restart the victim: it rejoins from its own disk, with no flags.
    victim.start();
    await victim.waitForApi();
    await waitFor(
      'the restarted node to be reachable again',
      async () => {
        const reply = await survivors[0]!.api<StatusBody>('GET', '/v1/status');
        return reply.body.members.find((m) => m.id === oldLeader)?.reachable === true;
      },
      20_000,
    );
  });
});

describe('catch-up by snapshot', () => {
  const { agents, cleanup } = makeAgents(3, 'shoal-it-snap-');
  afterAll(cleanup);

  it('a node restarted after the log was compacted catches up from a snapshot', async () => {
    const flags = ['--snapshot-every', '10'];
    await bootstrapCluster(agents, { flags });
    const lagging = agents[2]!;
    await lagging.kill('SIGKILL');
    let last = '';
    for (let i = 0; i < 30; i++) {
      const reply = await agents[i % 2]!.api<{ fingerprint: string }>('POST', '/v1/token/rotate');
      expect(reply.status).toBe(200);
      last = reply.body.fingerprint;
    }
    lagging.start(flags);
    await lagging.waitForApi();
    await waitFor(
      'the lagging node to apply the latest token',
      async () => {
        const reply = await lagging.api<{ fingerprint: string }>('GET', '/v1/token?stale=1').catch(() => null);
        // This node did not create the token, so it answers 404 with the current fingerprint in the message.
        return reply !== null && JSON.stringify(reply.body).includes(last);
      },
      20_000,
      () => `[lagging]\n${lagging.output}\n[n1]\n${agents[0]!.output.slice(-3000)}`,
    );
    expect(lagging.output).toMatch(/snapshot/i);
  });
});
