/**
 * Nothing of a removed stack or a collected job stays on the engine (issue 18): not the
 * containers, and not the stack networks, also of tasks that never got a container. Every check
 * runs before the harness's own clean-up, which removes this node's networks whatever happened.
 */
import { collectJobs } from '../../src/controllers/job-gc.js';
import type { WorkloadState } from '../../src/controllers/workload-types.js';
import { LABELS, shortNodeId } from '../../src/runtime/index.js';
import type { JobRecord } from '../../src/state/jobs.js';
import { serviceFromCompose } from './fixtures.js';
import { dockerNodes, IMAGE, waitFor, type TestNode } from './docker-harness.js';

const { engine, start: startNode } = dockerNodes();

/** The node's stack networks of `stack` on the engine, by name. */
async function networksOf(node: TestNode, stack: string): Promise<string[]> {
  const all = await engine().listNetworks({ filters: { label: [`${LABELS.stack}=${stack}`] } });
  return all.map((n) => n.Name).filter((name) => name.endsWith(`_${shortNodeId(node.nodeId)}`));
}

/**
 * The names of the node's `stack` networks the engine created since `since` (ms), from its event
 * log: the runtime may already have collected a network no task needs by the time a test looks.
 */
async function networksCreated(node: TestNode, stack: string, since: number): Promise<string[]> {
  const stream = (await engine().getEvents({
    since: Math.floor(since / 1000),
    until: Math.ceil(Date.now() / 1000) + 1,
    filters: { type: ['network'], event: ['create'] },
  })) as unknown as AsyncIterable<Buffer>;
  let text = '';
  for await (const chunk of stream) text += chunk.toString('utf8');
  const events = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { timeNano?: number; Actor?: { Attributes?: { name?: string } } });
  return events
    .filter((e) => (e.timeNano ?? 0) >= since * 1_000_000) // the engine's `since` is in whole seconds
    .map((e) => e.Actor?.Attributes?.name ?? '')
    .filter((n) => n.startsWith(`${stack}_`) && n.endsWith(`_${shortNodeId(node.nodeId)}`));
}

/** Waits until neither a container of the node nor a network of `stack` of the node is left (bounded). */
async function untilNothingLeft(node: TestNode, stack: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    `no container and no ${stack} network of node ${node.nodeId} left`,
    async () => (await node.containers()).length === 0 && (await networksOf(node, stack)).length === 0,
    timeoutMs,
  );
}

/** A bind mount whose source does not exist: the engine refuses the container, after its network was made. */
const MISSING_BIND = `image: ${IMAGE}\nvolumes: ["/nonexistent-shoal-gc-test/src:/data"]\ncommand: ["true"]`;

function endedJob(id: string, serviceId: string, state: JobRecord['state'], endedAt: number): JobRecord {
  return {
    id,
    name: id,
    serviceId,
    serviceVersion: 1,
    owner: 'test',
    namespace: 'default',
    priority: 0,
    submittedAt: 0,
    beginAt: 0,
    scheduledAt: null,
    dependencies: [],
    units: 1,
    state,
    reason: '',
    startedAt: 0,
    endedAt,
    exitCode: state === 'COMPLETED' ? 0 : 1,
    succeeded: state === 'COMPLETED' ? 1 : 0,
    failed: state === 'COMPLETED' ? 0 : 1,
  };
}

/**
 * What `job.remove` does to the node: the tasks of the jobs job GC (with no history kept) forgets
 * leave the assignments.
 */
function collectJobsOn(node: TestNode, jobs: readonly JobRecord[]): string[] {
  const state: WorkloadState = {
    nodes: {},
    services: {},
    tasks: Object.fromEntries(node.tasks),
    jobs: Object.fromEntries(jobs.map((j) => [j.id, j])),
  };
  const forgotten = collectJobs(state, Date.now(), { jobs: 0, tasks: 0, minAgeMs: 0 });
  for (const [id, t] of node.tasks) if (t.job !== undefined && forgotten.includes(t.job.jobId)) node.tasks.delete(id);
  node.sync();
  return forgotten;
}

describe('NodeRuntime with Docker: stack rm and job GC leave nothing behind', () => {
  it('stack rm removes the stack network of a task that never got a container', async () => {
    const node = await startNode();
    const since = Date.now();
    node.put('nobind-1', serviceFromCompose(MISSING_BIND, 'api', 'gcstack'), {}, 'gcstack');
    const t = await node.until('nobind-1', 'rejected');
    expect(t.message).toMatch(/bind source path does not exist|not found|no such file/i);
    // The network was made for it before the engine refused the container.
    expect(await networksCreated(node, 'gcstack', since)).toEqual([`gcstack_default_${shortNodeId(node.nodeId)}`]);
    expect(await node.containers()).toEqual([]);

    // stack rm: the service goes, then its ended tasks.
    node.tasks.delete('nobind-1');
    node.sync();
    await untilNothingLeft(node, 'gcstack');
  }, 60_000);

  it('job GC removes the container and the network of an ended job, also of a unit that never got a container', async () => {
    const node = await startNode();
    const job = (id: string) => ({ jobId: id, index: 0, attempt: 0, requeues: 0 });

    // An ended job's container stays for its logs until job GC forgets the job.
    node.put('j1-0', serviceFromCompose(`image: ${IMAGE}\ncommand: ["true"]`, 'j1', 'job'), { job: job('1') }, 'job');
    await node.until('j1-0', 'complete');
    expect(await node.containers()).toHaveLength(1);
    expect(await networksOf(node, 'job')).toHaveLength(1);
    expect(collectJobsOn(node, [endedJob('1', 'job_j1', 'COMPLETED', Date.now())])).toEqual(['1']);
    await untilNothingLeft(node, 'job');

    // A unit the engine refused: its network was made, no container ever used it.
    const since = Date.now();
    node.put('j2-0', serviceFromCompose(MISSING_BIND, 'j2', 'job'), { job: job('2') }, 'job');
    await node.until('j2-0', 'rejected');
    expect(await networksCreated(node, 'job', since)).toHaveLength(1);
    expect(collectJobsOn(node, [endedJob('2', 'job_j2', 'FAILED', Date.now())])).toEqual(['2']);
    await untilNothingLeft(node, 'job');
  }, 60_000);

  it('a service scaled to zero keeps its network for the next cold start; stack rm removes it', async () => {
    const node = await startNode();
    const zero = serviceFromCompose(
      `image: ${IMAGE}\ncommand: ["sleep", "600"]\nstop_grace_period: 1s\nexpose: ["80"]\nx-shoal:\n  autoscale: {min: 0, max: 1, target_cpu: 50}`,
      'web',
      'zerostack',
    );
    node.put('zero-1', zero, {}, 'zerostack');
    await node.until('zero-1', 'running');
    // Idle: the leader scales it to zero, the task is shut down and its container goes.
    const since = Date.now();
    node.update('zero-1', { desiredState: 'shutdown' });
    await waitFor(
      'the container of the task scaled to zero to be removed',
      async () => (await node.containers()).length === 0,
    );
    // The removal asks for a collection (it would take the network of any other service).
    await node.runtime.reconcile();
    await node.runtime.reconcile();
    expect(await networksOf(node, 'zerostack')).toEqual([`zerostack_default_${shortNodeId(node.nodeId)}`]);

    // The next cold start uses the network kept: the engine made none since the scale to zero.
    node.put('zero-2', zero, { slot: 1 }, 'zerostack');
    await node.until('zero-2', 'running');
    expect(await networksCreated(node, 'zerostack', since)).toEqual([]);

    // stack rm: the service and its tasks go, then the network.
    node.tasks.clear();
    node.sync();
    await untilNothingLeft(node, 'zerostack');
  }, 60_000);
});
