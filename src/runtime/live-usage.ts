/**
 * Live usage for the autoscaler from the engine's stats (`GET /containers/{id}/stats`, one shot):
 * CPU time so far, and memory in use as `docker stats` shows it (usage without the inactive page
 * cache, which the kernel reclaims before it would kill the container).
 *
 * Cost: the same call the usage sampler makes (usage-sampler.ts): up to 1 s of wall time (the
 * engine's collector ticks once a second), about 2 ms of the agent's CPU and 20 ms of the
 * engine's per call, measured there. The autoscaler's node sampler makes one per task of an
 * autoscaled service every 5 s at most (src/agent/task-stats.ts).
 *
 * @module
 */
import type { LiveUsage } from './types.js';

/** The fields of the engine's stats this reads. */
export interface EngineLiveStats {
  readonly cpu_stats?: { readonly cpu_usage?: { readonly total_usage?: number } };
  readonly memory_stats?: {
    readonly usage?: number;
    readonly stats?: { readonly total_inactive_file?: number; readonly inactive_file?: number };
  };
}

/** `null` when the engine reports nothing (a stopped container: all zero). */
export function liveUsageOf(stats: EngineLiveStats): LiveUsage | null {
  const ns = stats.cpu_stats?.cpu_usage?.total_usage ?? 0;
  const memory = stats.memory_stats;
  const usage = memory?.usage ?? 0;
  if (ns <= 0 && usage <= 0) return null;
  // cgroup v1 names it total_inactive_file, v2 inactive_file (docker/cli calculateMemUsageUnixNoCache).
  const inactive = memory?.stats?.total_inactive_file ?? memory?.stats?.inactive_file ?? 0;
  return { cpuMs: ns / 1e6, memoryBytes: Math.max(0, usage - (inactive < usage ? inactive : 0)) };
}
