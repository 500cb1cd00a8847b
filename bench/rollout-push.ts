/**
 * Push to running (bench:rollout, issue 15 item 7): the same 10 replicas deployed from a tag of a
 * local registry (Debian's docker-registry on loopback, test/support/registry.ts) with
 * `x-shoal.image_update: {interval: 5s}`, on a 1-node cluster (one real agent on this machine's
 * engine, no published port). v2 is then pushed under the watched tag; measured from the end of
 * `docker push` until every replica runs v2 and is healthy, with no command to shoal: the leader's
 * watch hears the new digest and rolls it out. The engine has v2 already (it pushed it), so the
 * pull is a lookup, as with the update bench.
 */
import { execFileSync } from 'node:child_process';
import Docker from 'dockerode';
import { bootstrapCluster, makeAgents, waitFor, type AgentProcess } from '../test/agent/support/agents.js';
import { registryUnavailable, startRegistry } from '../test/support/registry.js';
import { composeFor, type RolloutPlan } from './rollout-plan.js';

const STACK = 'rolloutpush';
const SERVICE = 'rolloutpush_web';

export interface PushResult {
  /** From the end of the push until the service's spec names the new digest (the watch heard it). */
  readonly detectedS: number;
  /** From the end of the push until every replica runs the new digest and is healthy. */
  readonly allNewHealthyS: number;
}

interface TaskRow {
  readonly state: string;
  readonly desiredState: string;
  readonly containerId?: string | null;
}

/** How many tasks are wanted running, and how many run healthy on the image `imageId`. */
async function onImage(agent: AgentProcess, docker: Docker, imageId: string): Promise<[number, number]> {
  const reply = await agent.api<TaskRow[]>('GET', `/v1/services/${SERVICE}/tasks?stale=1`).catch(() => null);
  if (reply?.status !== 200) return [-1, -1];
  const containers = await docker.listContainers({ filters: { label: [`shoal.stack=${STACK}`] } });
  const ids = new Set(containers.filter((c) => c.ImageID === imageId).map((c) => c.Id));
  const wanted = reply.body.filter((t) => t.desiredState === 'running');
  return [wanted.length, wanted.filter((t) => t.state === 'running' && ids.has(t.containerId ?? '')).length];
}

/** Runs the measurement; null (with the reason printed) when no registry can run here. */
export async function runPushToRunning(plan: RolloutPlan, watchS: number): Promise<PushResult | null> {
  const missing = registryUnavailable();
  if (missing !== null) {
    console.log(`push to running: skipped (${missing})`);
    return null;
  }
  const docker = new Docker();
  const registry = await startRegistry();
  const tag = `${registry.host}/shoal-bench/rollout-web:live`;
  const push = (source: string) => {
    execFileSync('docker', ['tag', source, tag]);
    execFileSync('docker', ['push', '-q', tag], { stdio: 'ignore', timeout: 120_000 });
  };
  const { agents, cleanup } = makeAgents(1, 'shoal-bench-rollout-push-');
  const agent = agents[0]!;
  try {
    push(plan.imageV1);
    await bootstrapCluster(agents, { flags: ['--log-level', 'warn'] });
    const deployed = await agent.api('POST', '/v1/stacks', {
      name: STACK,
      compose: composeFor(plan, null, { image: tag, watchS }),
      file: 'compose.yml',
    });
    if (deployed.status !== 200) throw new Error(`deploy failed: ${JSON.stringify(deployed.body)}`);
    const v1 = (await docker.getImage(plan.imageV1).inspect()).Id;
    const v2 = (await docker.getImage(plan.imageV2).inspect()).Id;
    await waitFor(
      `push: ${plan.replicas} healthy replicas of v1`,
      async () => (await onImage(agent, docker, v1)).every((n) => n === plan.replicas),
      180_000,
      () => agent.output,
    );
    const before = await agent.api<{ image: string }>('GET', `/v1/services/${SERVICE}?stale=1`);
    push(plan.imageV2);
    const started = performance.now();
    let detectedS = NaN;
    await waitFor(
      'push: every replica on the pushed digest and healthy',
      async () => {
        if (Number.isNaN(detectedS)) {
          const now = await agent.api<{ image: string }>('GET', `/v1/services/${SERVICE}?stale=1`).catch(() => null);
          if (now?.body.image && now.body.image !== before.body.image) detectedS = (performance.now() - started) / 1000;
        }
        return (await onImage(agent, docker, v2)).every((n) => n === plan.replicas);
      },
      300_000,
      () => agent.output,
    );
    return { detectedS, allNewHealthyS: (performance.now() - started) / 1000 };
  } finally {
    await agent.api('DELETE', `/v1/stacks/${STACK}`).catch(() => undefined);
    await waitFor(
      'the push stack gone',
      async () =>
        (await docker.listContainers({ all: true, filters: { label: [`shoal.stack=${STACK}`] } })).length === 0,
      60_000,
    ).catch(() => undefined);
    await cleanup();
    const images = await docker.listImages({ filters: { reference: [tag.slice(0, tag.lastIndexOf(':'))] } });
    for (const ref of images.flatMap((i) => [...(i.RepoTags ?? []), ...(i.RepoDigests ?? [])]))
      if (ref.startsWith(registry.host))
        await docker
          .getImage(ref)
          .remove({ noprune: true })
          .catch(() => undefined);
    await registry.stop();
  }
}
