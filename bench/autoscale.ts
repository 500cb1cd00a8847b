/**
 * `npm run bench:autoscale` (issue 16 item 5), in one run on this machine: one real agent (the
 * bundled binary, --mesh, this machine's Docker Engine and host processes), then
 *  (a) reaction_s and oscillations on a CPU-burning process service with HPA's defaults (15 s
 *      sync period, 300 s down window): bench/autoscale-load.ts;
 *  (b) cold_start_ms of a `min: 0` busybox httpd through the mesh's published port, and
 *      container_start_ms of the same container by `docker run`: bench/autoscale-cold.ts.
 * Last line: JSON.   npm run bench:autoscale -- [--quick] [--steady SECONDS] [--rounds N] [--only cpu|cold]
 *   [--log-level debug --agent-log FILE]
 * (--quick: 60 s of steady load instead of 600 s; --only: one of the two parts, the other's keys
 * absent; --agent-log: the agent's pino lines written there at the end, for timing its steps.)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundle } from '../scripts/bundle.mjs';
import { bootstrapCluster, makeAgents } from '../test/agent/support/agents.js';
import { IMAGE, runColdStarts, type ColdResult } from './autoscale-cold.js';
import { runCpuPhases, type CpuResult } from './autoscale-load.js';
import { freePort } from '../test/support/free-port.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    steady: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
    'agent-log': { type: 'string' },
  },
});
const only = values.only;
if (only !== undefined && only !== 'cpu' && only !== 'cold')
  throw new Error(`--only: expected cpu or cold, got ${only}`);
const steadyS = Number(values.steady ?? (values.quick ? 60 : 600));
const rounds = Number(values.rounds);
if (!(steadyS > 0)) throw new Error(`--steady: expected seconds > 0, got ${values.steady}`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected an integer ≥ 1, got ${values.rounds}`);

const loadavg = () => execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim();
const round2 = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  execFileSync('bash', ['scripts/ensure-docker.sh'], { stdio: 'ignore' });
  execFileSync('bash', ['scripts/build-test-image.sh', IMAGE], { stdio: 'ignore' });
  await bundle();
  console.log(`load average at start: ${loadavg()} (2 cores, shared with other work)`);
  const hadShoal0 = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).includes(' shoal0:');
  const { agents, cleanup } = makeAgents(1, 'shoal-bench-autoscale-');
  const agent = agents[0]!;
  const loadDir = mkdtempSync(join(tmpdir(), 'shoal-bench-burn-'));
  let cpu: CpuResult | null = null;
  let cold: ColdResult | null = null;
  try {
    await bootstrapCluster(agents, { flags: ['--mesh', '--log-level', values['log-level']] });
    if (only !== 'cold') {
      cpu = await runCpuPhases(agent, join(loadDir, 'millicores'), steadyS);
      console.log(`reaction: 3 burners running ${cpu.reactionS.toFixed(1)} s after the step`);
      console.log(`oscillations: ${cpu.oscillations} replica changes in ${cpu.steadyS} s of steady noisy load`);
      console.log(`decisions:\n  ${cpu.decisions.join('\n  ')}`);
    }
    if (only !== 'cpu')
      cold = await runColdStarts(
        agent,
        { shoal: await freePort('0.0.0.0'), docker: await freePort('0.0.0.0') },
        rounds,
      );
  } finally {
    if (values['agent-log'] !== undefined) writeFileSync(values['agent-log'], agent.output);
    await cleanup();
    rmSync(loadDir, { recursive: true, force: true });
    if (!hadShoal0) {
      try {
        execFileSync('ip', ['link', 'del', 'shoal0'], { stdio: 'ignore' });
      } catch {
        /* never made */
      }
    }
  }
  console.log(`load average at end: ${loadavg()}`);
  console.log(
    JSON.stringify({
      ...(cpu && { reaction_s: round2(cpu.reactionS), oscillations: cpu.oscillations, steady_s: cpu.steadyS }),
      ...(cold && {
        cold_start_ms: Math.round(cold.coldStartMs),
        container_start_ms: Math.round(cold.containerStartMs),
        container_start_network_ms: Math.round(cold.networkStartMs),
        cold_starts_ms: cold.coldStartsMs.map(Math.round),
        container_starts_ms: cold.containerStartsMs.map(Math.round),
        container_starts_network_ms: cold.networkStartsMs.map(Math.round),
      }),
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
