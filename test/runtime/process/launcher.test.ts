/** The launcher: one Perl process that starts every task's supervisor, and what happens when it dies. */
import fs from 'node:fs';
import path from 'node:path';
import {
  decodeWaitStatus,
  escapeField,
  formatLaunch,
  parseLauncherLine,
  ProcessDriver,
  readMeta,
} from '../../../src/runtime/process/index.js';
import { alive, exited, NODE, processTask, sh, tempDir, waitFor, waitForLine, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

const drivers: ProcessDriver[] = [];
function newDriver(stateDir = tempDir(), launcher = true) {
  const d = new ProcessDriver({ stateDir, cgroups: false, adoptPollMs: 20, launcher });
  drivers.push(d);
  return d;
}

afterEach(async () => {
  for (const d of drivers.splice(0)) {
    for (const c of await d.list(NODE)) await d.remove(c.id);
    d.close();
  }
});

async function run(driver: ProcessDriver, script: string, overrides: object = {}) {
  const id = await driver.create(NODE, processTask(sh(script), overrides));
  await driver.start(id);
  return id;
}

/** Waits (bounded: 10 s) until `pred` holds. */
async function until(what: string, pred: () => boolean) {
  for (let i = 0; i < 1000; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never: ${what}`);
}

describe('launcher protocol', () => {
  it('formatLaunch() escapes tabs, newlines and backslashes so that each field stays one field', () => {
    const line = formatLaunch(7, {
      dir: '/s/p',
      meta: { id: 'proc-1', note: 'a\\b' },
      cwd: '/w',
      cgroupProcs: ['/cg/a/cgroup.procs'],
      user: { uid: 5, gid: 6 },
      env: { A: 'x\ty', B: 'back\\slash' },
      argv: ['sh', '-c', 'echo 1\necho 2'],
    });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1).split('\t')).toEqual([
      'start',
      '7',
      '/s/p',
      '{"id":"proc-1","note":"a\\\\\\\\b"',
      '/w',
      '5',
      '6',
      '1',
      '/cg/a/cgroup.procs',
      '2',
      'A=x\\ty',
      'B=back\\\\slash',
      'sh',
      '-c',
      'echo 1\\necho 2',
    ]);
    expect(escapeField('a\\tb')).toBe('a\\\\tb');
  });

  it.each([
    ['pid 3 1234 98765', { kind: 'pid', seq: 3, pid: 1234, startTime: '98765' }],
    ['pid 3 1234 ', { kind: 'pid', seq: 3, pid: 1234, startTime: null }],
    ['exited 3 1234 9', { kind: 'exited', seq: 3, pid: 1234, status: 9 }],
    [
      'err 4 cannot fork a supervisor: Resource temporarily unavailable',
      { kind: 'err', seq: 4, message: 'cannot fork a supervisor: Resource temporarily unavailable' },
    ],
    ['pid x 1 2', null],
    ['hello', null],
  ])('parseLauncherLine(%j)', (line, expected) => {
    expect(parseLauncherLine(line)).toEqual(expected);
  });

  it('decodeWaitStatus() tells an exit code from a signal', () => {
    expect(decodeWaitStatus(3 << 8)).toEqual({ code: 3, signal: null });
    expect(decodeWaitStatus(9)).toEqual({ code: null, signal: 9 });
  });
});

describe('ProcessDriver with its launcher', () => {
  it('ProcessDriver starts tasks through one launcher, whose children are the supervisors', async () => {
    const driver = newDriver();
    expect(driver.launcherPid).toBeNull(); // started lazily
    const a = await run(driver, 'echo up; sleep 1000');
    const b = await run(driver, 'echo up; sleep 1000');
    const launcher = driver.launcherPid!;
    expect(alive(launcher)).toBe(true);
    await waitForLine(driver, a, 'up');
    await waitForLine(driver, b, 'up');
    for (const id of [a, b]) {
      const meta = readMeta(path.join(driver.stateDir, id))!;
      const stat = fs.readFileSync(`/proc/${meta.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // field 4: parent, field 5: process group, field 6: session; field 22: start time
      expect([Number(fields[1]), Number(fields[2]), Number(fields[3])]).toEqual([launcher, meta.pid, meta.pid]);
      expect(fields[19]).toBe(meta.pidStartTime);
    }
    expect(driver.launcherPid).toBe(launcher);
  });

  it('ProcessDriver starts a new launcher after its launcher was killed', async () => {
    const driver = newDriver();
    const first = await run(driver, 'exit 2');
    expect((await waitFor(driver, first, exited)).exitCode).toBe(2);
    const killed = driver.launcherPid!;
    process.kill(killed, 'SIGKILL');
    await until('the launcher is gone', () => !alive(killed) && driver.launcherPid === null);
    const second = await run(driver, 'exit 4');
    expect((await waitFor(driver, second, exited)).exitCode).toBe(4);
    expect(driver.launcherPid).not.toBeNull();
    expect(driver.launcherPid).not.toBe(killed);
  });

  it('ProcessDriver tasks outlive a killed launcher and their ends are still told, with their exit codes', async () => {
    const driver = newDriver();
    const abort = new AbortController();
    const died = new Set<string>();
    const ids: string[] = [];
    const watching = (async () => {
      for await (const e of driver.events(NODE, abort.signal)) {
        if (e.action === 'die') died.add(e.containerId);
        if (ids.length === 3 && ids.every((id) => died.has(id))) abort.abort();
      }
    })();
    for (let i = 0; i < 3; i++) ids.push(await run(driver, `echo up; sleep 0.5; exit ${5 + i}`));
    for (const id of ids) await waitForLine(driver, id, 'up');
    const launcher = driver.launcherPid!;
    process.kill(launcher, 'SIGKILL');
    await until('the launcher is gone', () => !alive(launcher));
    expect((await driver.list(NODE)).map((c) => c.status)).toEqual(['running', 'running', 'running']);
    for (const [i, id] of ids.entries()) expect((await waitFor(driver, id, exited)).exitCode).toBe(5 + i);
    await watching;
    expect([...died].sort()).toEqual([...ids].sort());
  });

  it('a second ProcessDriver adopts the tasks the first started through its launcher', async () => {
    const stateDir = tempDir();
    const first = newDriver(stateDir);
    const running = await run(first, 'echo up; sleep 1000');
    const done = await run(first, 'exit 5');
    await waitFor(first, done, exited);
    await waitForLine(first, running, 'up');
    const launcher = first.launcherPid!;
    first.close(); // as when the agent ends: the launcher goes, the supervisors stay
    await until('the first launcher is gone', () => !alive(launcher));
    const second = newDriver(stateDir);
    const seen = await second.list(NODE);
    expect(seen.find((c) => c.id === running)).toMatchObject({ status: 'running', exitCode: null });
    expect(seen.find((c) => c.id === done)).toMatchObject({ status: 'exited', exitCode: 5 });
    const pid = readMeta(path.join(stateDir, running))!.pid!;
    await second.stop(running, { signal: 'SIGTERM', graceMs: 5000 });
    expect(alive(pid)).toBe(false);
    expect((await waitFor(second, running, exited)).exitCode).toBe(143);
  });

  it('ProcessDriver runs a burst of 200 tasks at once, each with its own exit code', async () => {
    const driver = newDriver();
    const abort = new AbortController();
    const died = new Set<string>();
    let expected = -1;
    const watching = (async () => {
      for await (const e of driver.events(NODE, abort.signal)) {
        if (e.action === 'die') died.add(e.containerId);
        if (died.size === expected) abort.abort();
      }
    })();
    const slots = Array.from({ length: 200 }, (_, i) => i);
    const ids = await Promise.all(slots.map((slot) => run(driver, 'exit $((SHOAL_TASK_SLOT % 3))', { slot })));
    expected = ids.length;
    if (died.size === expected) abort.abort();
    await watching;
    const byId = new Map((await driver.list(NODE)).map((c) => [c.id, c]));
    expect(ids.map((id) => byId.get(id)?.status)).toEqual(slots.map(() => 'exited'));
    expect(ids.map((id) => byId.get(id)?.exitCode)).toEqual(slots.map((slot) => slot % 3));
    expect(new Set(ids).size).toBe(200);
  });

  it('the launcher reaps every supervisor even when no new request wakes it (a SIGCHLD just before its select)', async () => {
    // Perl runs a signal handler only between ops, so a SIGCHLD that lands just before the
    // launcher blocks in select() wakes nothing: without a bound on that wait, the end of the
    // last tasks of a burst was heard only at the next start (a bench's final units hung).
    const driver = newDriver();
    const abort = new AbortController();
    const died = new Set<string>();
    let wake = () => {};
    const watching = (async () => {
      for await (const e of driver.events(NODE, abort.signal)) {
        if (e.action === 'die') died.add(e.containerId);
        wake();
      }
    })();
    for (let round = 0; round < 60; round++) {
      const ids = await Promise.all([run(driver, 'true'), run(driver, 'true'), run(driver, 'true')]);
      const deadline = Date.now() + 3000;
      while (!ids.every((id) => died.has(id))) {
        if (Date.now() > deadline) throw new Error(`round ${round}: an ended task was never reaped`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      for (const id of ids) await driver.remove(id);
    }
    abort.abort();
    await watching;
  }, 60_000);

  it('ProcessDriver with launcher: false spawns a shell per task and never starts a launcher', async () => {
    const driver = newDriver(tempDir(), false);
    const id = await run(driver, 'echo out; echo err >&2; exit 6');
    expect((await waitFor(driver, id, exited)).exitCode).toBe(6);
    expect((await waitForLine(driver, id, 'err')).map((l) => [l.stream, l.line])).toEqual([
      ['stdout', 'out'],
      ['stderr', 'err'],
    ]);
    expect(driver.launcherPid).toBeNull();
  });
});
