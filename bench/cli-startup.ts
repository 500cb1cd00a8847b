/**
 * How long a plain admin call takes from a shell: 20 runs of `shoal status` against a local
 * admin API server on a unix socket, serving a real agent of a 3-node cluster run in this process
 * (test/agent/support: memory transport, memory Raft storage, no containers), each a fresh process. Runs the
 * first that exists of: $SHOAL_CLI_BUNDLE, `build/cli.cjs`, `build/shoal.cjs` (the bundle the
 * single executable is made of: what users run), else `src/cli/bin.ts` through tsx (much slower:
 * tsx compiles on load). Bundles nothing itself. Prints the figures; asserts nothing.
 *
 *     PATH=node_modules/.bin:$PATH tsx bench/cli-startup.ts [runs]
 *
 * The last line is JSON: {"bench":"cli-startup","mode":…,"runs":…,"p50Ms":…,"p90Ms":…,"minMs":…,"nodeBaselineP50Ms":…}
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createApiServer } from '../src/api/index.js';
import { InProcessCluster } from '../test/agent/support/in-process-cluster.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Math.min(Math.max(Number(process.argv[2] ?? 20) || 20, 1), 200);

/** Run a child to completion (asynchronously: the server answering it lives in this process). */
function run(args: string[]): Promise<{ ms: number; code: number | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolvePromise({ ms: performance.now() - start, code, stderr }));
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function timeRuns(args: string[], label: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const result = await run(args);
    if (result.code !== 0) throw new Error(`${label} exited with ${result.code}: ${result.stderr.trim()}`);
    times.push(result.ms);
  }
  return times.sort((a, b) => a - b);
}

const cluster = await InProcessCluster.start({ nodes: 3 });
const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-cli-'));
const socketPath = join(dir, 'shoal.sock');
const server = createApiServer(cluster.agents[0]!.agent.api, {
  socketPath,
  logger: { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined },
});
await server.start();
try {
  const candidates = [process.env.SHOAL_CLI_BUNDLE, join(ROOT, 'build/cli.cjs'), join(ROOT, 'build/shoal.cjs')];
  const bundle = candidates.find((path): path is string => path !== undefined && path !== '' && existsSync(path));
  const mode = bundle !== undefined ? 'bundle' : 'tsx';
  const cliArgs =
    bundle !== undefined
      ? [bundle, 'status', '--addr', `unix://${socketPath}`]
      : ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts'), 'status', '--addr', `unix://${socketPath}`];
  const baseline = await timeRuns(['-e', ''], 'node -e ""');
  const times = await timeRuns(cliArgs, `shoal status (${mode})`);
  const via = bundle !== undefined ? bundle.replace(`${ROOT}/`, '') : 'tsx src/cli/bin.ts';
  console.log(`shoal status via ${via}, ${RUNS} runs, fresh process each`);
  console.log(
    `  p50 ${round(percentile(times, 50))} ms   p90 ${round(percentile(times, 90))} ms   min ${round(times[0]!)} ms`,
  );
  console.log(`  node -e "" alone: p50 ${round(percentile(baseline, 50))} ms (the floor)`);
  console.log(
    JSON.stringify({
      bench: 'cli-startup',
      mode,
      via,
      runs: RUNS,
      p50Ms: round(percentile(times, 50)),
      p90Ms: round(percentile(times, 90)),
      minMs: round(times[0]!),
      nodeBaselineP50Ms: round(percentile(baseline, 50)),
    }),
  );
} finally {
  await server.stop();
  await cluster.stop();
  await rm(dir, { recursive: true, force: true });
}
