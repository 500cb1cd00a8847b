/**
 * The CPU side of bench:autoscale, on one real agent with the process runtime: a service whose
 * tasks are `node -e` burners that each spend, every 100 ms, the CPU time a load file asks for
 * (measured with process.cpuUsage, so a busy machine delays the burn rather than shrinking it).
 * The bench plays the balancer: it splits a total load (millicores) evenly over the tasks that
 * are running, rewriting the file every 250 ms, with ±20 % noise redrawn each second.
 *  - reaction_s: total load steps from 0.8× one task's target to 2.8× (needs 3 tasks); seconds
 *    until 3 tasks are running (no health check: running is started).
 *  - oscillations: then 3 tasks' worth at the target (±20 % noise) for `steadyS`; every change of
 *    the service's replica count counts.
 */
import { writeFileSync } from 'node:fs';
import { waitFor, type AgentProcess } from '../test/agent/support/agents.js';
import { seeded } from '../test/raft/core/support/prng.js';

export const BURN_STACK = 'autoscale';
const SERVICE = 'autoscale_burn';
/** Each task reserves 0.2 core; the target is 50 % of it: 100 millicores per task. */
const PER_TASK_TARGET_MC = 100;

const BURNER = [
  "const fs = require('fs'); const file = process.argv[1];",
  'setInterval(() => {',
  "  let mc = 0; try { mc = Number(fs.readFileSync(file, 'utf8')) || 0; } catch {}",
  '  const wantUs = mc * 100; const start = process.cpuUsage(); const t0 = Date.now();',
  '  for (;;) { const u = process.cpuUsage(start); if (u.user + u.system >= wantUs || Date.now() - t0 > 100) break; }',
  '}, 100);',
].join('\n');

export function burnCompose(loadFile: string): string {
  const command = JSON.stringify([process.execPath, '-e', BURNER, loadFile]);
  return [
    'services:',
    '  burn:',
    `    command: ${command}`,
    '    stop_grace_period: 1s',
    '    deploy:',
    '      resources:',
    '        reservations:',
    "          cpus: '0.2'",
    '    x-shoal:',
    '      runtime: process',
    '      autoscale: {min: 1, max: 10, target_cpu: 50}',
    '',
  ].join('\n');
}

interface TaskRow {
  readonly state: string;
  readonly desiredState: string;
}
interface ServiceRow {
  readonly replicas: number;
  readonly autoscale?: { readonly lastDecision?: { reason: string } | null } | null;
}

export interface CpuResult {
  readonly reactionS: number;
  readonly oscillations: number;
  readonly steadyS: number;
  readonly decisions: readonly string[];
}

export async function runCpuPhases(agent: AgentProcess, loadFile: string, steadyS: number): Promise<CpuResult> {
  const running = async () => {
    const reply = await agent.api<TaskRow[]>('GET', `/v1/services/${SERVICE}/tasks?stale=1`).catch(() => null);
    if (reply?.status !== 200) return 0;
    return reply.body.filter((t) => t.desiredState === 'running' && t.state === 'running').length;
  };
  const service = async () => (await agent.api<ServiceRow>('GET', `/v1/services/${SERVICE}?stale=1`)).body;
  const decisions: string[] = [];
  const noteDecision = (s: ServiceRow) => {
    const reason = s.autoscale?.lastDecision?.reason;
    if (reason && decisions.at(-1) !== reason) decisions.push(reason);
  };

  let totalMc = 0.8 * PER_TASK_TARGET_MC;
  let noisy = false;
  let factor = 1;
  const random = seeded(16);
  const noise = setInterval(() => (factor = noisy ? 0.8 + 0.4 * random() : 1), 1_000);
  let stopped = false;
  const balancer = (async () => {
    while (!stopped) {
      const n = Math.max(1, await running());
      writeFileSync(loadFile, String(Math.round((totalMc * factor) / n)));
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  try {
    writeFileSync(loadFile, String(totalMc));
    const deployed = await agent.api('POST', '/v1/stacks', {
      name: BURN_STACK,
      compose: burnCompose(loadFile),
      file: 'compose.yml',
    });
    if (deployed.status !== 200) throw new Error(`deploy failed: ${JSON.stringify(deployed.body)}`);
    await waitFor(
      'one burner running',
      async () => (await running()) === 1,
      60_000,
      () => agent.output,
    );
    // Let the autoscaler see the base load for two sync periods (it must stay at 1).
    await new Promise((r) => setTimeout(r, 30_000));
    const base = await service();
    noteDecision(base);
    if (base.replicas !== 1) throw new Error(`the base load (0.8× target) scaled to ${base.replicas}`);

    totalMc = 2.8 * PER_TASK_TARGET_MC;
    const stepAt = performance.now();
    await waitFor(
      '3 burners running after the step',
      async () => {
        noteDecision(await service());
        return (await running()) >= 3;
      },
      120_000,
      () => agent.output,
    );
    const reactionS = (performance.now() - stepAt) / 1000;

    totalMc = 3 * PER_TASK_TARGET_MC;
    noisy = true;
    let replicas = (await service()).replicas;
    let oscillations = 0;
    const steadyEnd = performance.now() + steadyS * 1000;
    while (performance.now() < steadyEnd) {
      const now = await service();
      noteDecision(now);
      if (now.replicas !== replicas) {
        oscillations += 1;
        console.log(`steady load: replicas ${replicas} → ${now.replicas} (${now.autoscale?.lastDecision?.reason})`);
        replicas = now.replicas;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    return { reactionS, oscillations, steadyS, decisions };
  } finally {
    stopped = true;
    clearInterval(noise);
    await balancer;
    await agent.api('DELETE', `/v1/stacks/${BURN_STACK}`).catch(() => undefined);
  }
}
