/**
 * Accounting of a Docker job on a real agent (sacct's CPUTIME and MAXRSS): a stopped container's
 * stats are gone, so the runtime samples them while it runs and reports the last sample when the
 * unit ends; `shoal job history` then shows what it used.
 */
import { jest } from '@jest/globals';
import type { HistoryRow } from '../../src/api/job-types.js';
import { bootstrapCluster, makeAgents, waitFor } from '../agent/support/agents.js';
import { prepareDocker, removeContainersOf } from './support.js';

jest.setTimeout(120_000);

describe('accounting of a Docker job', () => {
  const { agents, cleanup } = makeAgents(1, 'shoal-acct-');
  const ids: string[] = [];

  beforeAll(async () => {
    prepareDocker();
    ids.push(...(await bootstrapCluster(agents, { voters: 1 })).ids);
  });

  afterAll(async () => {
    await cleanup();
    removeContainersOf(ids);
  });

  it('job history reports CPUTIME > 0 and MAXRSS > 0 for a Docker job that burns a little CPU', async () => {
    const agent = agents[0]!;
    const submitted = await agent.api<{ jobId: string }>('POST', '/v1/jobs', {
      owner: 'e2e',
      name: 'burn',
      image: 'shoal-test/busybox:latest',
      // About a second of CPU in the shell, then a pause so the run outlives one sample.
      command: ['sh', '-c', 'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; sleep 1'],
      cpus: 1,
    });
    expect(submitted.status).toBe(200);
    const id = submitted.body.jobId;
    let rows: HistoryRow[] = [];
    await waitFor(
      'the job to end',
      async () => {
        rows = (await agent.api<HistoryRow[]>('GET', `/v1/jobs/history?job=${id}`)).body;
        return rows[0]?.endedAt != null;
      },
      90_000,
      () => agent.output,
    );
    const [job, run] = rows;
    expect(job).toMatchObject({ id, state: 'COMPLETED' });
    expect(run).toMatchObject({ id: `${id}.0`, state: 'COMPLETED' });
    for (const row of [job!, run!]) {
      expect(row.cpuMs).toBeGreaterThan(0);
      expect(row.peakMemoryBytes).toBeGreaterThan(0);
    }
  });
});
