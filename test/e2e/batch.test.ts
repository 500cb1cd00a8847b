/**
 * Batch end to end: 3 real agents on loopback (2 CPUs each, as this machine has), jobs in the
 * process runtime and in Docker. A big low-priority array fills the cluster, a service scales up
 * and preempts some of its units, which are requeued and finish later, each unit counted once; a
 * node is killed mid-job and its units complete elsewhere; a Docker job's output is read back.
 */
import { jest } from '@jest/globals';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryRow, QueueRow } from '../../src/api/job-types.js';
import { prepareDocker, removeContainersOf } from './support.js';
import { bootstrapCluster, makeAgents, waitFor, type AgentProcess } from '../agent/support/agents.js';

jest.setTimeout(240_000);

async function submit(agent: AgentProcess, request: Record<string, unknown>): Promise<string> {
  const reply = await agent.api<{ jobId: string }>('POST', '/v1/jobs', { owner: 'e2e', ...request });
  if (reply.status !== 200) throw new Error(`submit: ${JSON.stringify(reply.body)}`);
  return reply.body.jobId;
}

async function job(agent: AgentProcess, id: string): Promise<QueueRow> {
  const reply = await agent.api<QueueRow[]>('GET', '/v1/queue?all=1');
  const row = reply.body.find((r) => r.jobId === id);
  if (!row) throw new Error(`job ${id} is not in the queue: ${JSON.stringify(reply.body)}`);
  return row;
}

/** NDJSON log lines as text (one line alone parses as a JSON object). */
function logText(body: unknown): string {
  return typeof body === 'string' ? body : JSON.stringify(body);
}

async function runs(agent: AgentProcess, id: string): Promise<HistoryRow[]> {
  const reply = await agent.api<HistoryRow[]>('GET', `/v1/jobs/history?job=${id}`);
  return reply.body.filter((r) => r.id !== id);
}

/** Kill the process-runtime tasks an agent left behind (as if its machine had died with it). */
function killProcessTasks(agent: AgentProcess): void {
  const dir = join(agent.dataDir, 'processes');
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    try {
      const meta = JSON.parse(readFileSync(join(dir, name, 'meta.json'), 'utf8')) as { pid: number | null };
      if (meta.pid) process.kill(-meta.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

const H100_UUID = 'GPU-262bb9d6-a6ea-957c-678b-4ffdfd652f1c';
const gpuBin = mkdtempSync(join(tmpdir(), 'shoal-nvidia-smi-'));
writeFileSync(
  join(gpuBin, 'nvidia-smi'),
  `#!/bin/sh\ncat ${join(process.cwd(), 'test/fixtures/nvidia-smi-h100/nvidia-smi-query-gpu.csv')}\n`,
);
chmodSync(join(gpuBin, 'nvidia-smi'), 0o755);

describe('batch on a 3-agent cluster', () => {
  const { agents, cleanup } = makeAgents(3, 'shoal-batch-');
  const ids: string[] = [];
  const flags = ['--node-grace-ms', '3000'];

  beforeAll(async () => {
    prepareDocker();
    ids.push(...(await bootstrapCluster(agents, { flags })).ids);
  });

  afterAll(async () => {
    for (const agent of agents) killProcessTasks(agent);
    await cleanup();
    removeContainersOf(ids);
  });

  it('a low-priority array fills the cluster; a service scaling up preempts units, which finish later, each counted once', async () => {
    const id = await submit(agents[1]!, {
      name: 'mining',
      command: ['sh', '-c', 'sleep 3'],
      cpus: 1,
      array: '0-11',
      priority: 50,
    });
    await waitFor(
      '6 units running (every CPU of the cluster)',
      async () => (await job(agents[0]!, id)).units.running === 6,
      60_000,
    );
    const waiting = await job(agents[2]!, id);
    expect(waiting.units.pending).toBe(6);
    expect(waiting.reason).toMatch(/^(Resources|Priority)/);

    const compose = [
      'services:',
      '  api:',
      '    image: shoal-test/busybox:latest',
      '    command: ["sleep", "3600"]',
      '    deploy:',
      '      replicas: 2',
      '      resources:',
      '        reservations:',
      '          cpus: "1"',
    ].join('\n');
    const deploy = await agents[0]!.api('POST', '/v1/stacks', { name: 'rush', compose, file: 'compose.yml' });
    expect(deploy.status).toBe(200);
    await waitFor(
      'the service to run 2 replicas',
      async () => {
        const rows = (await agents[0]!.api<{ state: string }[]>('GET', '/v1/services/rush_api/tasks')).body;
        return rows.filter((t) => t.state === 'running').length === 2;
      },
      90_000,
    );
    await waitFor('the array to complete', async () => (await job(agents[0]!, id)).state === 'COMPLETED', 120_000);

    const final = await job(agents[0]!, id);
    expect(final.units).toMatchObject({ total: 12, done: 12, failed: 0 });
    const history = await runs(agents[0]!, id);
    const preempted = history.filter((r) => r.state === 'PREEMPTED');
    expect(preempted.length).toBeGreaterThanOrEqual(2);
    const completed = history.filter((r) => r.state === 'COMPLETED');
    // Every index completed exactly once: no unit lost, none counted twice.
    expect(completed.map((r) => r.id.split('.')[0]).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `${id}_${i}`).sort(),
    );
    // A preempted unit ran again (a `.N` run of the same index) and that run completed.
    for (const p of preempted) {
      const unit = p.id.split('.')[0]!;
      expect(
        history.some((r) => r.id.startsWith(`${unit}.`) && r.id !== p.id && r.state === 'COMPLETED') ||
          completed.some((r) => r.id.split('.')[0] === unit),
      ).toBe(true);
    }
    await agents[0]!.api('DELETE', '/v1/stacks/rush');
  });

  it('submit refuses a unit no node could hold and -c 0; a 30-day limit runs; %N units wait as JobArrayTaskLimit', async () => {
    type Refusal = { error: { message: string } };
    const huge = await agents[0]!.api<Refusal>('POST', '/v1/jobs', { owner: 'e2e', command: ['true'], cpus: 1000 });
    expect(huge.status).toBe(400);
    expect(huge.body.error.message).toMatch(
      /^job submit: Requested node configuration is not available: one unit needs 1000 CPUs, .*; the largest node, .+, has \d+(\.\d+)? CPUs/,
    );
    const zero = await agents[0]!.api<Refusal>('POST', '/v1/jobs', { owner: 'e2e', command: ['true'], cpus: 0 });
    expect(zero.status).toBe(400);
    expect(zero.body.error.message).toMatch(/--cpus 0: a unit reserves more than 0 CPUs/);
    // 30 days is past Node's 24.8-day timer limit: the units must run to their end, not be killed or spin.
    const id = await submit(agents[0]!, {
      name: 'long-limit',
      command: ['sh', '-c', 'sleep 2'],
      cpus: 0.1,
      time: '2592000s',
      array: '0-2%1',
    });
    await waitFor(
      'units held by %1 to wait as JobArrayTaskLimit',
      async () => /^JobArrayTaskLimit/.test((await job(agents[0]!, id)).reason),
      30_000,
    );
    await waitFor('the job to complete', async () => (await job(agents[0]!, id)).state === 'COMPLETED', 60_000);
    expect((await runs(agents[0]!, id)).map((r) => r.state)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
  });

  it('a node killed mid-job: its units end NODE_FAIL, run again elsewhere, and the job completes', async () => {
    const id = await submit(agents[0]!, { name: 'sim', command: ['sh', '-c', 'sleep 4'], cpus: 1, array: '0-5' });
    await waitFor('6 units running', async () => (await job(agents[0]!, id)).units.running === 6, 60_000);
    const lost = agents[2]!;
    await lost.kill('SIGKILL');
    killProcessTasks(lost);
    await waitFor(
      'the job to complete on the other nodes',
      async () => (await job(agents[0]!, id)).state === 'COMPLETED',
      120_000,
    );
    const history = await runs(agents[0]!, id);
    const failed = history.filter((r) => r.state === 'NODE_FAIL');
    expect(failed.length).toBe(2);
    expect(failed.every((r) => r.node !== null)).toBe(true);
    expect(history.filter((r) => r.state === 'COMPLETED')).toHaveLength(6);
    // Back with a GPU: a stand-in nvidia-smi prints the output captured on an H100 machine.
    lost.start(flags, { PATH: `${gpuBin}:${process.env.PATH ?? ''}` });
    await lost.waitForApi();
  });

  it("GPU units get the node's device exclusively (from nvidia-smi) and free it when they end", async () => {
    await waitFor(
      'the node to advertise its GPU',
      async () => {
        const nodes = (await agents[0]!.api<{ id: string; resources: { gpus: number } }[]>('GET', '/v1/nodes')).body;
        return nodes.find((n) => n.id === ids[2])?.resources.gpus === 1;
      },
      60_000,
    );
    const script = 'echo "gpu=$CUDA_VISIBLE_DEVICES"; sleep 2';
    const a = await submit(agents[0]!, { name: 'gpu-a', command: ['sh', '-c', script], cpus: 0.1, gpus: 1 });
    const b = await submit(agents[0]!, { name: 'gpu-b', command: ['sh', '-c', script], cpus: 0.1, gpus: 1 });
    await waitFor(
      'both GPU jobs to complete',
      async () => (await job(agents[0]!, b)).state === 'COMPLETED' && (await job(agents[0]!, a)).state === 'COMPLETED',
      90_000,
    );
    const [ra, rb] = [(await runs(agents[0]!, a))[0]!, (await runs(agents[0]!, b))[0]!];
    expect(ra.node).toBe(rb.node);
    // One device: the second ran only once the first had ended.
    expect(Math.max(ra.startedAt!, rb.startedAt!)).toBeGreaterThanOrEqual(Math.min(ra.endedAt!, rb.endedAt!));
    for (const id of [a, b]) {
      const logs = await agents[1]!.api<string>('GET', `/v1/jobs/${id}/logs`);
      expect(logText(logs.body)).toContain(`gpu=${H100_UUID}`);
    }
  });

  it('a Docker job gets its array index and its output reads back with job logs', async () => {
    const id = await submit(agents[1]!, {
      name: 'hello',
      image: 'shoal-test/busybox:latest',
      command: ['sh', '-c', 'echo "unit $SLURM_ARRAY_TASK_ID of job $SHOAL_JOB_ID"'],
      cpus: 0.5,
      array: '0-1',
    });
    await waitFor('the docker job to complete', async () => (await job(agents[0]!, id)).state === 'COMPLETED', 90_000);
    const logs = await agents[2]!.api<string>('GET', `/v1/jobs/${id}/logs`);
    expect(logText(logs.body)).toContain(`unit 0 of job ${id}`);
    expect(logText(logs.body)).toContain(`unit 1 of job ${id}`);
  });
});
