/** ProcessDriver with real processes in a temp state directory. */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { TaskRejectedError, type LogLine } from '../../../src/runtime/index.js';
import { LOST_MESSAGE, ProcessDriver, readMeta, writeMeta } from '../../../src/runtime/process/index.js';
import {
  alive,
  collect,
  exited,
  NODE,
  processSpec,
  processTask,
  sh,
  tempDir,
  waitFor,
  waitForLine,
  removeTempDirs,
} from './helpers.js';

afterAll(removeTempDirs);

const drivers: ProcessDriver[] = [];
function newDriver(stateDir = tempDir(), options: Partial<ConstructorParameters<typeof ProcessDriver>[0]> = {}) {
  const d = new ProcessDriver({ stateDir, cgroups: false, adoptPollMs: 20, ...options });
  drivers.push(d);
  return d;
}

afterEach(async () => {
  for (const d of drivers.splice(0)) {
    for (const c of await d.list(NODE)) await d.remove(c.id);
  }
});

async function run(driver: ProcessDriver, a = processTask(sh('true'))) {
  const id = await driver.create(NODE, a);
  await driver.start(id);
  return id;
}

describe('ProcessDriver', () => {
  it('ProcessDriver runs a command and reports its exit code and its output in order, by stream', async () => {
    const driver = newDriver();
    const id = await run(driver, processTask(sh('echo hi; echo err >&2; echo partial | tr -d "\\n"; exit 3')));
    const c = await waitFor(driver, id, exited);
    expect(c).toMatchObject({ status: 'exited', exitCode: 3, nodeId: NODE, error: '', health: 'none' });
    expect(c.finishedAt).toBeGreaterThanOrEqual(c.startedAt!);
    const lines = await collect(driver.logs(id));
    expect(lines.map((l) => [l.stream, l.line])).toEqual([
      ['stdout', 'hi'],
      ['stderr', 'err'],
      ['stdout', 'partial'],
    ]);
    expect(lines[0]!.time).toBeGreaterThanOrEqual(c.startedAt!);
    expect((await collect(driver.logs(id, { tail: 1 }))).map((l) => l.line)).toEqual(['partial']);
    expect(await collect(driver.logs(id, { since: Date.now() + 60_000 }))).toEqual([]);
    expect(c.usage?.cpuMs).toBeGreaterThanOrEqual(0);
  });

  it('ProcessDriver labels a process like the Docker driver labels a container', async () => {
    const driver = newDriver();
    const a = processTask(sh('true'), { generation: 4, slot: 2 });
    const id = await driver.create(NODE, a);
    const [c] = await driver.list(NODE);
    expect(c).toMatchObject({ id, taskId: a.task.id, generation: 4, status: 'created', exitCode: null });
    expect(c!.labels).toMatchObject({ 'shoal.task.slot': '2', 'shoal.service.id': a.service.id, 'shoal.stack': 'app' });
    expect(id).toMatch(/^proc-[0-9a-f]{16}$/);
    expect(await driver.list('another-node')).toEqual([]);
  });

  it('ProcessDriver gives the task its environment, working directory and GPUs', async () => {
    const driver = newDriver();
    const cwd = tempDir('shoal-cwd-');
    const spec = sh(
      'echo "$SHOAL_TASK_ID|$SHOAL_TASK_SLOT|$SHOAL_NODE_ID|$CUDA_VISIBLE_DEVICES|$NVIDIA_VISIBLE_DEVICES|$FOO"; pwd',
      {
        env: { FOO: 'bar baz' },
        workingDir: cwd,
      },
    );
    const a = processTask(spec, { gpus: ['GPU-aaa', 'GPU-bbb'] });
    const id = await run(driver, a);
    await waitFor(driver, id, exited);
    const lines = (await collect(driver.logs(id))).map((l) => l.line);
    expect(lines).toEqual([`${a.task.id}|1|${NODE}|GPU-aaa,GPU-bbb|GPU-aaa,GPU-bbb|bar baz`, fs.realpathSync(cwd)]);
  });

  it('ProcessDriver leaves the GPU variables unset for a task without GPUs', async () => {
    const driver = newDriver();
    const id = await run(driver, processTask(sh('echo "[${CUDA_VISIBLE_DEVICES-unset}]"')));
    await waitFor(driver, id, exited);
    expect((await collect(driver.logs(id))).map((l) => l.line)).toEqual(['[unset]']);
  });

  it('ProcessDriver.stop() kills the whole process group, grandchildren included', async () => {
    const driver = newDriver();
    const id = await run(driver, processTask(sh('sleep 1000 & echo "pid $!"; sleep 1000 & echo "pid $!"; wait')));
    const lines = await waitForLine(driver, id, 'pid');
    const more = lines.length < 2 ? await waitForLineCount(driver, id, 2) : lines;
    const pids = more.map((l) => Number(l.line.split(' ')[1]));
    expect(pids.every(alive)).toBe(true);
    await driver.stop(id, { signal: 'SIGTERM', graceMs: 5000 });
    expect(pids.some(alive)).toBe(false);
    const c = await waitFor(driver, id, exited);
    expect(c.exitCode).toBe(143);
  });

  it('ProcessDriver.stop() right after start() still terminates the command with the stop signal', async () => {
    // A signal that reached the supervisor just before it forked the command used to be dropped
    // (Perl ran its handler after the fork), about once in 20 stops on a loaded machine: the
    // command then got SIGKILL at the end of the grace period. Many rounds make that show.
    const driver = newDriver();
    for (let i = 0; i < 40; i++) {
      const id = await run(driver, processTask(sh('sleep 1000')));
      await driver.stop(id, { signal: 'SIGTERM', graceMs: 5_000 });
      const c = await waitFor(driver, id, exited);
      expect([c.exitCode, c.error]).toEqual([143, c.error === '' ? '' : 'killed by SIGTERM']);
    }
  }, 60_000);

  it("ProcessDriver.remove() of an ended task never signals the process that now has its supervisor's pid", async () => {
    // pids wrap (32,768 on many hosts): long after a task ended, its supervisor's pid may lead
    // another program's process group, which removing the task must leave alone.
    const stateDir = tempDir();
    const id = await run(newDriver(stateDir), processTask(sh('exit 0')));
    await waitFor(drivers[0]!, id, exited);
    const other = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    try {
      const meta = readMeta(path.join(stateDir, id))!;
      writeMeta(path.join(stateDir, id), { ...meta, pid: other.pid! }); // the same start time: the supervisor's
      await newDriver(stateDir).remove(id);
      expect(alive(other.pid!)).toBe(true);
      expect(fs.existsSync(path.join(stateDir, id))).toBe(false);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('ProcessDriver.stop() escalates to SIGKILL after the grace period for a process that ignores SIGTERM', async () => {
    const driver = newDriver();
    const id = await run(driver, processTask(sh('trap "" TERM; echo ready; while :; do sleep 0.05; done')));
    await waitForLine(driver, id, 'ready');
    const meta = readMeta(path.join(driver.stateDir, id))!;
    await driver.stop(id, { signal: 'SIGTERM', graceMs: 150 });
    expect(alive(meta.pid!)).toBe(false);
    const c = await waitFor(driver, id, exited);
    expect(c.exitCode).toBe(137);
    expect(c.error).toMatch(/SIGKILL/);
  });

  it('ProcessDriver.start() again restarts an exited process in the same directory', async () => {
    const driver = newDriver();
    const id = await run(driver, processTask(sh('echo run; exit 1')));
    await waitFor(driver, id, exited);
    await driver.start(id);
    await waitForLineCount(driver, id, 2);
    const c = await waitFor(driver, id, exited);
    expect(c.exitCode).toBe(1);
  });

  it('ProcessDriver rejects a task without a command, a missing executable and a missing working directory', async () => {
    const driver = newDriver();
    await expect(driver.create(NODE, processTask(processSpec([])))).rejects.toThrow(TaskRejectedError);
    await expect(driver.create(NODE, processTask(processSpec([])))).rejects.toThrow(/needs a command/);
    await expect(driver.create(NODE, processTask(processSpec(['no-such-program-xyz'])))).rejects.toThrow(
      /executable "no-such-program-xyz" is not in its PATH/,
    );
    await expect(driver.create(NODE, processTask(processSpec(['/nowhere/run.sh'])))).rejects.toThrow(
      /\/nowhere\/run.sh does not exist or is not executable/,
    );
    await expect(driver.create(NODE, processTask(sh('true', { workingDir: '/no/such/dir' })))).rejects.toThrow(
      /working directory \/no\/such\/dir does not exist/,
    );
    expect(await driver.list(NODE)).toEqual([]);
  });

  it('ProcessDriver turns an executable that vanished before start into a failure with a clear message', async () => {
    const driver = newDriver();
    const dir = tempDir('shoal-exe-');
    const exe = path.join(dir, 'job.sh');
    fs.writeFileSync(exe, '#!/bin/sh\necho never\n', { mode: 0o755 });
    const id = await driver.create(NODE, processTask(processSpec([exe])));
    fs.rmSync(exe);
    await driver.start(id);
    const c = await waitFor(driver, id, exited);
    expect(c.exitCode).toBe(127);
    const lines = await collect(driver.logs(id));
    expect(lines.map((l) => l.line).join('\n')).toMatch(/cannot run ".*job.sh": No such file or directory/);
  });

  it('ProcessDriver fails a task whose working directory vanished before start, saying which', async () => {
    const driver = newDriver();
    const cwd = tempDir('shoal-gone-');
    const id = await driver.create(NODE, processTask(sh('true', { workingDir: cwd })));
    fs.rmSync(cwd, { recursive: true });
    await driver.start(id);
    const c = await waitFor(driver, id, exited);
    expect(c.exitCode).toBe(126);
    expect(c.error).toContain(`cannot enter the working directory ${cwd}`);
  });

  it('ProcessDriver runs the task as another user only when the agent is root', async () => {
    const driver = newDriver();
    const a = processTask(sh('id -u', { user: 'nobody' }));
    if (process.getuid!() !== 0) {
      await expect(driver.create(NODE, a)).rejects.toThrow(/only root may start processes as another user/);
      return;
    }
    const id = await run(driver, a);
    const c = await waitFor(driver, id, exited);
    expect(c.exitCode).toBe(0);
    const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim();
    expect((await collect(driver.logs(id))).map((l) => l.line)).toEqual([nobody]);
    await expect(driver.create(NODE, processTask(sh('true', { user: 'no-such-user-xyz' })))).rejects.toThrow(
      /no such user in \/etc\/passwd/,
    );
  });

  it('ProcessDriver without Perl still runs the task, records its exit code and keeps its raw output', async () => {
    const driver = newDriver(tempDir(), { perl: null });
    const id = await run(driver, processTask(sh('echo out; echo err >&2; exit 4')));
    const c = await waitFor(driver, id, exited);
    expect(c.exitCode).toBe(4);
    expect(c.usage?.cpuMs).toBeGreaterThanOrEqual(0);
    const lines = await collect(driver.logs(id));
    expect(lines.map((l) => [l.stream, l.line])).toEqual([
      ['stdout', 'out'],
      ['stderr', 'err'],
    ]);
  });

  it('ProcessDriver.logs() follows the output until the process ends', async () => {
    const driver = newDriver();
    const id = await run(driver, processTask(sh('echo one; sleep 0.2; echo two')));
    const lines = await collect(driver.logs(id, { follow: true }));
    expect(lines.map((l) => l.line)).toEqual(['one', 'two']);
  });

  it('ProcessDriver.events() says die when a process ends', async () => {
    const driver = newDriver();
    const abort = new AbortController();
    const seen: string[] = [];
    const watching = (async () => {
      for await (const e of driver.events(NODE, abort.signal)) {
        seen.push(`${e.action} ${e.containerId}`);
        if (e.action === 'die') abort.abort();
      }
    })();
    const id = await run(driver, processTask(sh('exit 0')));
    await watching;
    expect(seen).toEqual([`die ${id}`]);
  });

  it('ProcessDriver.remove() kills a running process and deletes its directory', async () => {
    const driver = newDriver();
    const id = await run(driver, processTask(sh('echo up; sleep 1000')));
    await waitForLine(driver, id, 'up');
    const meta = readMeta(path.join(driver.stateDir, id))!;
    await driver.remove(id);
    expect(alive(meta.pid!)).toBe(false);
    expect(fs.existsSync(path.join(driver.stateDir, id))).toBe(false);
    expect(await driver.list(NODE)).toEqual([]);
    await driver.remove(id); // a missing container is not an error
  });
});

describe('ProcessDriver after an agent restart', () => {
  it('a new ProcessDriver adopts a running process and the exit code of a finished one', async () => {
    const stateDir = tempDir();
    const first = newDriver(stateDir);
    const running = await run(first, processTask(sh('echo up; sleep 1000')));
    const done = await run(first, processTask(sh('exit 5')));
    await waitFor(first, done, exited);
    await waitForLine(first, running, 'up');
    const second = newDriver(stateDir);
    const seen = await second.list(NODE);
    expect(seen.find((c) => c.id === running)).toMatchObject({ status: 'running', exitCode: null });
    expect(seen.find((c) => c.id === done)).toMatchObject({ status: 'exited', exitCode: 5 });
    await second.stop(running, { signal: 'SIGTERM', graceMs: 5000 });
    const c = await waitFor(second, running, exited);
    expect(c.exitCode).toBe(143);
  });

  it('a new ProcessDriver says die when an adopted process ends', async () => {
    const stateDir = tempDir();
    const first = newDriver(stateDir);
    const id = await run(first, processTask(sh('sleep 0.8')));
    const second = newDriver(stateDir);
    await second.list(NODE);
    const abort = new AbortController();
    const actions: string[] = [];
    for await (const e of second.events(NODE, abort.signal)) {
      actions.push(e.action);
      abort.abort();
    }
    expect(actions).toEqual(['die']);
    expect((await waitFor(second, id, exited)).exitCode).toBe(0);
  });

  it('a process that ended unseen and left no exit status is reported dead and lost', async () => {
    const stateDir = tempDir();
    const first = newDriver(stateDir);
    const id = await run(first, processTask(sh('true')));
    await waitFor(first, id, exited);
    // A pid that no longer exists, as after a reboot or a supervisor killed with the agent.
    const gone = spawnSync('true').pid;
    const dir = path.join(stateDir, id);
    fs.rmSync(path.join(dir, 'exit'));
    writeMeta(dir, { ...readMeta(dir)!, pid: gone, pidStartTime: '1', startedAt: Date.now() });
    const second = newDriver(stateDir);
    const [c] = await second.list(NODE);
    expect(c).toMatchObject({ id, status: 'dead', exitCode: null, error: LOST_MESSAGE });
  });
});

async function waitForLineCount(driver: ProcessDriver, id: string, n: number) {
  let lines: LogLine[] = [];
  for (let i = 0; i < 1000; i++) {
    lines = await collect(driver.logs(id));
    if (lines.length >= n) return lines;
    await new Promise((r) => setTimeout(r, 10));
  }
  // Seen once in CI (a restart that printed nothing): say what the driver and the directory held.
  const dir = path.join(driver.stateDir, id);
  const files = fs.existsSync(dir)
    ? fs.readdirSync(dir).map((f) => `${f}: ${fs.readFileSync(path.join(dir, f), 'utf8').slice(0, 400)}`)
    : ['(no directory)'];
  const observed = (await driver.list(NODE)).find((c) => c.id === id);
  throw new Error(
    `container ${id} never printed ${n} lines: ${JSON.stringify(lines)}; observed ${JSON.stringify(observed)}; files:\n${files.join('\n')}`,
  );
}
