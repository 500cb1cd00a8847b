/**
 * `bench:raft -- --via api`: the same 256-byte writes as the in-process bench, but sent by a
 * separate client process through the admin API of a real 3-agent shoal cluster on loopback
 * (HTTP over the unix socket; to a follower, the write is forwarded over libp2p to the leader and
 * the answer waits for the follower's own apply), as etcd's `check perf` sends its writes over
 * gRPC. Each write is a node label of 256 bytes: a real command through the whole stack.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundle } from '../scripts/bundle.mjs';
import { bootstrapCluster, makeAgents, type AgentProcess, type StatusBody } from '../test/agent/support/agents.js';

export interface ApiLevelResult {
  readonly target: 'leader' | 'follower';
  readonly concurrency: number;
  readonly ops: number;
  readonly errors: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /**
   * CPU time per write (µs) of the leader's process, of the two followers' together, and of the
   * client: less disturbed than ops/s by other work on the machine, and what bounds ops/s when
   * the cores are busy.
   */
  readonly cpuUsPerWrite: { readonly leader: number; readonly followers: number; readonly client: number } | null;
}

/** A process's CPU time (user + system) so far in ms, from /proc (null where there is none). */
function cpuMs(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return null;
  }
}

type LoadResult = Omit<ApiLevelResult, 'target' | 'concurrency' | 'cpuUsPerWrite'> & { readonly clientCpuMs: number };

function load(
  agent: AgentProcess,
  nodeId: string,
  concurrency: number,
  seconds: number,
  client: 'lean' | 'node',
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(import.meta.dirname, 'api-load.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (message: { t: string; message?: string; result?: LoadResult }) => {
      if (message.t === 'result') resolve(message.result!);
      else reject(new Error(message.message));
    });
    child.once('error', reject);
    child.send({ socket: agent.socket, nodeId, concurrency, seconds, valueBytes: 256, client });
  });
}

/** Options of {@link benchViaApi}. */
export interface ApiBenchOptions {
  /** Write a V8 CPU profile of each agent here (`node --cpu-prof`), for finding where a write's time goes. */
  readonly cpuProfDir?: string;
  /** The load generator's HTTP client (bench/api-load.ts). Default lean. */
  readonly client?: 'lean' | 'node';
}

/** Runs the levels against the leader and a follower; prints a line per run. */
export async function benchViaApi(
  levels: readonly number[],
  seconds: number,
  options: ApiBenchOptions = {},
): Promise<ApiLevelResult[]> {
  await bundle();
  const { agents, cleanup } = makeAgents(3, 'shoal-bench-api-');
  const nodeOptions = process.env.NODE_OPTIONS;
  try {
    // the agents inherit the environment; a profile is written when an agent exits cleanly (SIGTERM)
    if (options.cpuProfDir !== undefined)
      process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --cpu-prof --cpu-prof-dir=${options.cpuProfDir}`.trim();
    const { ids } = await bootstrapCluster(agents);
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
    const status = await agents[0]!.api<StatusBody>('GET', '/v1/status');
    const leaderAt = ids.indexOf(status.body.leader!);
    const leader = agents[leaderAt]!;
    const follower = agents[(leaderAt + 1) % 3]!;
    const results: ApiLevelResult[] = [];
    for (const [target, agent] of [
      ['leader', leader],
      ['follower', follower],
    ] as const) {
      const nodeId = ids[agents.indexOf(agent)]!;
      for (const concurrency of levels) {
        const before = agents.map((a) => cpuMs(a.pid));
        const { clientCpuMs, ...measured } = await load(agent, nodeId, concurrency, seconds, options.client ?? 'lean');
        const used = agents.map((a, i) => (before[i] === null ? null : cpuMs(a.pid)! - before[i]!));
        const perWrite = (ms: number) => Math.round((ms * 1000) / Math.max(1, measured.ops));
        const cpuUsPerWrite = used.includes(null)
          ? null
          : {
              leader: perWrite(used[leaderAt]!),
              followers: perWrite(used.reduce((sum: number, ms, i) => sum + (i === leaderAt ? 0 : ms!), 0)),
              client: perWrite(clientCpuMs),
            };
        const r: ApiLevelResult = { ...measured, target, concurrency, cpuUsPerWrite };
        results.push(r);
        console.log(
          `via the API, ${target.padEnd(8)} concurrency ${String(concurrency).padStart(3)}: ${r.opsPerSec.toFixed(0).padStart(6)} ops/s   ` +
            `p50 ${r.p50Ms.toFixed(2)} ms   p99 ${r.p99Ms.toFixed(2)} ms   (${r.ops} writes, ${r.errors} errors)` +
            (cpuUsPerWrite
              ? `   CPU per write: leader ${cpuUsPerWrite.leader} µs, followers ${cpuUsPerWrite.followers} µs, client ${cpuUsPerWrite.client} µs`
              : ''),
        );
      }
    }
    if (options.cpuProfDir !== undefined) {
      await Promise.all(agents.map((agent) => agent.kill('SIGTERM')));
      console.log(`CPU profiles of the agents (leader ${leader.pid}) in ${options.cpuProfDir}`);
    }
    return results;
  } finally {
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
    await cleanup();
  }
}
