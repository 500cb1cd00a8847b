/**
 * The Docker Swarm side of bench:rollout: a single-node swarm on this machine's engine (shared
 * with other work, so it is left in a finally block, always), the same service as shoal's (10
 * replicas, the same health check, parallelism 2, delay 0, monitor 5 s, start-first) and
 * `docker service update --image`, timed until `UpdateStatus.State` is `completed` with 10 tasks
 * of the new image running. Images are local tags (`--no-resolve-image`: no registry here).
 */
import { execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import Docker from 'dockerode';
import { waitFor } from '../test/agent/support/agents.js';
import { answers, startLoad, type LoadResult } from './rollout-load.js';
import { recordPhases, type ContainerPhases } from './rollout-phases.js';
import type { RolloutPlan, Timeline } from './rollout-plan.js';

const SERVICE = 'shoal-bench-rollout';

export interface SwarmResult {
  /** From the update command until UpdateStatus completed and 10 tasks of the new image run. */
  readonly completedS: number;
  /** From the update command until 10 containers of the new image were healthy. */
  readonly allNewHealthyS: number;
  /** When each count of healthy new containers was first seen, s after the command. */
  readonly timeline: Timeline;
  /** The same load through Swarm's ingress port; null when it did not answer before the update. */
  readonly load: LoadResult | null;
  readonly phases: readonly ContainerPhases[];
}

function dockerCli(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Healthy containers of the service running `image`. */
async function healthy(docker: Docker, image: string): Promise<number> {
  const list = await docker.listContainers({
    filters: { label: [`com.docker.swarm.service.name=${SERVICE}`], health: ['healthy'] },
  });
  return list.filter((c) => c.Image === image).length;
}

interface SwarmTask {
  Status?: { State?: string };
  Spec?: { ContainerSpec?: { Image?: string } };
}

/** Tasks wanted running, and how many of them run `image`. */
async function tasksOf(docker: Docker, image: string): Promise<{ wanted: number; runningNew: number }> {
  const tasks = (await docker.listTasks({
    filters: { service: [SERVICE], 'desired-state': ['running'] },
  })) as SwarmTask[];
  return {
    wanted: tasks.length,
    runningNew: tasks.filter((t) => t.Status?.State === 'running' && t.Spec?.ContainerSpec?.Image === image).length,
  };
}

/** The first address where Swarm's published port answers: loopback, else an external IPv4. */
async function ingressHost(port: number): Promise<string | null> {
  const external = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address);
  for (const host of ['127.0.0.1', ...external.slice(0, 1)]) if (await answers(port, host)) return host;
  return null;
}

/**
 * Runs the Swarm rollout; null (with the reason printed) when the engine is already part of a
 * swarm, which this bench must not touch.
 */
export async function runSwarmRollout(plan: RolloutPlan, port: number): Promise<SwarmResult | null> {
  const docker = new Docker();
  const state = dockerCli('info', '--format', '{{.Swarm.LocalNodeState}}');
  if (state !== 'inactive') {
    console.log(`swarm: skipped, this engine is already in swarm state "${state}" (not ours to change)`);
    return null;
  }
  const hadGwBridge = dockerCli('network', 'ls', '-q', '--filter', 'name=^docker_gwbridge$') !== '';
  dockerCli('swarm', 'init', '--advertise-addr', '127.0.0.1');
  try {
    const { healthcheck: h, update: u } = plan;
    dockerCli(
      'service',
      'create',
      '--detach',
      '--no-resolve-image',
      '--name',
      SERVICE,
      '--replicas',
      String(plan.replicas),
      '--health-cmd',
      h.cmd,
      '--health-interval',
      `${h.intervalS}s`,
      '--health-timeout',
      `${h.timeoutS}s`,
      '--health-retries',
      String(h.retries),
      '--stop-grace-period',
      `${plan.stopGraceS}s`,
      '--update-parallelism',
      String(u.parallelism),
      '--update-delay',
      `${u.delayS}s`,
      '--update-monitor',
      `${u.monitorS}s`,
      '--update-order',
      u.order,
      '--update-failure-action',
      u.failureAction,
      '--publish',
      `published=${port},target=${plan.targetPort}`,
      plan.imageV1,
    );
    await waitFor(
      `swarm: ${plan.replicas} healthy replicas of v1`,
      async () => (await healthy(docker, plan.imageV1)) === plan.replicas,
      180_000,
    );
    // Swarm's ingress (IPVS): measured as well where it answers (loopback, else the host's address).
    const host = await ingressHost(port);
    console.log(
      host === null
        ? `swarm: ingress port ${port} does not answer here; no load on Swarm`
        : `swarm: the same load through its ingress at ${host}:${port}`,
    );
    const load = host === null ? null : startLoad({ port, host });

    const timeline: Record<number, number> = {};
    const recorder = await recordPhases(docker, plan.imageV2);
    const commandAt = Date.now();
    const started = performance.now();
    dockerCli('service', 'update', '--detach', '--no-resolve-image', '--image', plan.imageV2, SERVICE);
    let allNewHealthyS = NaN;
    await waitFor(
      'swarm: the update completed with every replica on v2',
      async () => {
        const elapsed = (performance.now() - started) / 1000;
        const healthyNew = await healthy(docker, plan.imageV2);
        timeline[healthyNew] ??= elapsed;
        if (Number.isNaN(allNewHealthyS) && healthyNew >= plan.replicas) allNewHealthyS = elapsed;
        const info = (await docker.getService(SERVICE).inspect()) as { UpdateStatus?: { State?: string } };
        if (info.UpdateStatus?.State !== 'completed') return false;
        const { wanted, runningNew } = await tasksOf(docker, plan.imageV2);
        return wanted === plan.replicas && runningNew === plan.replicas;
      },
      300_000,
    );
    const completedS = (performance.now() - started) / 1000;
    const phases = recorder.stop(commandAt);
    return { completedS, allNewHealthyS, timeline, load: load ? await load.stop() : null, phases };
  } finally {
    try {
      dockerCli('service', 'rm', SERVICE);
    } catch {
      /* not created */
    }
    dockerCli('swarm', 'leave', '--force');
    if (!hadGwBridge) {
      try {
        dockerCli('network', 'rm', 'docker_gwbridge');
      } catch {
        /* still in use for a moment, or already gone: harmless */
      }
    }
  }
}
