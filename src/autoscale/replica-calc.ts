/**
 * HPA's replica calculator for one metric (kubernetes pkg/controller/podautoscaler/
 * replica_calculator.go, `GetResourceReplicas`): desired = ceil(tasks × value / target), no
 * change within the tolerance, and missing measurements counted against the change.
 *
 * @module
 */
import type { MetricTarget } from './policy.js';

/** One measurement of one task, as a node sent it; `null` where the node could not measure. */
export interface TaskSample {
  /** When the leader received it (its clock). */
  readonly at: number;
  /** CPU in use over the node's last sampling interval, in cores. */
  readonly cpuCores: number | null;
  readonly memoryBytes: number | null;
  /** The scraped metric's value (the sum of its series); absent or null: not scraped. */
  readonly metric?: number | null;
}

/** A live task of the service and its recent samples. */
export interface TaskObservation {
  readonly taskId: string;
  /** Running (and not unhealthy): a task that is still starting is "unready" in HPA's terms. */
  readonly ready: boolean;
  readonly samples: readonly TaskSample[];
}

/** What one metric recommends, with the numbers that explain it. */
export interface MetricRecommendation {
  readonly kind: MetricTarget['kind'];
  /**
   * cpu, memory: the average over the measured ready tasks, percent of the request; pending: the
   * jobs waiting; rps: the service's requests per second. Null when nothing was measured.
   */
  readonly value: number | null;
  /** cpu, memory: percent; pending: jobs per task; metric: the value per task; rps: requests/s per task. */
  readonly target: number;
  /** pending: the namespace counted. */
  readonly namespace?: string;
  /** metric: the scraped metric's name. */
  readonly name?: string;
  /** Ready tasks with a measurement. */
  readonly measured: number;
  /** Ready tasks without one (none in the last sync period). */
  readonly missing: number;
  /** Tasks not ready yet. */
  readonly unready: number;
  /** The replicas this metric asks for; `null`: no measurement at all, no opinion. */
  readonly replicas: number | null;
}

/** The per-task metrics (measured on the nodes). */
type TaskMetric = Extract<MetricTarget, { kind: 'cpu' | 'memory' | 'metric' }>;

/** The target of a per-task metric: percent for cpu and memory, the value per task for a scraped metric. */
function targetOf(target: TaskMetric): number {
  return target.kind === 'metric' ? target.value : target.percent;
}

/** A task's value of the metric: the mean of its samples since `since`, percent of the request. */
function taskValue(target: TaskMetric, samples: readonly TaskSample[], since: number): number | null {
  let sum = 0;
  let count = 0;
  for (const s of samples) {
    if (s.at < since) continue;
    const raw = target.kind === 'cpu' ? s.cpuCores : target.kind === 'memory' ? s.memoryBytes : (s.metric ?? null);
    if (raw === null) continue;
    if (target.kind === 'cpu') sum += (raw / target.requestCores) * 100;
    else if (target.kind === 'memory') sum += (raw / target.requestBytes) * 100;
    else sum += raw;
    count++;
  }
  return count === 0 ? null : sum / count;
}

/**
 * The replicas one metric asks for, from the service's current replicas and its tasks' samples
 * since `since`.
 *
 * Missing measurements (HPA): when scaling down, a ready task without one counts as using exactly
 * the target; when scaling up, as using nothing; a task not ready yet counts as using nothing when
 * scaling up. If that makes the change vanish into the tolerance or reverse, nothing changes.
 *
 * @example
 * ```ts
 * recommend({ kind: 'cpu', percent: 70, requestCores: 1 }, 3, tasks, now - 15_000, 0.1).replicas; // 4 at 92 %
 * ```
 */
export function recommend(
  target: TaskMetric,
  current: number,
  tasks: readonly TaskObservation[],
  since: number,
  tolerance: number,
): MetricRecommendation {
  const values: number[] = [];
  let missing = 0;
  let unready = 0;
  for (const task of tasks) {
    const value = task.ready ? taskValue(target, task.samples, since) : null;
    if (!task.ready) unready++;
    else if (value === null) missing++;
    else values.push(value);
  }
  const goal = targetOf(target);
  const base = {
    kind: target.kind,
    target: goal,
    ...(target.kind === 'metric' ? { name: target.name } : {}),
    measured: values.length,
    missing,
    unready,
  };
  if (values.length === 0) return { ...base, value: null, replicas: null };
  const average = values.reduce((a, b) => a + b, 0) / values.length;
  const ratio = average / goal;
  const scaleUpWithUnready = unready > 0 && ratio > 1;
  if (missing === 0 && !scaleUpWithUnready) {
    if (Math.abs(ratio - 1) <= tolerance) return { ...base, value: average, replicas: current };
    return { ...base, value: average, replicas: Math.ceil(ratio * values.length) };
  }
  const filled = [...values];
  for (let i = 0; i < missing; i++) filled.push(ratio < 1 ? goal : 0);
  if (scaleUpWithUnready) for (let i = 0; i < unready; i++) filled.push(0);
  const newRatio = filled.reduce((a, b) => a + b, 0) / filled.length / goal;
  if (Math.abs(newRatio - 1) <= tolerance || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1))
    return { ...base, value: average, replicas: current };
  const replicas = Math.ceil(newRatio * filled.length);
  if ((newRatio < 1 && replicas > current) || (newRatio > 1 && replicas < current))
    return { ...base, value: average, replicas: current };
  return { ...base, value: average, replicas };
}

/**
 * The replicas a queue asks for: one task per `perTask` pending jobs (HPA's external metric with
 * an AverageValue target: ceil(total / per task), no change within the tolerance of the current
 * replicas' capacity). `null` pending: no opinion.
 */
export function recommendPending(
  target: Extract<MetricTarget, { kind: 'pending' }>,
  current: number,
  pending: number | null,
  tolerance: number,
): MetricRecommendation {
  const base = {
    kind: target.kind,
    target: target.perTask,
    namespace: target.namespace,
    measured: current,
    missing: 0,
    unready: 0,
  };
  if (pending === null) return { ...base, value: null, replicas: null };
  return { ...base, value: pending, replicas: averageValueReplicas(pending, target.perTask, current, tolerance) };
}

/**
 * The replicas the requests through the service address ask for: one task per `perTask`
 * requests per second (HPA's AverageValue, as {@link recommendPending}). `null` rate: no opinion.
 *
 * @example
 * ```ts
 * recommendRps({ kind: 'rps', perTask: 50 }, 2, 230, 0.1).replicas; // 5
 * ```
 */
export function recommendRps(
  target: Extract<MetricTarget, { kind: 'rps' }>,
  current: number,
  perSecond: number | null,
  tolerance: number,
): MetricRecommendation {
  const base = { kind: target.kind, target: target.perTask, measured: current, missing: 0, unready: 0 };
  if (perSecond === null) return { ...base, value: null, replicas: null };
  return { ...base, value: perSecond, replicas: averageValueReplicas(perSecond, target.perTask, current, tolerance) };
}

/** HPA's AverageValue of a total: ceil(total / per task), no change within the tolerance of the current capacity. */
function averageValueReplicas(total: number, perTask: number, current: number, tolerance: number): number {
  const ratio = total / (perTask * Math.max(1, current));
  return Math.abs(ratio - 1) <= tolerance ? current : Math.ceil(total / perTask);
}
