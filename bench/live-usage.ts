/**
 * What one live-usage sample costs (issue 16, the autoscaler's node sampler): a host-process
 * task's cgroup files, and, when a Docker Engine answers, one container's one-shot stats.
 * `npx tsx bench/live-usage.ts`; JSON on the last line.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { DockerDriver } from '../src/runtime/docker-driver.js';
import { ProcessDriver } from '../src/runtime/process/index.js';
import { cgroupLiveUsage } from '../src/runtime/process/live-usage.js';
import { BASE_SPEC, assignment, task } from '../test/runtime/fixtures.js';

const AUTOSCALE = {
  min: 1,
  max: 3,
  targetCpuPercent: 50,
  targetMemoryPercent: 0,
  scaleUpCooldownMs: 0,
  scaleDownCooldownMs: 300_000,
};

/** CPU ms a process used so far (utime + stime of /proc/<pid>/stat). */
function processCpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function processSample(): Promise<Record<string, number> | null> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-bench-live-'));
  const driver = new ProcessDriver({ stateDir });
  if (driver.cgroups.version === null) return null;
  const spec = { ...BASE_SPEC, runtime: 'process' as const, image: '', entrypoint: null, autoscale: AUTOSCALE };
  const id = await driver.create('bench', assignment(task({ id: 'bench-1' }), { ...spec, command: ['sleep', '60'] }));
  try {
    await driver.start(id);
    const n = 10_000;
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await driver.liveUsage(id);
    const wall = performance.now() - t0;
    const spent = process.cpuUsage(cpu);
    return {
      process_cgroup_v: driver.cgroups.version,
      process_sample_us: Math.round((wall * 1000) / n),
      process_sample_cpu_us: Math.round((spent.user + spent.system) / n),
      cgroup_direct_sample_us: (() => {
        const dirs = driver.cgroups.dirs(id);
        const s = performance.now();
        for (let i = 0; i < n; i++) cgroupLiveUsage(dirs);
        return Math.round(((performance.now() - s) * 1000) / n);
      })(),
    };
  } finally {
    await driver.remove(id);
    driver.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

async function dockerSample(): Promise<Record<string, number> | null> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch {
    return null;
  }
  const name = `shoal-bench-live-${process.pid}`;
  const container = await docker.createContainer({ name, Image: 'shoal-test/busybox:latest', Cmd: ['sleep', '120'] });
  await container.start();
  try {
    const driver = new DockerDriver({ docker });
    const dockerd = Number(execFileSync('pidof', ['dockerd']).toString().trim().split(' ')[0]);
    const containerd = Number(execFileSync('pidof', ['containerd']).toString().trim().split(' ')[0]);
    await driver.liveUsage(container.id); // warm the connection
    const n = 20;
    const cpu = process.cpuUsage();
    const engine0 = processCpuMs(dockerd);
    const containerd0 = processCpuMs(containerd);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await driver.liveUsage(container.id);
    const wall = performance.now() - t0;
    const spent = process.cpuUsage(cpu);
    return {
      docker_sample_ms: Math.round(wall / n),
      docker_sample_agent_cpu_ms: Math.round((spent.user + spent.system) / n / 100) / 10,
      docker_sample_dockerd_cpu_ms: Math.round(((processCpuMs(dockerd) - engine0) / n) * 10) / 10,
      docker_sample_containerd_cpu_ms: Math.round(((processCpuMs(containerd) - containerd0) / n) * 10) / 10,
    };
  } finally {
    await container.remove({ force: true });
  }
}

const result = { ...(await processSample()), ...(await dockerSample()) };
console.log(JSON.stringify(result));
