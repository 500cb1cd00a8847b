/**
 * `npm run bench:failover`: a 3-node cluster of real agents (bundled binary, default Raft timing:
 * 100 ms ticks, elections after 1–2 s of silence). Each trial kills the leader with SIGKILL and
 * measures until a new leader has committed a write (a token rotation sent to a survivor),
 * then restarts the victim and waits for it to be healthy. Prints min/p50/max; last line JSON.
 *
 *   npm run bench:failover -- [--trials 20] [--tick-ms 100]
 */
import { parseArgs } from 'node:util';
import { bundle } from '../scripts/bundle.mjs';
import { bootstrapCluster, makeAgents, waitFor, type StatusBody } from '../test/agent/support/agents.js';

const { values } = parseArgs({
  options: { trials: { type: 'string', default: '20' }, 'tick-ms': { type: 'string', default: '100' } },
});
const trials = Number(values.trials);
const tickMs = values['tick-ms']!;

async function main(): Promise<void> {
  await bundle();
  const { agents, cleanup } = makeAgents(3, 'shoal-bench-failover-');
  const flags = ['--tick-ms', tickMs, '--log-level', process.env.SHOAL_BENCH_LOG_LEVEL ?? 'warn'];
  try {
    const { ids } = await bootstrapCluster(agents, { flags });

    const times: number[] = [];
    for (let trial = 0; trial < trials; trial++) {
      const status = await agents[0]!
        .api<StatusBody>('GET', '/v1/status')
        .catch(() => agents[1]!.api<StatusBody>('GET', '/v1/status'));
      const victim = agents[ids.indexOf(status.body.leader!)]!;
      const survivors = agents.filter((a) => a !== victim);
      const killedAt = performance.now();
      await victim.kill('SIGKILL');
      // Retry the write until a new leader commits it; the CommandWriter itself retries through elections.
      for (;;) {
        const reply = await survivors[trial % 2]!.api('POST', '/v1/token/rotate', undefined, 30_000).catch(() => null);
        if (reply?.status === 200) break;
      }
      const ms = performance.now() - killedAt;
      times.push(ms);
      console.log(
        `trial ${String(trial + 1).padStart(2)}: new leader committed a write ${ms.toFixed(0)} ms after kill -9`,
      );
      if (process.env.SHOAL_BENCH_DUMP && ms > 1000) {
        const { writeFileSync } = await import('node:fs');
        for (const a of agents)
          writeFileSync(`${process.env.SHOAL_BENCH_DUMP}/trial${trial + 1}-${a.name}.log`, a.output);
      }
      victim.start(flags);
      await victim.waitForApi();
      // Healthy again = the restarted node follows the current leader and has caught up with it
      // (the leader's own view lags: it counts a peer as active for a whole election timeout).
      let seen = '';
      await waitFor(
        'the restarted node to catch up',
        async () => {
          const leaderView = await survivors[0]!
            .api<StatusBody & { commit: number }>('GET', '/v1/status')
            .catch(() => null);
          const own = await victim.api<StatusBody & { applied: number }>('GET', '/v1/status?stale=1').catch(() => null);
          seen = JSON.stringify({ leaderView: leaderView?.body, own: own?.body });
          return (
            !!leaderView &&
            !!own &&
            leaderView.status === 200 &&
            own.body.leader === leaderView.body.leader &&
            own.body.applied >= leaderView.body.commit
          );
        },
        30_000,
        () => `${seen}\n--- restarted node log ---\n${victim.output}`,
      );
    }
    times.sort((a, b) => a - b);
    const p50 = times[Math.floor(times.length / 2)]!;
    console.log(
      `failover over ${trials} trials: min ${times[0]!.toFixed(0)} ms, p50 ${p50.toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms`,
    );
    console.log(
      JSON.stringify({
        bench: 'failover',
        trials,
        tickMs: Number(tickMs),
        electionTimeoutMs: [10 * Number(tickMs), 20 * Number(tickMs)],
        minMs: times[0],
        p50Ms: p50,
        maxMs: times.at(-1),
        samplesMs: times,
      }),
    );
  } finally {
    await cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
