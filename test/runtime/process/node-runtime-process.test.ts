/** NodeRuntime end to end on the process runtime: real processes, the real clock, short intervals. */
import { NodeRuntime, type TaskReport } from '../../../src/runtime/index.js';
import { ProcessDriver } from '../../../src/runtime/process/index.js';
import { withPolicy } from '../fixtures.js';
import { collect, NODE, processTask, sh, tempDir, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!pred()) throw new Error(`never happened: ${what}`);
}

describe('NodeRuntime with the ProcessDriver', () => {
  it('NodeRuntime runs a process task to completion, reports its exit and serves its logs', async () => {
    const driver = new ProcessDriver({ stateDir: tempDir(), cgroups: false, adoptPollMs: 20 });
    const runtime = new NodeRuntime({ nodeId: NODE, driver, reconcileIntervalMs: 5000 });
    const reports: TaskReport[] = [];
    runtime.onReports((rs) => reports.push(...rs));
    await runtime.start();
    const ok = processTask(withPolicy(sh('echo done'), { condition: 'none' }));
    const bad = processTask(withPolicy(sh('echo oops >&2; exit 2'), { condition: 'none' }));
    runtime.setAssignments([ok, bad]);
    // The exits arrive as driver events, long before the 5 s interval.
    await until(() => reports.some((r) => r.taskId === ok.task.id && r.state === 'complete'), 'ok completes');
    await until(() => reports.some((r) => r.taskId === bad.task.id && r.state === 'failed'), 'bad fails');
    const failed = reports.find((r) => r.taskId === bad.task.id && r.state === 'failed')!;
    expect(failed).toMatchObject({ exitCode: 2, message: expect.stringMatching(/exited with code 2/) });
    expect(failed.containerId).toMatch(/^proc-/);
    const lines = await collect(runtime.logs(ok.task.id));
    expect(lines.map((l) => [l.stream, l.line])).toEqual([['stdout', 'done']]);
    // No longer assigned: the runtime removes the processes' directories.
    runtime.setAssignments([]);
    await runtime.reconcile();
    await runtime.reconcile();
    expect(await driver.list(NODE)).toEqual([]);
    await runtime.stop();
  });

  it('NodeRuntime restarts a failing process task in place by its restart policy, then fails it', async () => {
    const driver = new ProcessDriver({ stateDir: tempDir(), cgroups: false, adoptPollMs: 20 });
    const runtime = new NodeRuntime({ nodeId: NODE, driver, reconcileIntervalMs: 5000 });
    const reports: TaskReport[] = [];
    runtime.onReports((rs) => reports.push(...rs));
    await runtime.start();
    const a = processTask(
      withPolicy(sh('echo attempt; exit 1'), { condition: 'on-failure', maxAttempts: 2, delayMs: 10 }),
    );
    runtime.setAssignments([a]);
    await until(() => reports.some((r) => r.state === 'failed'), 'failed');
    const failed = reports.find((r) => r.state === 'failed')!;
    expect(failed).toMatchObject({ exitCode: 1, restarts: 2 });
    // The same process directory ran each attempt: its log holds all three.
    const lines = await collect(runtime.logs(a.task.id));
    expect(lines.map((l) => l.line)).toEqual(['attempt', 'attempt', 'attempt']);
    expect((await driver.list(NODE)).map((c) => c.id)).toEqual([failed.containerId]);
    await runtime.stop();
  });

  it('NodeRuntime rejects a process task whose executable is missing, with the reason', async () => {
    const driver = new ProcessDriver({ stateDir: tempDir(), cgroups: false });
    const runtime = new NodeRuntime({ nodeId: NODE, driver, reconcileIntervalMs: 50 });
    const reports: TaskReport[] = [];
    runtime.onReports((rs) => reports.push(...rs));
    await runtime.start();
    const a = processTask({ ...sh('true'), command: ['no-such-program-xyz'] });
    runtime.setAssignments([a]);
    await until(() => reports.some((r) => r.state === 'rejected'), 'rejected');
    expect(reports.find((r) => r.state === 'rejected')!.message).toMatch(
      /executable "no-such-program-xyz" is not in its PATH/,
    );
    await runtime.stop();
  });
});
