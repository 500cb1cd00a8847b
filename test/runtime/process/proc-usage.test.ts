/** Peak memory of cgroup-less tasks from /proc: parsing on fixtures, then a real process job. */
import fs from 'node:fs';
import path from 'node:path';
import { ProcessDriver } from '../../../src/runtime/process/index.js';
import {
  hostPageSize,
  parseProcStat,
  ProcUsageSampler,
  sampleGroups,
} from '../../../src/runtime/process/proc-usage.js';
import { exited, NODE, processSpec, processTask, removeTempDirs, tempDir, waitFor } from './helpers.js';

afterAll(removeTempDirs);

/** A /proc/<pid>/stat line with the fields the sampler reads (the rest as on a real host). */
function statLine(pid: number, comm: string, state: string, pgid: number, rssPages: number): string {
  const mid = '0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 471460 3133440';
  return `${pid} (${comm}) ${state} 1 ${pgid} ${pgid} ${mid} ${rssPages} 18446744073709551615 0 0\n`;
}

/** A fake /proc root holding `procs`, plus entries that are not processes. */
function fakeProc(procs: ReadonlyArray<Parameters<typeof statLine>>): string {
  const root = tempDir('shoal-fakeproc-');
  for (const p of procs) {
    fs.mkdirSync(path.join(root, String(p[0])));
    fs.writeFileSync(path.join(root, String(p[0]), 'stat'), statLine(...p));
  }
  fs.mkdirSync(path.join(root, 'self'));
  fs.writeFileSync(path.join(root, 'meminfo'), 'MemTotal: 1 kB\n');
  fs.mkdirSync(path.join(root, '999')); // ended between readdir and read: no stat
  return root;
}

describe('parseProcStat()', () => {
  it.each([
    ['a plain line', statLine(42, 'perl', 'S', 40, 250), { pid: 42, state: 'S', pgid: 40, rssPages: 250 }],
    [
      'a name with spaces and parentheses',
      statLine(7, 'a) b (c', 'R', 7, 1),
      { pid: 7, state: 'R', pgid: 7, rssPages: 1 },
    ],
    [
      'a real line of this host',
      fs.readFileSync('/proc/self/stat', 'utf8'),
      expect.objectContaining({ pid: process.pid }),
    ],
    ['a truncated line', '42 (perl) S 1 40', null],
    ['no name', 'garbage', null],
  ])('parseProcStat() reads %s', (_name, text, expected) => {
    expect(parseProcStat(text)).toEqual(expected);
  });
});

describe('sampleGroups()', () => {
  const root = fakeProc([
    [100, 'supervisor', 'S', 100, 1000], // a task's supervisor: its group's leader, not counted
    [101, 'job', 'R', 100, 10],
    [102, 'job child', 'S', 100, 5],
    [103, 'zombie', 'Z', 100, 7],
    [200, 'supervisor', 'S', 200, 1000], // a task that has not forked its command yet
    [300, 'other', 'S', 300, 50], // a group not asked for
    [400, 'orphan', 'S', 401, 3], // a group whose leader is gone
  ]);

  it('sampleGroups() sums the resident pages of each group but its leader, and skips zombies and others', () => {
    const got = sampleGroups(new Set([100, 200, 401, 500]), { procRoot: root, pageSize: 4096 });
    expect(got).toEqual(
      new Map([
        [100, 15 * 4096],
        [200, 0],
        [401, 3 * 4096],
      ]),
    );
  });

  it('sampleGroups() reads nothing for no groups and finds nothing without /proc', () => {
    expect(sampleGroups(new Set(), { procRoot: root })).toEqual(new Map());
    expect(sampleGroups(new Set([100]), { procRoot: path.join(root, 'absent') })).toEqual(new Map());
  });

  it("sampleGroups() finds the group of this test's process in the host's /proc", () => {
    const pgid = parseProcStat(fs.readFileSync('/proc/self/stat', 'utf8'))!.pgid;
    const got = sampleGroups(new Set([pgid]));
    // Its leader's memory is left out: this worker's own counts unless the worker leads the group.
    expect(got.get(pgid)).toBeGreaterThan(pgid === process.pid ? -1 : 1024 * 1024);
  });

  it('hostPageSize() is a power of two of at least 1 KiB', () => {
    const size = hostPageSize();
    expect(size).toBeGreaterThanOrEqual(1024);
    expect(size & (size - 1)).toBe(0);
  });
});

describe('ProcUsageSampler', () => {
  function writeStat(root: string, ...p: Parameters<typeof statLine>) {
    fs.mkdirSync(path.join(root, String(p[0])), { recursive: true });
    fs.writeFileSync(path.join(root, String(p[0]), 'stat'), statLine(...p));
  }

  it('ProcUsageSampler keeps the highest sum of each run, and the peak of an ended run until forgotten', () => {
    const root = fakeProc([
      [100, 'sup', 'S', 100, 1],
      [101, 'job', 'R', 100, 10],
    ]);
    const sampler = new ProcUsageSampler({ procRoot: root, pageSize: 1000, intervalMs: 60_000, firstDelayMs: 60_000 });
    try {
      expect(sampler.peak('proc-a')).toBeNull();
      sampler.track('proc-a', 100);
      expect(sampler.peak('proc-a')).toBeNull(); // tracked, not measured yet
      sampler.sample();
      expect(sampler.peak('proc-a')).toBe(10_000);
      writeStat(root, 101, 'job', 'R', 100, 30);
      writeStat(root, 102, 'job', 'R', 100, 20);
      sampler.sample();
      expect(sampler.peak('proc-a')).toBe(50_000);
      writeStat(root, 101, 'job', 'R', 100, 2);
      sampler.sample();
      expect(sampler.peak('proc-a')).toBe(50_000); // a peak, not the last figure
      for (const pid of [100, 101, 102]) fs.rmSync(path.join(root, String(pid)), { recursive: true });
      sampler.sample(); // the group is gone: the run ended
      sampler.track('proc-a', 100); // seen again by a late list(): the ended run is not reset
      writeStat(root, 100, 'reused', 'S', 100, 1);
      writeStat(root, 101, 'reused', 'S', 100, 99);
      sampler.sample();
      expect(sampler.peak('proc-a')).toBe(50_000);
      sampler.track('proc-a', 300); // a restart: a new group, a new peak
      expect(sampler.peak('proc-a')).toBeNull();
      sampler.forget('proc-a');
      expect(sampler.peak('proc-a')).toBeNull();
    } finally {
      sampler.close();
    }
  });

  it('ProcUsageSampler samples once soon after a task is tracked, before its interval', async () => {
    const root = fakeProc([
      [100, 'sup', 'S', 100, 1],
      [101, 'job', 'R', 100, 4],
    ]);
    const sampler = new ProcUsageSampler({ procRoot: root, pageSize: 1000, intervalMs: 60_000, firstDelayMs: 5 });
    try {
      sampler.track('proc-a', 100);
      for (let i = 0; i < 200 && sampler.peak('proc-a') === null; i++) await new Promise((r) => setTimeout(r, 5));
      expect(sampler.peak('proc-a')).toBe(4000);
    } finally {
      sampler.close();
    }
  });

  it('ProcUsageSampler with intervalMs 0 never samples; a negative interval is refused', () => {
    const sampler = new ProcUsageSampler({ intervalMs: 0 });
    sampler.track('proc-a', process.pid);
    sampler.sample();
    expect(sampler.peak('proc-a')).toBeNull();
    expect(() => new ProcUsageSampler({ intervalMs: -1 })).toThrow(RangeError);
  });
});

describe('ProcessDriver peak memory without a cgroup', () => {
  it('ProcessDriver reports the sampled peak memory of a process job that has no cgroup', async () => {
    const driver = new ProcessDriver({ stateDir: tempDir(), cgroups: false, adoptPollMs: 20 });
    try {
      // Holds ~50 MB resident for 2 s: caught by the pass soon after the start.
      const perl = processSpec(['perl', '-e', '$x = "a" x 50_000_000; sleep 2']);
      const id = await driver.create(NODE, processTask(perl));
      await driver.start(id);
      const c = await waitFor(driver, id, exited);
      expect(c.exitCode).toBe(0);
      expect(c.usage?.peakMemoryBytes).toBeGreaterThan(30 * 1024 * 1024);
      expect(c.usage!.peakMemoryBytes).toBeLessThan(500 * 1024 * 1024);
      await driver.remove(id);
    } finally {
      driver.close();
    }
  });
});
