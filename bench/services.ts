/**
 * `npm run bench:services`, on this machine's Docker Engine with 3 real agents on loopback:
 *  (a) `stack deploy` to 30 replicas running, next to the same 30 containers (on a user-defined
 *      network, as a stack's are) created and started directly through the Docker API at the
 *      best of several concurrencies, in the same run; also on the default bridge, for reference.
 *      This engine's times vary by a quarter from run to run, so the ratio compares medians: of
 *      every deploy (one per failover trial) and of three direct runs at the best concurrency;
 *  (b) node failover: kill -9 an agent and its containers (a lost machine), until all its
 *      replicas run elsewhere; 10 trials, p50 and max;
 *  (c) the scheduler alone (bench/scheduler.ts): 10,000 tasks on 1,000 simulated nodes.
 * Last line: JSON.   npm run bench:services -- [--replicas 30] [--trials 10]
 * With `--testbed`: (b) only, on 3 machines with their own engines (bench/services-testbed.ts).
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { bundle } from '../scripts/bundle.mjs';
import { bootstrapCluster, makeAgents, waitFor, type AgentProcess } from '../test/agent/support/agents.js';

const { values } = parseArgs({
  options: {
    replicas: { type: 'string', default: '30' },
    trials: { type: 'string', default: '10' },
    testbed: { type: 'boolean', default: false },
  },
});
const replicas = Number(values.replicas);
const trials = Number(values.trials);
const IMAGE = 'shoal-test/busybox:latest';
const docker = new Docker();

interface TaskRow {
  state: string;
  desiredState: string;
  nodeId: string | null;
}

async function runningTasks(agent: AgentProcess, service: string, exceptNode?: string): Promise<number> {
  return (await taskCounts(agent, service, exceptNode)).running;
}

/** Replicas wanted running away from `exceptNode`: placed on a node, and running there. */
async function taskCounts(
  agent: AgentProcess,
  service: string,
  exceptNode?: string,
): Promise<{ placed: number; running: number }> {
  const reply = await agent.api<TaskRow[]>('GET', `/v1/services/${service}/tasks?stale=1`).catch(() => null);
  if (reply?.status !== 200) return { placed: -1, running: -1 };
  const wanted = reply.body.filter((t) => t.desiredState === 'running' && t.nodeId !== null && t.nodeId !== exceptNode);
  return { placed: wanted.length, running: wanted.filter((t) => t.state === 'running').length };
}

/** What a machine's death does to its containers: they stop at once (SIGKILL). */
async function killContainers(label: string): Promise<void> {
  const list = await docker.listContainers({ filters: { label: [label] } });
  await Promise.all(
    list.map((c) =>
      docker
        .getContainer(c.Id)
        .kill()
        .catch(() => undefined),
    ),
  );
}

async function removeContainers(label: string): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true })));
}

/** 30 containers straight through the Docker API at `concurrency`: create + start, ms. */
/**
 * Creates and starts the containers directly at `concurrency` requests in flight. With a
 * `network`, each joins that user-defined bridge under an alias, as a stack's containers join
 * their stack's network: the same containers as shoal creates (on this engine a user-defined
 * network makes a container about a third slower to start than the default bridge).
 */
async function direct(concurrency: number, network: string | null): Promise<number> {
  const label = `shoal.bench.direct=${concurrency}`;
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < replicas) {
        const i = next++;
        const container = await docker.createContainer({
          Image: IMAGE,
          Cmd: ['sleep', '3600'],
          Labels: { 'shoal.bench.direct': String(concurrency) },
          name: `shoal-bench-direct-${concurrency}-${i}`,
          HostConfig: { NanoCpus: 10_000_000, Memory: 16 * 1024 * 1024, ...(network ? { NetworkMode: network } : {}) },
          ...(network ? { NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: ['app'] } } } } : {}),
        });
        await container.start();
      }
    }),
  );
  const ms = performance.now() - started;
  await removeContainers(label);
  return ms;
}

/** Runs `use` with a user-defined bridge network of its own (as a stack's containers have one). */
async function onOwnNetwork(use: (network: string) => Promise<void>): Promise<void> {
  const net = await docker.createNetwork({ Name: 'shoal-bench-direct', Driver: 'bridge' });
  try {
    await use('shoal-bench-direct');
  } finally {
    await net.remove().catch(() => undefined);
  }
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  if (values.testbed) {
    const { runTestbedFailover } = await import('./services-testbed.js');
    return runTestbedFailover({ replicas, trials });
  }
  execFileSync('bash', ['scripts/ensure-docker.sh'], { stdio: 'ignore' });
  execFileSync('bash', ['scripts/build-test-image.sh'], { stdio: 'ignore' });
  await bundle();

  // (a) direct Docker API, best of several concurrencies: on the default bridge, and on a
  // network of their own as the stack's containers are (the reference)
  const bridgeMs: Record<number, number> = {};
  for (const concurrency of [4, 8, 16]) bridgeMs[concurrency] = await direct(concurrency, null);
  const directMs: Record<number, number> = {};
  await onOwnNetwork(async (network) => {
    for (const concurrency of [4, 8, 16]) directMs[concurrency] = await direct(concurrency, network);
  });
  const bestBridge = Math.min(...Object.values(bridgeMs));
  const bestDirect = Math.min(...Object.values(directMs));
  const show = (ms: Record<number, number>) =>
    Object.entries(ms)
      .map(([c, t]) => `c=${c} ${t.toFixed(0)} ms`)
      .join(', ');
  console.log(`direct Docker API, ${replicas} containers on the default bridge: ${show(bridgeMs)}`);
  console.log(`direct Docker API, ${replicas} containers on a network of their own (as a stack's): ${show(directMs)}`);

  const { agents, cleanup } = makeAgents(3, 'shoal-bench-services-');
  const flags = ['--log-level', 'warn'];
  try {
    const { ids } = await bootstrapCluster(agents, { flags });

    const compose = `services:\n  app:\n    image: ${IMAGE}\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n    deploy:\n      replicas: ${replicas}\n      resources:\n        limits: { cpus: "0.01", memory: 16M }\n      restart_policy: { condition: any, delay: 1s }\n`;
    const deployStarted = performance.now();
    const deployed = await agents[1]!.api('POST', '/v1/stacks', { name: 'bench', compose, file: 'compose.yml' });
    if (deployed.status !== 200) throw new Error(`deploy failed: ${JSON.stringify(deployed.body)}`);
    await waitFor(
      `${replicas} replicas running`,
      async () => (await runningTasks(agents[0]!, 'bench_app')) === replicas,
      180_000,
    );
    const deployMs = performance.now() - deployStarted;
    const deploys = [deployMs];
    console.log(
      `stack deploy to ${replicas} replicas running: ${deployMs.toFixed(0)} ms (${(deployMs / bestDirect).toFixed(2)}x the best direct run of the same containers, ${bestDirect.toFixed(0)} ms; ${(deployMs / bestBridge).toFixed(2)}x the best on the default bridge)`,
    );

    // (b) failover: lose a non-leader node's machine, until its replicas run elsewhere. shoal
    // does not move replicas back to a node that returns (nor does Swarm), so each trial starts
    // from a fresh, balanced deployment: the lost node holds its fair share of the replicas.
    const failovers: number[] = [];
    const lostCounts: number[] = [];
    /** When every replica had a node again (the node declared down and its tasks rescheduled). */
    const placements: number[] = [];
    for (let trial = 0; trial < trials; trial++) {
      if (trial > 0) {
        await agents[0]!.api('DELETE', '/v1/stacks/bench');
        await waitFor(
          'the old deployment gone',
          async () =>
            (await docker.listContainers({ all: true, filters: { label: ['shoal.stack=bench'] } })).length === 0,
          120_000,
        );
        const redeployStarted = performance.now();
        const again = await agents[1]!.api('POST', '/v1/stacks', { name: 'bench', compose, file: 'compose.yml' });
        if (again.status !== 200) throw new Error(`deploy failed: ${JSON.stringify(again.body)}`);
        await waitFor(
          `${replicas} replicas running`,
          async () => (await runningTasks(agents[0]!, 'bench_app')) === replicas,
          180_000,
        );
        deploys.push(performance.now() - redeployStarted);
      }
      const leader = (
        await agents[0]!
          .api<{ leader: string }>('GET', '/v1/status')
          .catch(() => agents[1]!.api<{ leader: string }>('GET', '/v1/status'))
      ).body.leader;
      // a follower's machine is lost (the leader's loss adds an election, measured by bench:failover)
      const followers = ids.map((id, i) => (id === leader ? -1 : i)).filter((i) => i >= 0);
      const index = followers[trial % followers.length]!;
      const victim = agents[index]!;
      const observer = agents.find((a, i) => i !== index)!;
      lostCounts.push(replicas - (await runningTasks(observer, 'bench_app', ids[index])));
      const killedAt = performance.now();
      await victim.kill('SIGKILL');
      // The lost machine's containers die with it. (Removing them here, as earlier runs did, made
      // the surviving nodes' shared engine spend the failover deleting a dead machine's files.)
      await killContainers(`shoal.node.id=${ids[index]}`);
      let placedMs = NaN;
      await waitFor(
        'all replicas running on the other nodes',
        async () => {
          const counts = await taskCounts(observer, 'bench_app', ids[index]);
          if (Number.isNaN(placedMs) && counts.placed === replicas) placedMs = performance.now() - killedAt;
          return counts.running === replicas;
        },
        120_000,
      );
      const ms = performance.now() - killedAt;
      failovers.push(ms);
      placements.push(placedMs);
      await removeContainers(`shoal.node.id=${ids[index]}`);
      console.log(
        `failover ${trial + 1}: the lost node's ${lostCounts.at(-1)} replicas placed elsewhere after ${placedMs.toFixed(0)} ms, running ${ms.toFixed(0)} ms after kill -9`,
      );
      victim.start(flags);
      await victim.waitForApi();
      await waitFor(
        'the node to be back',
        async () => {
          const nodes = await observer.api<{ id: string; status: string }[]>('GET', '/v1/nodes').catch(() => null);
          return nodes?.body.find((n) => n.id === ids[index])?.status === 'ready';
        },
        60_000,
      );
    }
    const sorted = [...failovers].sort((a, b) => a - b);
    const p50 = sorted[Math.floor(sorted.length / 2)]!;
    console.log(
      `node failover over ${trials} trials: p50 ${p50.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms (node-down grace 5 s)`,
    );
    await agents[0]!.api('DELETE', '/v1/stacks/bench');
    await waitFor(
      'the deployment gone',
      async () => (await docker.listContainers({ all: true, filters: { label: ['shoal.stack=bench'] } })).length === 0,
      120_000,
    );

    // (a) again: two more direct runs at the best concurrency, then medians on both sides
    const bestConcurrency = Number(Object.entries(directMs).find(([, ms]) => ms === bestDirect)![0]);
    const directRuns = [bestDirect];
    await onOwnNetwork(async (network) => {
      for (let i = 0; i < 2; i++) directRuns.push(await direct(bestConcurrency, network));
    });
    const deployMedian = median(deploys);
    const directMedian = median(directRuns);
    console.log(
      `deploy over ${deploys.length} runs: median ${deployMedian.toFixed(0)} ms; direct at c=${bestConcurrency} over ${directRuns.length} runs: median ${directMedian.toFixed(0)} ms; ratio ${(deployMedian / directMedian).toFixed(2)}x`,
    );

    // (c) the scheduler alone
    const schedulerOut = execFileSync('node_modules/.bin/tsx', ['bench/scheduler.ts'], { encoding: 'utf8' })
      .trim()
      .split('\n');
    const scheduler = JSON.parse(schedulerOut.at(-1)!) as { tasksPerSecond: number; coldTasksPerSecond: number };
    console.log(
      `scheduler: ${Math.round(scheduler.tasksPerSecond)} placements/s warm, ${Math.round(scheduler.coldTasksPerSecond)} cold`,
    );

    console.log(
      JSON.stringify({
        bench: 'services',
        replicas,
        directMs,
        bestDirectMs: bestDirect,
        bridgeMs,
        bestBridgeMs: bestBridge,
        deployMs,
        deployVsDirect: deployMs / bestDirect,
        deployVsBridge: deployMs / bestBridge,
        deploySamplesMs: deploys,
        directSamplesMs: directRuns,
        deployMedianMs: deployMedian,
        directMedianMs: directMedian,
        deployMedianVsDirectMedian: deployMedian / directMedian,
        failoverTrials: trials,
        failoverP50Ms: p50,
        failoverMaxMs: sorted.at(-1),
        failoverSamplesMs: failovers,
        failoverLostReplicas: lostCounts,
        failoverPlacedMs: placements,
        schedulerTasksPerSecond: scheduler.tasksPerSecond,
        schedulerColdTasksPerSecond: scheduler.coldTasksPerSecond,
      }),
    );
  } finally {
    await cleanup();
    await removeContainers('shoal.stack=bench');
    await docker.pruneNetworks({ filters: { label: ['shoal.stack=bench'] } }).catch(() => undefined);
  }
}

main().catch(async (error: unknown) => {
  console.error(error);
  await removeContainers('shoal.stack=bench').catch(() => undefined);
  process.exit(1);
});
