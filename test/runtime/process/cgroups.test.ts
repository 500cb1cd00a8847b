/** Task cgroups: limits written where the host allows, said why not where it does not. */
import fs from 'node:fs';
import path from 'node:path';
import {
  CgroupManager,
  parseMountinfo,
  parseSelfCgroup,
  ProcessDriver,
  readMeta,
} from '../../../src/runtime/process/index.js';
import { alive, exited, NODE, processTask, sh, tempDir, waitFor, waitForLine, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

const MIB = 1024 * 1024;

function limited(script: string, cpuMillis: number, memoryBytes: number, pids = 0) {
  const spec = sh(script);
  const limits = { ...spec.deploy.resources.limits, cpuMillis, memoryBytes, pids };
  return processTask({ ...spec, deploy: { ...spec.deploy, resources: { ...spec.deploy.resources, limits } } });
}

describe('CgroupManager', () => {
  it('parseMountinfo() and parseSelfCgroup() read v1, hybrid and v2 hosts', () => {
    const mounts = parseMountinfo(
      [
        '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
        '35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
        '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
      ].join('\n'),
    );
    expect(mounts.map((m) => [m.mountPoint, m.type, m.root])).toEqual([
      ['/sys/fs/cgroup/cpu,cpuacct', 'cgroup', '/'],
      ['/sys/fs/cgroup/memory', 'cgroup', '/docker/abc'],
      ['/sys/fs/cgroup/unified', 'cgroup2', '/'],
    ]);
    expect(mounts[0]!.options).toEqual(['rw', 'cpu', 'cpuacct']);
    const self = parseSelfCgroup('4:memory:/process_api/x\n2:cpu,cpuacct:/\n0::/user.slice\n');
    expect([...self]).toEqual([
      ['memory', '/process_api/x'],
      ['cpu', '/'],
      ['cpuacct', '/'],
      ['', '/user.slice'],
    ]);
  });

  it('CgroupManager.detect() says why when no cgroup file system is mounted', () => {
    const dir = tempDir('shoal-cg-');
    fs.writeFileSync(path.join(dir, 'mountinfo'), '31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n');
    fs.writeFileSync(path.join(dir, 'cgroup'), '0::/\n');
    const cg = CgroupManager.detect({ mountinfo: path.join(dir, 'mountinfo'), selfCgroup: path.join(dir, 'cgroup') });
    expect(cg.version).toBeNull();
    expect(cg.support).toEqual({ cpu: false, memory: false, reason: expect.stringMatching(/no cgroup file system/) });
    expect(cg.create('proc-1', { cpuMillis: 500, memoryBytes: MIB })).toEqual([]);
    expect(CgroupManager.usage(cg.dirs('proc-1'))).toBeNull();
  });

  it('ProcessDriver puts a task with limits in a cgroup holding them, or says why it cannot', async () => {
    const driver = new ProcessDriver({ stateDir: tempDir(), adoptPollMs: 20 });
    const support = driver.limitsSupport();
    const a = limited('echo $$; cat /proc/self/cgroup', 500, 64 * MIB, 32);
    const id = await driver.create(NODE, a);
    try {
      if (!support.memory || !support.cpu) {
        expect(support.reason).toMatch(/cgroup/);
      }
      if (driver.cgroups.version === 1) {
        const [cpu, memory] = ['cpu', 'memory'].map(
          (c) => driver.cgroups.bases[c] && path.join(driver.cgroups.bases[c]!, id),
        );
        if (support.cpu) expect(fs.readFileSync(path.join(cpu!, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('50000');
        if (support.memory)
          expect(fs.readFileSync(path.join(memory!, 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(64 * MIB));
        const pids = driver.cgroups.bases.pids;
        if (pids) expect(fs.readFileSync(path.join(pids, id, 'pids.max'), 'utf8').trim()).toBe('32');
      } else if (driver.cgroups.version === 2) {
        const dir = path.join(driver.cgroups.bases.unified!, id);
        if (support.cpu) expect(fs.readFileSync(path.join(dir, 'cpu.max'), 'utf8').trim()).toBe('50000 100000');
        if (support.memory) expect(fs.readFileSync(path.join(dir, 'memory.max'), 'utf8').trim()).toBe(String(64 * MIB));
      } else {
        expect(support).toEqual({ cpu: false, memory: false, reason: expect.any(String) });
      }
      await driver.start(id);
      const c = await waitFor(driver, id, exited);
      expect(c.exitCode).toBe(0);
      if (driver.cgroups.version !== null) {
        // The process ran inside the task's cgroup and its usage is read from there.
        expect(CgroupManager.pids(driver.cgroups.dirs(id))).toEqual([]);
        expect(c.usage).toEqual({ cpuMs: expect.any(Number), peakMemoryBytes: expect.any(Number) });
        if (support.memory) expect(c.usage!.peakMemoryBytes).toBeGreaterThan(0);
      }
    } finally {
      await driver.remove(id);
    }
    for (const dir of driver.cgroups.dirs(id)) expect(fs.existsSync(dir)).toBe(false);
  });

  it('ProcessDriver reports oomKilled for a task killed at its memory limit (where the host enforces one)', async () => {
    const driver = new ProcessDriver({ stateDir: tempDir(), adoptPollMs: 20 });
    const id = await driver.create(
      NODE,
      limited(`perl -e '$x = "a" x (256 * 1024 * 1024); print length $x'`, 0, 32 * MIB),
    );
    try {
      await driver.start(id);
      const c = await waitFor(driver, id, exited);
      if (driver.limitsSupport().memory) {
        expect(c).toMatchObject({ oomKilled: true, exitCode: 137 });
      } else {
        expect(c).toMatchObject({ oomKilled: false, exitCode: 0 });
      }
    } finally {
      await driver.remove(id);
    }
  });

  it('ProcessDriver puts a task without limits in a cgroup only when asked to (cgroupEveryTask)', async () => {
    const plain = new ProcessDriver({ stateDir: tempDir() });
    const every = new ProcessDriver({ stateDir: tempDir(), cgroupEveryTask: true });
    const a = await plain.create(NODE, processTask(sh('true')));
    const b = await every.create(NODE, processTask(sh('true')));
    // meta.json is written at start.
    await plain.start(a);
    await every.start(b);
    await waitFor(plain, a, exited);
    await waitFor(every, b, exited);
    expect(readMeta(path.join(plain.stateDir, a))!.cgroupDirs).toEqual([]);
    const dirs = readMeta(path.join(every.stateDir, b))!.cgroupDirs;
    expect(dirs.length > 0).toBe(every.cgroups.version !== null);
    for (const dir of dirs) expect(fs.existsSync(dir)).toBe(true);
    await plain.remove(a);
    await every.remove(b);
    for (const dir of dirs) expect(fs.existsSync(dir)).toBe(false);
  });

  it('ProcessDriver warns once and runs a task with limits on a host without cgroups', async () => {
    const warnings: string[] = [];
    const logger = { info() {}, error() {}, warn: (_: object, msg: string) => warnings.push(msg) };
    const driver = new ProcessDriver({ stateDir: tempDir(), cgroups: false, logger });
    expect(driver.limitsSupport()).toEqual({ cpu: false, memory: false, reason: 'disabled by configuration' });
    const ids = [
      await driver.create(NODE, limited('exit 0', 500, 0)),
      await driver.create(NODE, limited('exit 0', 0, MIB)),
    ];
    expect(warnings).toEqual([
      'process runtime: this host cannot enforce the CPU/memory limits of tasks; they run without',
    ]);
    await driver.start(ids[0]!);
    expect((await waitFor(driver, ids[0]!, exited)).exitCode).toBe(0);
    for (const id of ids) await driver.remove(id);
  });
  it.each([
    ['is stopped', 'sleep 300'],
    ['ends by itself', 'exit 0'],
  ])('ProcessDriver kills what left the group of a task that %s (its cgroup holds it)', async (_, then) => {
    const driver = new ProcessDriver({ stateDir: tempDir(), cgroupEveryTask: true, adoptPollMs: 20 });
    const id = await driver.create(NODE, processTask(sh(`setsid sleep 300 & echo "escaped $!"; ${then}`)));
    await driver.start(id);
    const line = (await waitForLine(driver, id, 'escaped ')).find((l) => l.line.startsWith('escaped '))!;
    const escaped = Number(line.line.split(' ')[1]);
    try {
      if (then.startsWith('sleep')) await driver.stop(id, { signal: 'SIGTERM', graceMs: 5000 });
      await waitFor(driver, id, exited);
      if (readMeta(path.join(driver.stateDir, id))!.cgroupDirs.length === 0) return; // no cgroups on this host
      for (let i = 0; i < 200 && alive(escaped); i++) await new Promise((r) => setTimeout(r, 10));
      expect(alive(escaped)).toBe(false);
    } finally {
      if (alive(escaped)) process.kill(escaped, 'SIGKILL');
      await driver.remove(id);
    }
  });
  it('ProcessDriver kills what an adopted task left in its cgroup once it ends (the agent was restarted)', async () => {
    const stateDir = tempDir();
    const first = new ProcessDriver({ stateDir, cgroupEveryTask: true, adoptPollMs: 20 });
    const id = await first.create(NODE, processTask(sh('setsid sleep 300 & echo "escaped $!"; sleep 1')));
    await first.start(id);
    const line = (await waitForLine(first, id, 'escaped ')).find((l) => l.line.startsWith('escaped '))!;
    const escaped = Number(line.line.split(' ')[1]);
    first.close(); // as when the agent ends: the supervisor carries on
    const second = new ProcessDriver({ stateDir, cgroupEveryTask: true, adoptPollMs: 20 });
    const abort = new AbortController();
    const died: string[] = [];
    const watching = (async () => {
      for await (const e of second.events(NODE, abort.signal)) if (e.action === 'die') died.push(e.containerId);
    })();
    try {
      await waitFor(second, id, exited);
      for (let i = 0; i < 200 && !died.includes(id); i++) await new Promise((r) => setTimeout(r, 10));
      expect(died).toEqual([id]);
      if (readMeta(path.join(stateDir, id))!.cgroupDirs.length === 0) return; // no cgroups on this host
      for (let i = 0; i < 200 && alive(escaped); i++) await new Promise((r) => setTimeout(r, 10));
      expect(alive(escaped)).toBe(false);
    } finally {
      abort.abort();
      await watching;
      if (alive(escaped)) process.kill(escaped, 'SIGKILL');
      await second.remove(id);
      second.close();
    }
  });
});
