/**
 * Queue order and units of work. Pending tasks are ordered by priority, then fair share, then
 * age; consecutive identical tasks of one job (an array job) become one unit so they are placed
 * in one pass, and all tasks of a gang become one unit that starts whole or not at all.
 */
import { compareIds } from '../accounting.js';
import type { QueuedTask, QueueInput } from './types.js';

/**
 * A namespace's fair-share standing: its decayed usage divided by its shares (lower goes first).
 * A `null` namespace counts as no usage.
 */
export function fairShareKey(input: QueueInput, namespace: string | null): number {
  if (namespace === null) return 0;
  const usage = input.usage?.[namespace] ?? 0;
  const shares = input.shares?.[namespace] ?? 1;
  if (!(shares > 0)) return usage > 0 ? Number.POSITIVE_INFINITY : 0;
  return usage / shares;
}

/**
 * The pending tasks in queue order: priority (high first), fair share (low usage per share first),
 * submission time (old first), job id, array index, task id.
 */
export function orderQueue(input: QueueInput): QueuedTask[] {
  const keys = new Map<string | null, number>();
  const share = (ns: string | null): number => {
    let k = keys.get(ns);
    if (k === undefined) keys.set(ns, (k = fairShareKey(input, ns)));
    return k;
  };
  const rows = input.pending.map((task) => ({ task, share: share(task.namespace) }));
  rows.sort(
    (a, b) =>
      b.task.priority - a.task.priority ||
      a.share - b.share ||
      a.task.submittedAt - b.task.submittedAt ||
      compareIds(a.task.jobId ?? '', b.task.jobId ?? '') ||
      (a.task.index ?? 0) - (b.task.index ?? 0) ||
      compareIds(a.task.id, b.task.id),
  );
  return rows.map((r) => r.task);
}

/** Tasks that are placed together: a run of identical tasks of one job, or a whole gang. */
export interface Unit {
  /** Position of the unit's first task in the queue order. */
  readonly position: number;
  /** `job "x"`, `service "y"` or `gang "z"`, for messages. */
  readonly label: string;
  readonly gang: string | null;
  /** Runs of identical tasks (one for an array job; one per distinct spec in a gang). */
  readonly runs: QueuedTask[][];
}

/** Every task of a unit, in queue order. */
export function unitTasks(unit: Unit): QueuedTask[] {
  return unit.runs.length === 1 ? unit.runs[0]! : unit.runs.flat();
}

/** `job "x"` or `service "y"`. */
export function ownerLabel(task: QueuedTask): string {
  return task.jobId !== null ? `job ${JSON.stringify(task.jobId)}` : `service ${JSON.stringify(task.serviceId)}`;
}

/** Split the ordered queue into units (see {@link Unit}). */
export function buildUnits(ordered: readonly QueuedTask[]): Unit[] {
  const units: Unit[] = [];
  const gangs = new Map<string, Unit>();
  let last: Unit | undefined;
  ordered.forEach((task, position) => {
    if (task.gang !== null) {
      const gang = gangs.get(task.gang);
      if (gang === undefined) {
        const unit: Unit = { position, label: `gang ${JSON.stringify(task.gang)}`, gang: task.gang, runs: [[task]] };
        gangs.set(task.gang, unit);
        units.push(unit);
      } else {
        const run = gang.runs.find((r) => sameRequest(r[0]!, task));
        if (run !== undefined) run.push(task);
        else gang.runs.push([task]);
      }
      last = undefined;
      return;
    }
    const run = last?.runs[0];
    if (run !== undefined && sameRequest(run[run.length - 1]!, task)) {
      run.push(task);
      return;
    }
    last = { position, label: ownerLabel(task), gang: null, runs: [[task]] };
    units.push(last);
  });
  return units;
}

const IGNORED = new Set(['id', 'index']);

/** Same job and same request apart from the task id and array index. */
export function sameRequest(a: QueuedTask, b: QueuedTask): boolean {
  if (a.jobId !== b.jobId || a.serviceId !== b.serviceId) return false;
  if (shallowEqual(a, b)) return true;
  return specKey(a) === specKey(b);
}

function shallowEqual(a: QueuedTask, b: QueuedTask): boolean {
  let count = 0;
  for (const key in b) {
    if (IGNORED.has(key)) continue;
    if (Reflect.get(a, key) !== Reflect.get(b, key)) return false;
    count += 1;
  }
  for (const key in a) if (!IGNORED.has(key)) count -= 1;
  return count === 0;
}

/** A canonical text of the task's request without id and index. */
export function specKey(task: QueuedTask): string {
  const { id: _id, index: _index, ...rest } = task;
  // Key order is the producer's: equal requests built differently only lose the grouping shortcut.
  return JSON.stringify(rest);
}
