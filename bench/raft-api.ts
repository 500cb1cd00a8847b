/**
 * `bench:raft -- --via api`: the same 256-byte writes as the in-process bench, but sent by a
 * separate client process through the admin API of a real 3-agent shoal cluster on loopback
 * (HTTP over the unix socket; to a follower, the write is forwarded over libp2p to the leader and
 * the answer waits for the follower's own apply), as etcd's `check perf` sends its writes over
 * gRPC. Each write is a node label of 256 bytes: a real command through the whole stack.
 */
import { fork } from 'node:child_process';
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
}

function load(agent: AgentProcess, nodeId: string, concurrency: number, seconds: number): Promise<ApiLevelResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(import.meta.dirname, 'api-load.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once(
      'message',
      (message: { t: string; message?: string; result?: Omit<ApiLevelResult, 'target' | 'concurrency'> }) => {
        if (message.t === 'result') resolve({ target: 'leader', concurrency, ...message.result! });
        else reject(new Error(message.message));
      },
    );
    child.once('error', reject);
    child.send({ socket: agent.socket, nodeId, concurrency, seconds, valueBytes: 256 });
  });
}

/** Runs the levels against the leader and a follower; prints a line per run. */
export async function benchViaApi(levels: readonly number[], seconds: number): Promise<ApiLevelResult[]> {
  await bundle();
  const { agents, cleanup } = makeAgents(3, 'shoal-bench-api-');
  try {
    const { ids } = await bootstrapCluster(agents);
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
        const r = { ...(await load(agent, nodeId, concurrency, seconds)), target };
        results.push(r);
        console.log(
          `via the API, ${target.padEnd(8)} concurrency ${String(concurrency).padStart(3)}: ${r.opsPerSec.toFixed(0).padStart(6)} ops/s   ` +
            `p50 ${r.p50Ms.toFixed(2)} ms   p99 ${r.p99Ms.toFixed(2)} ms   (${r.ops} writes, ${r.errors} errors)`,
        );
      }
    }
    return results;
  } finally {
    await cleanup();
  }
}
