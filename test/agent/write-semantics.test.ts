/**
 * Write semantics a client can trust, on real agent processes with the faults that showed the
 * bugs: a write through a follower answers with the state after it; a forwarded write whose
 * leader stops (a cut with no TCP reset) is re-sent to the new leader; kill -9 of the leader
 * while writes are forwarded loses none and applies none twice (request ids).
 */
import { jest } from '@jest/globals';
import { bootstrapCluster, makeAgents, waitFor, type AgentProcess, type StatusBody } from './support/agents.js';

jest.setTimeout(180_000);

interface NodeBody {
  readonly id: string;
  readonly labels: Record<string, string>;
}

async function roles(agents: readonly AgentProcess[]): Promise<{ leader: AgentProcess; followers: AgentProcess[] }> {
  let leaderId: string | null = null;
  const ids = new Map<AgentProcess, string>();
  for (const agent of agents) {
    if (!agent.running) continue;
    const reply = await agent.api<StatusBody & { nodeId: string }>('GET', '/v1/status?stale=1').catch(() => null);
    if (!reply || reply.status !== 200) continue;
    ids.set(agent, reply.body.nodeId);
    leaderId ??= reply.body.leader;
  }
  const leader = [...ids].find(([, id]) => id === leaderId)?.[0];
  if (!leader) throw new Error(`no running agent leads (leader ${leaderId})`);
  return { leader, followers: [...ids.keys()].filter((a) => a !== leader) };
}

async function nodeId(agent: AgentProcess): Promise<string> {
  return (await agent.api<{ nodeId: string }>('GET', '/v1/status?stale=1')).body.nodeId;
}

/**
 * Run `work` while `agent` is stopped (SIGSTOP: a cut with no reset, its connections just go
 * silent), then let it go on and wait until it answers again.
 */
async function whileStopped<T>(agent: AgentProcess, work: () => Promise<T>): Promise<T> {
  process.kill(agent.pid!, 'SIGSTOP');
  try {
    return await work();
  } finally {
    process.kill(agent.pid!, 'SIGCONT');
    await waitFor(
      'the stopped agent to answer again',
      async () => (await agent.api<StatusBody>('GET', '/v1/status').catch(() => null))?.status === 200,
      20_000,
    );
  }
}

describe('write semantics on a 3-agent cluster', () => {
  const { agents, cleanup } = makeAgents(3);
  afterAll(cleanup);

  beforeAll(async () => {
    await bootstrapCluster(agents);
  });

  it('a write through a follower answers with the state after the write', async () => {
    const { followers } = await roles(agents);
    const follower = followers[0]!;
    const target = await nodeId(follower);
    const seen: string[] = [];
    for (let i = 0; i < 25; i++) {
      const reply = await follower.api<NodeBody>('POST', `/v1/nodes/${target}/labels`, { add: { round: String(i) } });
      expect(reply.status).toBe(200);
      seen.push(reply.body.labels.round ?? 'missing');
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
  });

  it('a forwarded write whose leader stops answering is re-sent to the new leader', async () => {
    const { leader, followers } = await roles(agents);
    const follower = followers[0]!;
    const target = await nodeId(follower);
    const reply = await whileStopped(leader, () =>
      follower.api<NodeBody>('POST', `/v1/nodes/${target}/labels`, { add: { cut: 'survived' } }),
    );
    expect({
      status: reply.status,
      label: reply.body.labels?.cut,
      body: reply.status === 200 ? null : reply.body,
    }).toEqual({
      status: 200,
      label: 'survived',
      body: null,
    });
  });

  it('a forwarded job submission whose leader stops answering is re-sent to the new leader', async () => {
    const { leader, followers } = await roles(agents);
    const follower = followers[0]!;
    // job submit proposes at once (no read first), so it is forwarded to the stopped leader
    const reply = await whileStopped(leader, () =>
      follower.api<{ jobId?: string }>('POST', '/v1/jobs', {
        name: 'after-cut',
        owner: 'test',
        command: ['true'],
        runtime: 'process',
      }),
    );
    expect({ status: reply.status, body: reply.status === 200 ? 'ok' : reply.body }).toEqual({
      status: 200,
      body: 'ok',
    });
    expect(reply.body.jobId).toMatch(/^\d+$/);
  });

  it('kill -9 of the leader while job submissions are forwarded: none fails, none is applied twice', async () => {
    const { leader, followers } = await roles(agents);
    const via = followers[0]!;
    const runs: { name: string; status: number; code?: string; message?: string }[] = [];
    let stop = false;
    let n = 0;
    const worker = async () => {
      while (!stop && n < 2_000) {
        const name = `w${n++}`;
        const reply = await via
          .api<{ error?: { code: string; message?: string } }>('POST', '/v1/jobs', {
            name,
            owner: 'test',
            command: ['true'],
            runtime: 'process',
          })
          .catch((error: unknown) => ({ status: 0, body: { error: { code: 'no answer', message: String(error) } } }));
        const error = reply.body.error;
        runs.push({ name, status: reply.status, ...(error ? { code: error.code, message: error.message } : {}) });
      }
    };
    // many forwarded submissions in flight at once, so that some are cut by the kill
    const workers = Array.from({ length: 16 }, worker);
    await waitFor('some submissions', async () => runs.length >= 32, 30_000);
    await leader.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    stop = true;
    await Promise.all(workers);
    // an answer is a success, or says that the outcome is unknown (safe to send again): never a failure
    expect(runs.filter((r) => r.status !== 200 && r.code !== 'outcome_unknown')).toEqual([]);
    const queue = await via.api<{ name: string }[]>('GET', '/v1/queue?all=1');
    expect(queue.status).toBe(200);
    const count = new Map<string, number>();
    for (const job of queue.body) count.set(job.name, (count.get(job.name) ?? 0) + 1);
    const applied = runs.map((r) => ({ name: r.name, times: count.get(r.name) ?? 0, ok: r.status === 200 }));
    expect(applied.filter((a) => (a.ok ? a.times !== 1 : a.times > 1))).toEqual([]);
    expect(runs.filter((r) => r.status === 200).length).toBeGreaterThan(32);
  });
});
