/** DriverRouter over the in-memory driver (as Docker) and a real ProcessDriver. */
import { DriverRouter } from '../../../src/runtime/driver-router.js';
import { TaskRejectedError, type ContainerEvent } from '../../../src/runtime/index.js';
import { ProcessDriver } from '../../../src/runtime/process/index.js';
import { assignment, BASE_SPEC, task } from '../fixtures.js';
import { ManualClock, MemoryDriver } from '../memory-driver.js';
import { exited, NODE, processTask, sh, tempDir, waitFor, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

function setup(withDocker = true) {
  const docker = new MemoryDriver(new ManualClock());
  const processes = new ProcessDriver({ stateDir: tempDir(), cgroups: false, adoptPollMs: 20 });
  const router = new DriverRouter({ docker: withDocker ? docker : null, process: processes });
  return { docker, processes, router };
}

describe('DriverRouter', () => {
  it('DriverRouter routes create, start, stop, remove and list by runtime and container id', async () => {
    const { docker, processes, router } = setup();
    const d = await router.create(NODE, assignment(task({ id: 'web' }), BASE_SPEC));
    const p = await router.create(NODE, processTask(sh('echo up; sleep 1000')));
    expect(d).toBe('m1');
    expect(p).toMatch(/^proc-/);
    await router.start(d);
    await router.start(p);
    expect(docker.calls).toEqual(['create web', 'start m1']);
    const all = await router.list(NODE);
    expect(all.map((c) => [c.id, c.status])).toEqual([
      [d, 'running'],
      [p, 'running'],
    ]);
    await router.stop(p, { signal: 'SIGTERM', graceMs: 5000 });
    expect((await waitFor(processes, p, exited)).exitCode).toBe(143);
    await router.stop(d, { signal: 'SIGTERM', graceMs: 5000 });
    expect(docker.calls.at(-1)).toBe('stop m1 SIGTERM 5000');
    await router.remove(p);
    await router.remove(d);
    expect(await router.list(NODE)).toEqual([]);
  });

  it('DriverRouter rejects a Docker task on a node without Docker and still runs process tasks', async () => {
    const { router } = setup(false);
    await expect(router.create(NODE, assignment(task({ id: 'web' }), BASE_SPEC))).rejects.toThrow(TaskRejectedError);
    await expect(router.create(NODE, assignment(task({ id: 'web' }), BASE_SPEC))).rejects.toThrow(
      /Docker is not available on this node/,
    );
    const p = await router.create(NODE, processTask(sh('exit 0')));
    await router.start(p);
    expect((await waitFor(router, p, exited)).exitCode).toBe(0);
    await router.remove(p);
  });

  it('DriverRouter.list() fails when the Docker driver fails', async () => {
    const { docker, router } = setup();
    docker.list = () => Promise.reject(new Error('engine down'));
    await expect(router.list(NODE)).rejects.toThrow('engine down');
  });

  it('DriverRouter.events() merges the events of both drivers', async () => {
    const { docker, router } = setup();
    (docker as { events?: unknown }).events = async function* (_node: string, signal: AbortSignal) {
      yield { containerId: 'm9', action: 'start' };
      await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
    };
    const abort = new AbortController();
    const seen: ContainerEvent[] = [];
    const watching = (async () => {
      for await (const e of router.events(NODE, abort.signal)) {
        seen.push(e);
        if (e.action === 'die') abort.abort();
      }
    })();
    const p = await router.create(NODE, processTask(sh('exit 0')));
    await router.start(p);
    await watching;
    expect(seen).toEqual([
      { containerId: 'm9', action: 'start' },
      { containerId: p, action: 'die' },
    ]);
    await router.remove(p);
  });
});
