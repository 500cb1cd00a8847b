/** NodeRuntime's loop on an in-memory driver and a manual clock. */
import { NodeRuntime, NoContainerError, TaskRejectedError, type TaskReport } from '../../src/runtime/index.js';
import type { TaskRecord } from '../../src/state/workloads.js';
import { assignment, BASE_SPEC, serviceFromCompose, task, withPolicy } from './fixtures.js';
import { ManualClock, MemoryDriver } from './memory-driver.js';

const NODE = 'node-a';

function setup(options: { concurrency?: number } = {}) {
  const clock = new ManualClock();
  const driver = new MemoryDriver(clock);
  const runtime = new NodeRuntime({ nodeId: NODE, driver, clock, reconcileIntervalMs: 1000, ...options });
  const sent: TaskReport[][] = [];
  runtime.onReports((rs) => sent.push(rs));
  return { clock, driver, runtime, sent };
}

describe('NodeRuntime', () => {
  it('NodeRuntime touches nothing before it is told its assignments (static stability)', async () => {
    const { driver, runtime } = setup();
    driver.containers.set('x', { ...driver.container('x', NODE, 'old', 1, 'running') });
    await runtime.start();
    await runtime.reconcile();
    expect(driver.calls).toEqual([]);
    expect(runtime.observed.map((c) => c.id)).toEqual(['x']);
    runtime.setAssignments([]);
    await runtime.reconcile();
    expect(driver.calls).toEqual(['stop x SIGTERM 10000', 'remove x']);
    await runtime.stop();
  });

  it('NodeRuntime awaits beforeStop (the mesh drain) before it stops a task’s container', async () => {
    const clock = new ManualClock();
    const driver = new MemoryDriver(clock);
    let release: () => void = () => undefined;
    const drained: string[] = [];
    const runtime = new NodeRuntime({
      nodeId: NODE,
      driver,
      clock,
      beforeStop: async (taskId) => {
        drained.push(taskId);
        await new Promise<void>((resolve) => (release = resolve));
      },
    });
    await runtime.start();
    const t1 = task({ id: 't1' });
    runtime.setAssignments([assignment(t1)]);
    await runtime.reconcile();
    runtime.setAssignments([assignment({ ...t1, state: 'running', desiredState: 'shutdown' })]);
    const stopping = runtime.reconcile();
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toEqual(['t1']);
    expect(driver.calls.filter((c) => c.startsWith('stop'))).toEqual([]); // held by the drain
    release();
    await stopping;
    expect(driver.calls.filter((c) => c.startsWith('stop'))).toHaveLength(1);
    await runtime.stop();
  });

  it('NodeRuntime.stop() leaves the containers running', async () => {
    const { driver, runtime } = setup();
    await runtime.start();
    runtime.setAssignments([assignment(task({ id: 't1' }))]);
    await runtime.reconcile();
    await runtime.stop();
    expect([...driver.containers.values()].map((c) => c.status)).toEqual(['running']);
    expect(driver.calls.filter((c) => c.startsWith('stop') || c.startsWith('remove'))).toEqual([]);
  });

  it('NodeRuntime sends only changed reports, nothing the record already says, and resends a lost one later', async () => {
    const { clock, runtime, sent } = setup();
    await runtime.start();
    const t1 = task({ id: 't1' });
    runtime.setAssignments([assignment(t1)]);
    await runtime.reconcile();
    await runtime.reconcile();
    expect(sent.flat().map((r) => r.state)).toEqual(['preparing', 'running']);
    // The record caught up: nothing more to say.
    const running: TaskRecord = { ...t1, state: 'running', containerId: sent.flat()[1]!.containerId };
    runtime.setAssignments([assignment(running)]);
    clock.t += 60_000;
    await runtime.reconcile();
    expect(sent.length).toBe(2);
    // The record never caught up (the command was lost): the same report goes again after resendAfterMs.
    const { clock: c2, runtime: r2, sent: s2 } = setup();
    await r2.start();
    r2.setAssignments([assignment(t1)]);
    await r2.reconcile();
    await r2.reconcile();
    const count = s2.length;
    await r2.reconcile();
    expect(s2.length).toBe(count);
    c2.t += 10_000;
    await r2.reconcile();
    expect(s2.length).toBe(count + 1);
    expect(s2.at(-1)!.map((r) => r.state)).toEqual(['running']);
    await Promise.all([runtime.stop(), r2.stop()]);
  });

  it('NodeRuntime wakes up for a pending restart without waiting for the interval', async () => {
    const { clock, driver, runtime, sent } = setup();
    await runtime.start();
    runtime.setAssignments([assignment(task({ id: 't1' }), withPolicy(BASE_SPEC, { delayMs: 300 }))]);
    await runtime.reconcile();
    const [id] = driver.containers.keys();
    clock.t += 50; // let it run a moment
    driver.exit(id!, 1);
    await runtime.reconcile();
    expect(sent.flat().at(-1)!.message).toBe('exited with code 1; restarting in 300ms (restart 1)');
    clock.advance(299);
    await runtime.idle();
    expect(driver.calls.filter((c) => c.startsWith('start'))).toHaveLength(1);
    clock.advance(1); // the wake timer, not the 1 s interval
    await runtime.idle();
    expect(driver.calls.filter((c) => c.startsWith('start'))).toHaveLength(2);
    expect(sent.flat().at(-1)).toMatchObject({ state: 'running', restarts: 1 });
    await runtime.stop();
  });

  it("NodeRuntime arms the kill timer of a 30-day time limit without overflowing Node's timer", async () => {
    const delays: number[] = [];
    const clock = new (class extends ManualClock {
      override setTimeout(fn: () => void, ms: number) {
        delays.push(ms);
        return super.setTimeout(fn, ms);
      }
    })();
    const driver = new MemoryDriver(clock);
    const runtime = new NodeRuntime({ nodeId: NODE, driver, clock, reconcileIntervalMs: 1000 });
    const spec = serviceFromCompose(
      ['image: busybox', 'x-shoal:', '  kind: job', '  job:', '    time_limit: 30d'].join('\n'),
    );
    await runtime.start();
    runtime.setAssignments([
      assignment(task({ id: 't1', job: { jobId: '7', index: 0, attempt: 0, requeues: 0 } }), spec),
    ]);
    await runtime.reconcile();
    await runtime.reconcile();
    expect(delays.length).toBeGreaterThan(0);
    // Node would turn a longer delay into 1 ms, and the runtime would re-arm it for the whole run.
    expect(Math.max(...delays)).toBeLessThanOrEqual(2 ** 31 - 1);
    clock.advance(29 * 86_400_000);
    await runtime.idle();
    expect(driver.calls.filter((c) => c.startsWith('stop'))).toEqual([]);
    clock.advance(86_400_000);
    await runtime.idle();
    expect(driver.calls.filter((c) => c.startsWith('stop'))).toHaveLength(1);
    await runtime.stop();
  });

  it('NodeRuntime reports rejected when the driver rejects a task', async () => {
    const { driver, runtime, sent } = setup();
    driver.createError = new TaskRejectedError('image "x" is not on this node');
    await runtime.start();
    runtime.setAssignments([assignment(task({ id: 't1' }))]);
    await runtime.reconcile();
    expect(sent.flat().at(-1)).toMatchObject({ state: 'rejected', message: 'image "x" is not on this node' });
    await runtime.stop();
  });

  it('NodeRuntime bounds the actions it carries out at once', async () => {
    const { driver, runtime } = setup({ concurrency: 2 });
    let open!: () => void;
    driver.gate = new Promise<void>((resolve) => (open = resolve));
    await runtime.start();
    runtime.setAssignments(['t1', 't2', 't3', 't4', 't5'].map((id) => assignment(task({ id }))));
    const done = runtime.reconcile();
    await new Promise((r) => setImmediate(r));
    expect(driver.concurrent).toBe(2);
    open();
    await done;
    expect(driver.maxConcurrent).toBe(2);
    expect([...driver.containers.values()].filter((c) => c.status === 'running')).toHaveLength(5);
    await runtime.stop();
  });

  it('NodeRuntime keeps going when a report handler throws', async () => {
    const { driver, runtime, sent } = setup();
    runtime.onReports(() => {
      throw new Error('handler bug');
    });
    await runtime.start();
    runtime.setAssignments([assignment(task({ id: 't1' }))]);
    await runtime.reconcile();
    await runtime.reconcile();
    expect(sent.flat().map((r) => r.state)).toEqual(['preparing', 'running']);
    expect(driver.containers.size).toBe(1);
    await runtime.stop();
  });

  it('NodeRuntime.logs() reads the task container and says when there is none', async () => {
    const { runtime } = setup();
    await runtime.start();
    runtime.setAssignments([assignment(task({ id: 't1' }))]);
    await runtime.reconcile();
    const lines = [];
    for await (const l of runtime.logs('t1')) lines.push(l.line);
    expect(lines).toEqual(['hello']);
    const read = async () => {
      for await (const _ of runtime.logs('nope')) void _;
    };
    await expect(read()).rejects.toThrow(NoContainerError);
    await runtime.stop();
  });
});

describe('NodeRuntime and a slow list', () => {
  it('NodeRuntime does not mistake a container created while the list was read for a removed one', async () => {
    const clock = new ManualClock();
    const driver = new MemoryDriver(clock);
    const tick = () => new Promise((r) => setImmediate(r));
    // Gates: the create is held until a second pass has taken its (then stale) list snapshot.
    let holdList = false;
    let listTaken = false;
    let releaseList = (): void => {};
    let releaseCreate = (): void => {};
    const list = driver.list.bind(driver);
    driver.list = async (nodeId: string) => {
      const snapshot = await list(nodeId);
      if (holdList) {
        listTaken = true;
        await new Promise<void>((resolve) => (releaseList = resolve));
      }
      return snapshot;
    };
    const create = driver.create.bind(driver);
    driver.create = async (nodeId, a) => {
      await new Promise<void>((resolve) => (releaseCreate = resolve));
      return create(nodeId, a);
    };
    const runtime = new NodeRuntime({ nodeId: NODE, driver, clock, reconcileIntervalMs: 1000 });
    const sent: TaskReport[] = [];
    runtime.onReports((rs) => sent.push(...rs));
    await runtime.start();
    const once = withPolicy(BASE_SPEC, { condition: 'none' });
    runtime.setAssignments([assignment(task({ id: 't1' }), once)]); // pass 1 plans the create
    for (let i = 0; i < 20; i++) await tick();
    holdList = true;
    runtime.setAssignments([assignment(task({ id: 't1', message: 'again' }), once)]); // pass 2 lists
    for (let i = 0; i < 20 && !listTaken; i++) await tick();
    holdList = false;
    releaseCreate(); // the create ends while pass 2's list is out of date
    for (let i = 0; i < 20; i++) await tick();
    releaseList();
    await runtime.idle();
    await runtime.reconcile();
    expect(listTaken).toBe(true);
    expect(sent.map((r) => r.state)).not.toContain('failed');
    expect(sent.at(-1)).toMatchObject({ taskId: 't1', state: 'running' });
    expect(driver.containers.size).toBe(1);
    await runtime.stop();
  });
});
