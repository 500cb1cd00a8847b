/**
 * Benchmark of the batch queue planner alone: 100,000 pending tasks (2,000 jobs of 50 array
 * tasks, a few gangs, mixed sizes, priorities, namespaces, time limits and quotas) over 500
 * simulated nodes with 2,000 tasks already running. Goal: the whole plan well under a few seconds.
 * The JSON's `placed`/`placementsPerSec` are for that (mostly full) cluster; the `roomy*` figures
 * plan the same queue on an empty cluster of 8 times bigger nodes, where most of the work is placing.
 *
 * Run: `PATH=node_modules/.bin:$PATH tsx bench/queue.ts`. The last line is a JSON object;
 * `runQueueBench()` returns the same object to other benches.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { type NodeView, seededRandom } from '../src/scheduler/index.js';
import {
  planQueue,
  type QueueInput,
  type QueuePlan,
  type QueuedTask,
  type RunningTask,
} from '../src/scheduler/queue/index.js';

const NODES = 500;
const JOBS = 2000;
const TASKS_PER_JOB = 50;
const RUNNING = 2000;
const WARMUP = 1;
const RUNS = 3;
const GiB = 2 ** 30;
const MIN = 60_000;
const NOW = 10_000 * MIN;
const NAMESPACES = ['ml', 'genomics', 'etl', 'web', 'analytics', 'physics'];

/** A seeded queue: the same cluster and queue on every run. */
export function buildQueueInput(seed = 2026): QueueInput {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const nodes: NodeView[] = Array.from({ length: NODES }, (_, i) => ({
    id: `node-${String(i).padStart(3, '0')}`,
    hostname: `host-${i}`,
    role: 'worker',
    labels: { zone: `z${i % 3}`, ...(i % 10 === 0 ? { disk: 'ssd' } : {}) },
    availability: i % 100 === 7 ? 'drain' : 'active',
    status: 'ready',
    resources: {
      cpus: pick([16_000, 32_000, 64_000]),
      memoryBytes: pick([64, 128, 256]) * GiB,
      gpus: i % 25 === 0 ? Array.from({ length: 4 }, (_, g) => `node-${i}-gpu${g}`) : [],
    },
  }));
  const running: RunningTask[] = Array.from({ length: RUNNING }, (_, i) => {
    const node = pick(nodes);
    const service = i % 5 === 0;
    return {
      id: `run-${i}`,
      serviceId: service ? `svc-${i % 20}` : `old-job-${i % 300}`,
      nodeId: node.id,
      priority: service ? 500 : pick([50, 100, 150]),
      jobId: service ? null : `old-job-${i % 300}`,
      namespace: service ? null : pick(NAMESPACES),
      startedAt: NOW - Math.floor(random() * 120) * MIN,
      timeLimitMs: service ? 0 : pick([0, 30, 60, 240]) * MIN,
      preemptible: !service,
      terminating: i % 97 === 0,
      reservations: { cpus: pick([1000, 2000, 4000]), memoryBytes: pick([2, 4, 8]) * GiB },
    };
  });
  const pending: QueuedTask[] = [];
  for (let j = 0; j < JOBS; j++) {
    const jobId = `job-${String(j).padStart(4, '0')}`;
    const gang = j % 100 === 3;
    const reservations = {
      cpus: pick([500, 1000, 2000, 4000, 8000]),
      memoryBytes: pick([1, 2, 4, 16]) * GiB,
      ...(j % 50 === 1 ? { gpus: 1 } : {}),
    };
    const spec = {
      serviceId: jobId,
      priority: pick([50, 100, 100, 100, 200, 300]),
      jobId,
      namespace: pick(NAMESPACES),
      submittedAt: NOW - Math.floor(random() * 600) * MIN,
      timeLimitMs: pick([0, 10, 60, 240, 1440]) * MIN,
      gang: gang ? jobId : null,
      reservations,
      ...(j % 40 === 5 ? { constraints: ['node.labels.disk==ssd'] } : {}),
    };
    const count = gang ? 8 : TASKS_PER_JOB;
    for (let i = 0; i < count; i++) pending.push({ id: `${jobId}-${i}`, index: i, ...spec });
  }
  // Top the queue up to exactly 100,000 with one more array job of small tasks.
  const extra = JOBS * TASKS_PER_JOB - pending.length;
  const fill = { cpus: 250, memoryBytes: GiB / 2 };
  for (let i = 0; i < extra; i++) {
    pending.push({
      id: `fill-${i}`,
      serviceId: 'fill',
      priority: 10,
      jobId: 'fill',
      namespace: 'etl',
      submittedAt: NOW,
      timeLimitMs: 5 * MIN,
      gang: null,
      index: i,
      reservations: fill,
    });
  }
  const usage: Record<string, number> = {};
  NAMESPACES.forEach((ns, i) => (usage[ns] = i * 1e9));
  return {
    now: NOW,
    nodes,
    running,
    pending,
    usage,
    shares: { ml: 2, genomics: 1 },
    quotas: { analytics: { cpus: 400_000, runningJobs: 40 }, physics: { gpus: 8, memoryBytes: 2048 * GiB } },
  };
}

/** The median time of `RUNS` plans after a warm-up, and the last plan. */
function measure(input: QueueInput): { ms: number; times: number[]; plan: QueuePlan } {
  let plan = planQueue(input);
  for (let i = 1; i < WARMUP; i++) plan = planQueue(input);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    plan = planQueue(input);
    times.push(performance.now() - start);
  }
  return { ms: [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!, times, plan };
}

/** The same queue on an empty cluster of 8 times bigger nodes without quotas: mostly placements. */
function roomy(input: QueueInput): QueueInput {
  return {
    ...input,
    running: [],
    quotas: {},
    nodes: input.nodes.map((n) => ({
      ...n,
      resources: { ...n.resources, cpus: n.resources.cpus * 8, memoryBytes: n.resources.memoryBytes * 8 },
    })),
  };
}

/** Plan the simulated queue `RUNS` times after a warm-up; returns the JSON summary. */
export async function runQueueBench(): Promise<Record<string, number | string>> {
  const input = buildQueueInput();
  const { ms, times, plan } = measure(input);
  const big = measure(roomy(input));
  const reasons: Record<string, number> = {};
  for (const w of plan.waiting) reasons[w.reason] = (reasons[w.reason] ?? 0) + 1;
  console.log(
    `queue: ${input.pending.length} pending tasks, ${input.nodes.length} nodes, ${input.running.length} running`,
  );
  console.log(
    `queue: placed ${plan.placements.length}, preempting ${plan.preemptions.length} victims, waiting ${plan.waiting.length} ${JSON.stringify(reasons)}`,
  );
  console.log(
    `queue: median of ${RUNS} plans ${ms.toFixed(1)} ms (all: ${times.map((t) => t.toFixed(0)).join(', ')} ms)`,
  );
  console.log(
    `queue (roomy cluster): placed ${big.plan.placements.length} in ${big.ms.toFixed(1)} ms, ` +
      `${Math.round((big.plan.placements.length / big.ms) * 1000)} placements/s`,
  );
  return {
    bench: 'queue',
    pending: input.pending.length,
    nodes: input.nodes.length,
    placed: plan.placements.length,
    ms: Math.round(ms * 10) / 10,
    placementsPerSec: Math.round((plan.placements.length / ms) * 1000),
    tasksPlannedPerSec: Math.round((input.pending.length / ms) * 1000),
    roomyPlaced: big.plan.placements.length,
    roomyMs: Math.round(big.ms * 10) / 10,
    roomyPlacementsPerSec: Math.round((big.plan.placements.length / big.ms) * 1000),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await runQueueBench()));
}
