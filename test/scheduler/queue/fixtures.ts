/** Builders for queue tests: nodes, pending and running tasks, and plan lookups. Virtual time only. */
import type { NodeView } from '../../../src/scheduler/index.js';
import type { QueuedTask, QueuePlan, QueueWait, RunningTask } from '../../../src/scheduler/queue/index.js';

export const GiB = 2 ** 30;
export const MIN = 60_000;
/** The virtual "now" of every test. */
export const NOW = 1_000 * MIN;

/** A ready, active worker with `cpus` millicores (default 4 cores) and 8 GiB. */
export function node(id: string, cpus = 4000, over: Partial<NodeView> = {}): NodeView {
  return {
    id,
    hostname: `host-${id}`,
    role: 'worker',
    labels: {},
    availability: 'active',
    status: 'ready',
    resources: { cpus, memoryBytes: 8 * GiB },
    ...over,
  };
}

/** A pending job task asking for `cpus` millicores; job `id` unless told, submitted at NOW. */
export function job(id: string, cpus: number, over: Partial<QueuedTask> = {}): QueuedTask {
  return {
    id,
    serviceId: `svc-${over.jobId ?? id}`,
    priority: 100,
    jobId: id,
    namespace: null,
    submittedAt: NOW,
    timeLimitMs: 0,
    gang: null,
    reservations: { cpus },
    ...over,
  };
}

/** `count` array tasks `<jobId>-<i>` of one job sharing one request. */
export function array(jobId: string, count: number, cpus: number, over: Partial<QueuedTask> = {}): QueuedTask[] {
  const reservations = { cpus };
  return Array.from({ length: count }, (_, i) =>
    job(`${jobId}-${i}`, cpus, { jobId, index: i, reservations, ...over }),
  );
}

/** A running task on `nodeId`, started at NOW - 10m, preemptible job of priority 100, no limit. */
export function running(id: string, nodeId: string, cpus: number, over: Partial<RunningTask> = {}): RunningTask {
  return {
    id,
    serviceId: `svc-${id}`,
    nodeId,
    priority: 100,
    jobId: id,
    namespace: null,
    startedAt: NOW - 10 * MIN,
    timeLimitMs: 0,
    preemptible: true,
    terminating: false,
    reservations: { cpus },
    ...over,
  };
}

/** Plan lookups that fail with a readable message. */
export function placedOn(plan: QueuePlan, taskId: string): string | undefined {
  return plan.placements.find((p) => p.taskId === taskId)?.nodeId;
}

export function waitOf(plan: QueuePlan, taskId: string): QueueWait {
  const wait = plan.waiting.find((w) => w.taskId === taskId);
  if (wait === undefined)
    throw new Error(`task ${taskId} does not wait (placed on ${placedOn(plan, taskId) ?? 'nothing'})`);
  return wait;
}

export function victims(plan: QueuePlan): string[] {
  return plan.preemptions.map((p) => p.victimTaskId).sort();
}
