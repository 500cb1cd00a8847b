/**
 * The self-healing control plane with real agents: a dead voter's seat goes to a caught-up
 * learner after the grace period, and leadership can be handed over on purpose.
 */
import { jest } from '@jest/globals';
import { bootstrapCluster, makeAgents, waitFor, type AgentProcess, type StatusBody } from './support/agents.js';

jest.setTimeout(120_000);

async function status(agent: AgentProcess): Promise<StatusBody> {
  return (await agent.api<StatusBody>('GET', '/v1/status')).body;
}

describe('self-healing membership (4 agents, voter grace 2 s)', () => {
  const { agents, cleanup } = makeAgents(4, 'shoal-it-members-');
  afterAll(cleanup);

  it('keeps 3 voters and 1 learner, and promotes the learner when a voter dies', async () => {
    const grace = ['--voter-grace-ms', '2000'];
    await bootstrapCluster(agents, { flags: grace });
    await waitFor(
      '3 voters and 1 learner',
      async () => {
        const s = await status(agents[0]!).catch(() => null);
        return (
          s?.members.filter((m) => m.raftRole === 'voter').length === 3 &&
          s.members.filter((m) => m.raftRole === 'learner').length === 1
        );
      },
      40_000,
    );

    const before = await status(agents[0]!);
    const learnerId = before.members.find((m) => m.raftRole === 'learner')!.id;
    const victimId = before.members.find((m) => m.raftRole === 'voter' && m.id !== before.leader)!.id;
    const ids = await Promise.all(
      agents.map(async (a) => (await a.api<{ nodeId: string }>('GET', '/v1/status?stale=1')).body.nodeId),
    );
    const victim = agents[ids.indexOf(victimId)]!;
    await victim.kill('SIGKILL');

    const observer = agents[ids.indexOf(before.leader!)]!;
    await waitFor(
      "the learner to take the dead voter's seat",
      async () => {
        const s = await status(observer).catch(() => null);
        if (!s) return false;
        const role = (id: string) => s.members.find((m) => m.id === id)?.raftRole;
        return role(learnerId) === 'voter' && role(victimId) === 'learner';
      },
      30_000,
      () => observer.output.slice(-3000),
    );
    const after = await status(observer);
    expect(after.members.filter((m) => m.raftRole === 'voter' && m.reachable).length).toBe(3);
  });

  it('leader transfer hands leadership to the named voter (CLI)', async () => {
    const live = agents.filter((a) => a.running);
    const s = await status(live[0]!);
    const target = s.members.find((m) => m.raftRole === 'voter' && m.id !== s.leader && m.reachable)!.id;
    const run = await live[0]!.cli(['leader', 'transfer', target]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    await waitFor('the target to lead', async () => (await status(live[1]!)).leader === target, 10_000);
  });
});
