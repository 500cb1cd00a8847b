/** planNode() for batch units: no in-place restarts, time limits, OOM and usage in the final report. */
import { planNode } from '../../src/runtime/index.js';
import { assignment, container, serviceFromCompose, task } from './fixtures.js';

const NODE = 'node-a';
const JOB = { jobId: '7', index: 3, attempt: 0, requeues: 0 };
const jobSpec = serviceFromCompose(
  ['image: busybox', 'x-shoal:', '  kind: job', '  job:', '    time_limit: 10s', '    retries: 2'].join('\n'),
  'crunch',
);

describe('planNode() for job units', () => {
  it('planNode() fails a job unit that exits non-zero instead of restarting it in place', () => {
    const a = assignment(task({ id: 't1', state: 'running', job: JOB }), jobSpec);
    const c = container({ id: 'c1', taskId: 't1', status: 'exited', exitCode: 3, startedAt: 1000, finishedAt: 2000 });
    const r = planNode({ nodeId: NODE, desired: [a], observed: [c], now: 3000, memory: {} });
    expect(r.reports).toEqual([expect.objectContaining({ taskId: 't1', state: 'failed', exitCode: 3 })]);
    expect(r.actions.some((x) => x.type === 'start' || x.type === 'create')).toBe(false);
    expect(r.nextWakeAt).toBeNull();
  });

  it('planNode() stops a unit past its time limit and reports it failed with outcome TIMEOUT', () => {
    const a = assignment(task({ id: 't1', state: 'running', job: JOB }), jobSpec);
    const running = container({ id: 'c1', taskId: 't1', status: 'running', startedAt: 1000 });
    const early = planNode({ nodeId: NODE, desired: [a], observed: [running], now: 5000, memory: {} });
    expect(early.actions).toEqual([]);
    expect(early.nextWakeAt).toBe(11_000);

    const late = planNode({ nodeId: NODE, desired: [a], observed: [running], now: 11_000, memory: early.memory });
    expect(late.actions).toEqual([expect.objectContaining({ type: 'stop', reason: 'time limit of 10s exceeded' })]);

    const killed = container({
      id: 'c1',
      taskId: 't1',
      status: 'exited',
      exitCode: 143,
      startedAt: 1000,
      finishedAt: 11_500,
    });
    const done = planNode({ nodeId: NODE, desired: [a], observed: [killed], now: 12_000, memory: late.memory });
    expect(done.reports).toEqual([
      expect.objectContaining({
        state: 'failed',
        outcome: 'TIMEOUT',
        exitCode: 143,
        message: expect.stringMatching(/^TIMEOUT/),
      }),
    ]);
  });

  it('planNode() reports OUT_OF_MEMORY and the measured usage when a unit ends', () => {
    const a = assignment(task({ id: 't1', state: 'running', job: JOB }), jobSpec);
    const c = {
      ...container({ id: 'c1', taskId: 't1', status: 'exited', exitCode: 137, startedAt: 1000, finishedAt: 2000 }),
      oomKilled: true,
      usage: { cpuMs: 812.4, peakMemoryBytes: 5_000_000 },
    };
    const r = planNode({ nodeId: NODE, desired: [a], observed: [c], now: 3000, memory: {} });
    expect(r.reports[0]).toMatchObject({
      state: 'failed',
      outcome: 'OUT_OF_MEMORY',
      usage: { cpuMs: 812, peakMemoryBytes: 5_000_000 },
    });
  });

  it('planNode() reports a unit that exits 0 complete', () => {
    const a = assignment(task({ id: 't1', state: 'running', job: JOB }), jobSpec);
    const c = container({ id: 'c1', taskId: 't1', status: 'exited', exitCode: 0, startedAt: 1000, finishedAt: 2000 });
    const r = planNode({ nodeId: NODE, desired: [a], observed: [c], now: 3000, memory: {} });
    expect(r.reports[0]).toMatchObject({ state: 'complete', exitCode: 0 });
    expect(r.reports[0]!.outcome).toBeUndefined();
  });
});
