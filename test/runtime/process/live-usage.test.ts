/** A host-process task's live usage from its cgroup: what the autoscaler samples on a node. */
import { ProcessDriver } from '../../../src/runtime/process/index.js';
import { cgroupLiveUsage } from '../../../src/runtime/process/live-usage.js';
import { NODE, processTask, sh, tempDir, waitFor, removeTempDirs } from './helpers.js';
import fs from 'node:fs';
import path from 'node:path';

afterAll(removeTempDirs);

describe('ProcessDriver.liveUsage()', () => {
  it('reads the CPU time and memory of an autoscaled task from its cgroup (none without cgroups)', async () => {
    const driver = new ProcessDriver({ stateDir: tempDir(), adoptPollMs: 20 });
    const spec = sh('while :; do :; done');
    const autoscaled = {
      ...spec,
      autoscale: {
        min: 1,
        max: 3,
        targetCpuPercent: 50,
        targetMemoryPercent: 0,
        scaleUpCooldownMs: 0,
        scaleDownCooldownMs: 300_000,
      },
    };
    const id = await driver.create(NODE, processTask(autoscaled));
    try {
      await driver.start(id);
      await waitFor(driver, id, (c) => c.status === 'running');
      const first = await driver.liveUsage(id);
      if (driver.cgroups.version === null) {
        expect(first).toBeNull();
        return;
      }
      await new Promise((r) => setTimeout(r, 300));
      const second = await driver.liveUsage(id);
      expect(second!.cpuMs).toBeGreaterThan(first!.cpuMs); // the loop burns CPU
      expect(second!.memoryBytes).toBeGreaterThan(0);
    } finally {
      await driver.remove(id);
    }
  });

  it('cgroupLiveUsage() reads v1 and v2 files, less the inactive page cache', () => {
    const v1 = tempDir('shoal-cg1-');
    fs.writeFileSync(path.join(v1, 'cpuacct.usage'), '2500000000\n');
    fs.writeFileSync(path.join(v1, 'memory.usage_in_bytes'), '1000000\n');
    fs.writeFileSync(path.join(v1, 'memory.stat'), 'cache 5\ntotal_inactive_file 300000\n');
    expect(cgroupLiveUsage([v1])).toEqual({ cpuMs: 2500, memoryBytes: 700000 });
    const v2 = tempDir('shoal-cg2-');
    fs.writeFileSync(path.join(v2, 'cpu.stat'), 'usage_usec 1500000\nuser_usec 1\n');
    fs.writeFileSync(path.join(v2, 'memory.current'), '2048\n');
    fs.writeFileSync(path.join(v2, 'memory.stat'), 'anon 1\ninactive_file 48\n');
    expect(cgroupLiveUsage([v2])).toEqual({ cpuMs: 1500, memoryBytes: 2000 });
    expect(cgroupLiveUsage([tempDir('shoal-cg0-')])).toBeNull();
  });
});
