/**
 * The shoal side of bench:rollout: a 1-node cluster (one real agent on this machine's engine, with
 * the service mesh, so that the published port is the mesh's ingress listener and 10 replicas on
 * one engine can share it), the service deployed from Compose, then `POST
 * /v1/services/rollout_web/update {image: v2}` (what `shoal service update --image` sends), with a
 * bounded request load through the published port for the whole update.
 */
import { execFileSync } from 'node:child_process';
import Docker from 'dockerode';
import { bootstrapCluster, makeAgents, waitFor, type AgentProcess } from '../test/agent/support/agents.js';
import { answers, startLoad, type LoadResult } from './rollout-load.js';
import { recordPhases, type ContainerPhases } from './rollout-phases.js';
import { composeFor, type RolloutPlan, type Timeline } from './rollout-plan.js';

const STACK = 'rollout';
const SERVICE = 'rollout_web';

export interface ShoalResult {
  /** From the update command until every replica runs v2 and is healthy (`running`). */
  readonly allNewHealthyS: number;
  /** From the update command until the rollout's state is `completed` (v2 past `monitor`). */
  readonly completedS: number;
  readonly timeline: Timeline;
  readonly load: LoadResult;
  readonly phases: readonly ContainerPhases[];
}

interface TaskRow {
  readonly state: string;
  readonly desiredState: string;
  readonly containerId?: string | null;
}

/**
 * Tasks wanted running, and how many of them run `image` (running means healthy here). The
 * version comes from the task's container on the engine: the task view's `image` is the
 * service's current image, not the one the task runs.
 */
async function tasksOf(
  agent: AgentProcess,
  docker: Docker,
  image: string,
  seenRunning?: Map<string, number>,
): Promise<{ wanted: number; runningNew: number }> {
  const reply = await agent.api<TaskRow[]>('GET', `/v1/services/${SERVICE}/tasks?stale=1`).catch(() => null);
  if (reply?.status !== 200) return { wanted: -1, runningNew: -1 };
  const imageId = ((await docker.getImage(image).inspect()) as { Id: string }).Id;
  const containers = await docker.listContainers({ filters: { label: [`shoal.stack=${STACK}`] } });
  const onImage = new Set(containers.filter((c) => c.ImageID === imageId).map((c) => c.Id));
  const wanted = reply.body.filter((t) => t.desiredState === 'running');
  const runningNew = wanted.filter((t) => t.state === 'running' && onImage.has(t.containerId ?? ''));
  for (const t of runningNew) if (!seenRunning?.has(t.containerId!)) seenRunning?.set(t.containerId!, Date.now());
  return { wanted: wanted.length, runningNew: runningNew.length };
}

async function removeStackContainers(docker: Docker): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`shoal.stack=${STACK}`] } });
  await Promise.all(
    list.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

export async function runShoalRollout(plan: RolloutPlan, port: number): Promise<ShoalResult> {
  const docker = new Docker();
  // The mesh puts its addresses on `shoal0` and leaves them (a restart syncs them): remove the
  // link afterwards unless it was there before.
  const hadShoal0 = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).includes(' shoal0:');
  const { agents, cleanup } = makeAgents(1, 'shoal-bench-rollout-');
  const agent = agents[0]!;
  try {
    await bootstrapCluster(agents, { flags: ['--mesh', '--log-level', 'warn'] });
    const deployed = await agent.api('POST', '/v1/stacks', {
      name: STACK,
      compose: composeFor(plan, port),
      file: 'compose.yml',
    });
    if (deployed.status !== 200) throw new Error(`deploy failed: ${JSON.stringify(deployed.body)}`);
    await waitFor(
      `shoal: ${plan.replicas} healthy replicas of v1`,
      async () => {
        const { wanted, runningNew } = await tasksOf(agent, docker, plan.imageV1);
        return wanted === plan.replicas && runningNew === plan.replicas;
      },
      180_000,
      () => agent.output,
    );
    await waitFor(
      `shoal: the published port ${port} answers`,
      () => answers(port),
      30_000,
      () => agent.output,
    );
    const load = startLoad({ port });

    const timeline: Record<number, number> = {};
    const recorder = await recordPhases(docker, plan.imageV2);
    const seenRunning = new Map<string, number>();
    const commandAt = Date.now();
    const started = performance.now();
    const updated = await agent.api('POST', `/v1/services/${SERVICE}/update`, { image: plan.imageV2 });
    if (updated.status !== 200) throw new Error(`update failed: ${JSON.stringify(updated.body)}`);
    let allNewHealthyS = NaN;
    await waitFor(
      'shoal: every replica on v2 and healthy',
      async () => {
        const { wanted, runningNew } = await tasksOf(agent, docker, plan.imageV2, seenRunning);
        const elapsed = (performance.now() - started) / 1000;
        timeline[runningNew] ??= elapsed;
        if (wanted === plan.replicas && runningNew === plan.replicas) allNewHealthyS = elapsed;
        return !Number.isNaN(allNewHealthyS);
      },
      300_000,
      () => agent.output,
    );
    await waitFor(
      'shoal: the rollout completed',
      async () => {
        const reply = await agent
          .api<{ update?: { state: string } }>('GET', `/v1/services/${SERVICE}?stale=1`)
          .catch(() => null);
        return reply?.body.update?.state === 'completed';
      },
      120_000,
      () => agent.output,
    );
    const completedS = (performance.now() - started) / 1000;
    const phases = recorder.stop(commandAt, seenRunning);
    return { allNewHealthyS, completedS, timeline, load: await load.stop(), phases };
  } finally {
    await agent.api('DELETE', `/v1/stacks/${STACK}`).catch(() => undefined);
    await waitFor(
      'the stack gone',
      async () =>
        (await docker.listContainers({ all: true, filters: { label: [`shoal.stack=${STACK}`] } })).length === 0,
      60_000,
    ).catch(() => undefined);
    await cleanup();
    await removeStackContainers(docker);
    await docker.pruneNetworks({ filters: { label: [`shoal.stack=${STACK}`] } }).catch(() => undefined);
    if (!hadShoal0) {
      try {
        execFileSync('ip', ['link', 'del', 'shoal0'], { stdio: 'ignore' });
      } catch {
        /* never made */
      }
    }
  }
}
