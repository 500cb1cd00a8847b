/**
 * Live usage of a host-process task for the autoscaler, from its cgroup files: CPU time so far
 * (`cpuacct.usage` in v1, `usage_usec` of `cpu.stat` in v2) and memory in use now without the
 * inactive page cache (`memory.usage_in_bytes` less `total_inactive_file` of `memory.stat` in v1;
 * `memory.current` less `inactive_file` in v2), as `docker stats` counts it.
 *
 * Cost, measured on the test machine (cgroup v1, `npm run bench:live-usage`-style loop of 10,000
 * reads of one task's three cgroup directories): see docs/ARCHITECTURE.md, "Autoscaling".
 * A task without cgroups (the agent could not create them) has no live usage: `null`.
 *
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LiveUsage } from '../types.js';

function read(dir: string, file: string): string | null {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch {
    return null;
  }
}

function field(text: string | null, name: string): number | null {
  const match = text === null ? null : new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

/** CPU time and memory in use of the task in these cgroup directories; `null` when they say nothing. */
export function cgroupLiveUsage(dirs: readonly string[]): LiveUsage | null {
  let cpuMs: number | null = null;
  let memoryBytes: number | null = null;
  for (const dir of dirs) {
    const ns = read(dir, 'cpuacct.usage'); // v1
    if (ns !== null && /^\d+\s*$/.test(ns)) cpuMs = Number(ns) / 1e6;
    const usec = field(read(dir, 'cpu.stat'), 'usage_usec'); // v2
    if (usec !== null) cpuMs = usec / 1000;
    const v1 = read(dir, 'memory.usage_in_bytes');
    const v2 = v1 === null ? read(dir, 'memory.current') : null;
    const usage = v1 ?? v2;
    if (usage !== null && /^\d+\s*$/.test(usage)) {
      const stat = read(dir, 'memory.stat');
      const inactive = field(stat, v1 !== null ? 'total_inactive_file' : 'inactive_file') ?? 0;
      memoryBytes = Math.max(0, Number(usage) - inactive);
    }
  }
  if (cpuMs === null && memoryBytes === null) return null;
  return { cpuMs: cpuMs ?? 0, memoryBytes: memoryBytes ?? 0 };
}
