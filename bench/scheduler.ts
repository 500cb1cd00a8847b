/**
 * Benchmark of placement as the cluster runs it: 10,000 pending tasks of a mix of services on 1,000
 * simulated nodes (zones, racks, roles, GPUs, some draining), with 2,000 tasks already running.
 * Goal: above 10,000 placements/s.
 *
 * The leader's placement controller (src/controllers/placement.ts) runs `planQueue()`, so that is
 * the headline figure (`placementsPerSecond`, `queue*` keys). `schedule()` is measured too: it is
 * still a separate entry point (no queue order, quotas, backfill or preemption around it) although
 * both run the same placement loop (src/scheduler/place-group.ts); its keys keep their old names
 * (`totalMs`, `tasksPerSecond`, ...) so figures stay comparable with earlier runs. Both also run
 * the worst case where no two tasks share a spec (no grouping), which costs one pass over the
 * nodes per task.
 *
 * Run: `PATH=node_modules/.bin:$PATH tsx bench/scheduler.ts`. The last line is a JSON object.
 */
import { performance } from 'node:perf_hooks';
import {
  type ClusterSnapshot,
  type NodeView,
  type PlacedTask,
  schedule,
  seededRandom,
  type TaskRequest,
} from '../src/scheduler/index.js';
import { planQueue, type QueueInput, type QueuedTask, type RunningTask } from '../src/scheduler/queue/index.js';

const NODES = 1000;
const TASKS = 10_000;
const RUNNING = 2000;
const RUNS = 20;
const GiB = 2 ** 30;
const NOW = 1_000_000_000;
/** A service's priority in the queue when its spec sets none (as src/controllers/placement.ts). */
const SERVICE_PRIORITY = 500;
const random = seededRandom(2026);

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

const nodes: NodeView[] = Array.from({ length: NODES }, (_, i) => ({
  id: `node-${String(i).padStart(4, '0')}`,
  hostname: `host-${i}`,
  role: i < 5 ? 'manager' : 'worker',
  labels: { zone: `z${i % 3}`, rack: `r${i % 20}`, ...(i % 3 === 0 ? { disk: 'ssd' } : {}) },
  availability: i % 50 === 7 ? 'drain' : 'active',
  status: i % 97 === 3 ? 'down' : 'ready',
  resources: {
    cpus: pick([8000, 16000, 32000]),
    memoryBytes: pick([32, 64, 128]) * GiB,
    gpus: i % 20 === 0 ? Array.from({ length: 4 }, (_, g) => `node-${i}-gpu${g}`) : [],
  },
  portsInUse: [{ port: 22 }],
}));

const running: PlacedTask[] = Array.from({ length: RUNNING }, (_, i) => ({
  id: `old-${i}`,
  serviceId: `svc-${i % 10}`,
  nodeId: pick(nodes).id,
  reservations: { cpus: 250, memoryBytes: GiB / 2 },
}));

/** Services with their share of the 10,000 tasks and their placement rules. */
type Spec = Omit<TaskRequest, 'id'>;
const mix: [number, Spec][] = [
  [
    3000,
    {
      serviceId: 'web',
      reservations: { cpus: 250, memoryBytes: GiB / 2 },
      preferences: [{ spread: 'node.labels.zone' }],
    },
  ],
  [
    1500,
    {
      serviceId: 'api',
      reservations: { cpus: 500, memoryBytes: GiB },
      constraints: ['node.role==worker'],
      affinity: [{ service: 'web', type: 'affinity', required: false }],
    },
  ],
  [1500, { serviceId: 'etl', priority: -1, strategy: 'binpack', reservations: { cpus: 1000, memoryBytes: 2 * GiB } }],
  [
    1000,
    {
      serviceId: 'db',
      reservations: { cpus: 1000, memoryBytes: 4 * GiB },
      constraints: ['node.labels.disk==ssd'],
      maxReplicasPerNode: 2,
    },
  ],
  [800, { serviceId: 'edge', ports: [{ port: 443 }], constraints: ['node.role!=manager'] }],
  [
    1000,
    {
      serviceId: 'cache',
      reservations: { memoryBytes: GiB },
      preferences: [{ spread: 'node.labels.zone' }, { spread: 'node.labels.rack' }],
      affinity: [{ service: 'db', type: 'anti-affinity', required: false }],
    },
  ],
  [100, { serviceId: 'train', priority: 5, reservations: { cpus: 2000, memoryBytes: 8 * GiB, gpus: 1 } }],
  [
    1100,
    { serviceId: 'misc', reservations: { cpus: 100, memoryBytes: GiB / 4 }, constraints: ['node.labels.zone!=z2'] },
  ],
];

const grouped: TaskRequest[] = mix.flatMap(([count, spec]) =>
  Array.from({ length: count }, (_, i) => ({ ...spec, id: `${spec.serviceId}-${i}` })),
);
// Worst case: every task its own spec (a distinct constraint), so nothing is shared between tasks.
// Its cost is linear in tasks x nodes, so every 5th task (2,000, the same mix) is enough to measure.
const UNGROUPED = TASKS / 5;
const ungrouped: TaskRequest[] = grouped
  .filter((_, i) => i % 5 === 0)
  .map((t, i) => ({
    ...t,
    constraints: [...(t.constraints ?? []), `node.hostname!=nowhere-${i}`],
  }));
if (grouped.length !== TASKS) throw new Error(`the mix adds up to ${grouped.length} tasks, expected ${TASKS}`);
if (ungrouped.length !== UNGROUPED) throw new Error(`expected ${UNGROUPED} ungrouped tasks, got ${ungrouped.length}`);
const snapshot: ClusterSnapshot = { nodes, tasks: running };

/**
 * The same scenario as the leader hands it to `planQueue()`: service tasks (no job, namespace or time
 * limit) in the order they arrived, a service's tasks submitted together; running tasks not preemptible.
 */
function queueInput(pending: readonly TaskRequest[]): QueueInput {
  const submitted = new Map<string, number>();
  return {
    now: NOW,
    nodes,
    running: running.map((t): RunningTask => ({
      ...t,
      priority: SERVICE_PRIORITY,
      jobId: null,
      namespace: null,
      startedAt: NOW - 3_600_000,
      timeLimitMs: 0,
      preemptible: false,
      terminating: false,
    })),
    pending: pending.map((t, i): QueuedTask => {
      if (!submitted.has(t.serviceId)) submitted.set(t.serviceId, submitted.size);
      return {
        ...t,
        priority: SERVICE_PRIORITY + (t.priority ?? 0),
        jobId: null,
        namespace: null,
        submittedAt: submitted.get(t.serviceId)!,
        timeLimitMs: 0,
        gang: null,
        index: i,
      };
    }),
  };
}

/** First (cold: includes JIT warm-up) and median of `runs` further calls. */
function measure<T>(plan: () => T, runs: number): { coldMs: number; ms: number; result: T } {
  let start = performance.now();
  let result = plan();
  const coldMs = performance.now() - start;
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    start = performance.now();
    result = plan();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { coldMs, ms: times[Math.floor(times.length / 2)] ?? coldMs, result };
}

const groupedQueue = queueInput(grouped);
const ungroupedQueue = queueInput(ungrouped);
// The queue first: its cold run is what a freshly elected leader pays.
const queue = measure(() => planQueue(groupedQueue), RUNS);
const queueSlow = measure(() => planQueue(ungroupedQueue), 2);
const fast = measure(() => schedule(snapshot, grouped), RUNS);
const slow = measure(() => schedule(snapshot, ungrouped), 2);
const perSecond = (ms: number, tasks = TASKS) => Math.round((tasks / ms) * 1000);
const reasons = new Map<string, number>();
for (const w of queue.result.waiting) reasons.set(w.message, (reasons.get(w.message) ?? 0) + 1);

console.log(`scheduler: ${TASKS} tasks (${mix.length} services) on ${NODES} nodes, ${RUNNING} already running`);
console.log(
  `  planQueue(), as the cluster runs it: ${queue.ms.toFixed(1)} ms (median of ${RUNS} warm runs) = ${perSecond(queue.ms, queue.result.placements.length)} placements/s; first (cold) run ${queue.coldMs.toFixed(1)} ms = ${perSecond(queue.coldMs, queue.result.placements.length)} placements/s`,
);
console.log(`             placed ${queue.result.placements.length}, waiting ${queue.result.waiting.length}`);
console.log(
  `  ungrouped: ${UNGROUPED} tasks, every one its own spec: ${queueSlow.ms.toFixed(1)} ms (median of 2) = ${perSecond(queueSlow.ms, UNGROUPED)} tasks/s; cold ${queueSlow.coldMs.toFixed(1)} ms`,
);
for (const [reason, n] of reasons) console.log(`  waiting ${n}: ${reason}`);
console.log(
  `  schedule() (same placement loop, no queue): ${fast.ms.toFixed(1)} ms (median of ${RUNS} warm runs) = ${perSecond(fast.ms)} tasks/s; cold ${fast.coldMs.toFixed(1)} ms; placed ${fast.result.placements.length}, unplaced ${fast.result.unplaced.length}`,
);
console.log(
  `  schedule() ungrouped: ${slow.ms.toFixed(1)} ms (median of 2) = ${perSecond(slow.ms, UNGROUPED)} tasks/s; cold ${slow.coldMs.toFixed(1)} ms`,
);
console.log(
  JSON.stringify({
    bench: 'scheduler',
    nodes: NODES,
    tasks: TASKS,
    running: RUNNING,
    services: mix.length,
    // planQueue(): what the leader's placement controller runs.
    placementsPerSecond: perSecond(queue.ms, queue.result.placements.length),
    queueTotalMs: Number(queue.ms.toFixed(1)),
    queueTasksPerSecond: perSecond(queue.ms),
    queueColdTotalMs: Number(queue.coldMs.toFixed(1)),
    queueColdPlacementsPerSecond: perSecond(queue.coldMs, queue.result.placements.length),
    queuePlaced: queue.result.placements.length,
    queueWaiting: queue.result.waiting.length,
    queueUngroupedTotalMs: Number(queueSlow.ms.toFixed(1)),
    queueUngroupedTasksPerSecond: perSecond(queueSlow.ms, UNGROUPED),
    // schedule(): the scheduler's own entry point (these keys measured it before the queue existed).
    totalMs: Number(fast.ms.toFixed(1)),
    tasksPerSecond: perSecond(fast.ms),
    coldTotalMs: Number(fast.coldMs.toFixed(1)),
    coldTasksPerSecond: perSecond(fast.coldMs),
    placed: fast.result.placements.length,
    unplaced: fast.result.unplaced.length,
    ungroupedTasks: UNGROUPED,
    ungroupedTotalMs: Number(slow.ms.toFixed(1)),
    ungroupedTasksPerSecond: perSecond(slow.ms, UNGROUPED),
    goalTasksPerSecond: 10_000,
    node: process.version,
  }),
);
