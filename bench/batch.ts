/**
 * `npm run bench:batch`: batch throughput, as Slurm users measure it.
 *
 * (a) 1,000 trivial jobs (`true`, process runtime) submitted one `shoal job submit` call at a
 *     time from a shell loop (as with `sbatch`), to a 1-node and to a 3-node cluster of real
 *     agents: the submit loop's time, the time from the first submit until every job completed,
 *     and jobs/s over that span;
 * (b) the same 1,000 as one array job (`--array 0-999`);
 * (c) the queue planner alone: 100,000 pending tasks over 500 simulated nodes.
 * Human lines, then the figures as JSON on the last line.
 *
 *   npm run bench:batch -- [--jobs 1000] [--cpus 1] [--skip-3] [--only loop|array]
 *
 * `--cpus` is what each job reserves (Slurm allocates one CPU per job by default, which on this
 * 2-CPU machine runs 2 jobs at a time per node).
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { QueueRow } from '../src/api/job-types.js';
import { bundle } from '../scripts/bundle.mjs';
import {
  BUNDLE,
  NODE,
  bootstrapCluster,
  makeAgents,
  waitFor,
  type AgentProcess,
} from '../test/agent/support/agents.js';
import { runQueueBench } from './queue.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000' },
    cpus: { type: 'string', default: '1' },
    'skip-3': { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const JOBS = Number(values.jobs);
const CPUS = values.cpus!;

interface Run {
  readonly nodes: number;
  readonly mode: 'loop' | 'array';
  readonly submitMs: number;
  readonly totalMs: number;
  readonly jobsPerSec: number;
  readonly cliCallMs: number | null;
}

/** Units completed, from the queue (all jobs, ended ones included). */
async function completed(agent: AgentProcess): Promise<{ done: number; failed: number }> {
  const rows = (await agent.api<QueueRow[]>('GET', '/v1/queue?all=1&stale=1', undefined, 60_000)).body;
  let done = 0;
  let failed = 0;
  for (const r of rows) {
    done += r.units.done;
    failed += r.units.failed;
  }
  return { done, failed };
}

async function waitAllDone(agent: AgentProcess, expected: number, startedAt: number): Promise<number> {
  await waitFor(
    `${expected} units completed`,
    async () => {
      const { done, failed } = await completed(agent);
      if (failed > 0) throw new Error(`${failed} unit(s) failed`);
      return done >= expected;
    },
    900_000,
  );
  return performance.now() - startedAt;
}

async function measure(nodes: number, mode: 'loop' | 'array'): Promise<Run> {
  const { agents, cleanup } = makeAgents(nodes, `shoal-bench-batch-${nodes}-`);
  const flags = ['--runtime', 'process', '--log-level', process.env.SHOAL_BENCH_LOG_LEVEL ?? 'warn'];
  try {
    await bootstrapCluster(agents, { flags, voters: Math.min(3, nodes) });
    const env = { ...process.env, SHOAL_ADDR: `unix://${agents[0]!.socket}`, PATH: `${process.env.PATH}` };
    const start = performance.now();
    if (mode === 'loop') {
      // One CLI process per job, as a user's `for i in ...; do sbatch ...; done` loop does.
      execFileSync(
        'bash',
        [
          '-c',
          `for i in $(seq ${JOBS}); do "$NODE_BIN" "$BUNDLE" job submit --cpus ${CPUS} -q -- true >/dev/null || exit 1; done`,
        ],
        { env: { ...env, NODE_BIN: NODE, BUNDLE }, stdio: ['ignore', 'ignore', 'inherit'] },
      );
    } else {
      execFileSync(NODE, [BUNDLE, 'job', 'submit', '--cpus', CPUS, '--array', `0-${JOBS - 1}`, '-q', '--', 'true'], {
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
    const submitMs = performance.now() - start;
    const totalMs = await waitAllDone(agents[0]!, JOBS, start);
    const run: Run = {
      nodes,
      mode,
      submitMs: Math.round(submitMs),
      totalMs: Math.round(totalMs),
      jobsPerSec: Number(((JOBS * 1000) / totalMs).toFixed(1)),
      cliCallMs: mode === 'loop' ? Number((submitMs / JOBS).toFixed(1)) : null,
    };
    console.log(
      `${nodes} node(s), ${mode === 'loop' ? `${JOBS} × job submit` : `one array of ${JOBS}`}: ` +
        `submit ${(submitMs / 1000).toFixed(1)} s${run.cliCallMs ? ` (${run.cliCallMs} ms a call)` : ''}, ` +
        `all completed after ${(totalMs / 1000).toFixed(1)} s → ${run.jobsPerSec} jobs/s`,
    );
    return run;
  } finally {
    await cleanup();
  }
}

/** Bare node start-up, the floor of any CLI call written in TypeScript. */
function nodeFloorMs(): number {
  const n = 20;
  const t = performance.now();
  for (let i = 0; i < n; i++) execFileSync(NODE, ['-e', '0']);
  return Number(((performance.now() - t) / n).toFixed(1));
}

async function main(): Promise<void> {
  await bundle();
  const floor = nodeFloorMs();
  console.log(`node -e 0 takes ${floor} ms here (the floor of a CLI call)`);
  const runs: Run[] = [];
  const modes = (['loop', 'array'] as const).filter((m) => values.only === undefined || values.only === m);
  for (const nodes of values['skip-3'] ? [1] : [1, 3]) {
    for (const mode of modes) runs.push(await measure(nodes, mode));
  }
  const queue = await runQueueBench();
  console.log(`queue planner: ${JSON.stringify(queue)}`);
  const slurmTuned = 10.9;
  const best = (mode: 'loop' | 'array') => Math.max(...runs.filter((r) => r.mode === mode).map((r) => r.jobsPerSec));
  console.log(
    `goals: loop ≥ ${2 * slurmTuned} jobs/s (2× Slurm tuned): best ${best('loop')}; array ≥ 200 jobs/s: best ${best('array')}`,
  );
  console.log(
    JSON.stringify({ bench: 'batch', jobs: JOBS, cpusPerJob: Number(CPUS), nodeFloorMs: floor, runs, queue }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
