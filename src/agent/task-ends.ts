/**
 * Waiting for tasks to end, for `shoal stack rm` (which, like `docker stack rm`, would otherwise
 * return while containers still run): the tasks a removal stopped are watched in this agent's
 * copy of the state until each has ended (or was collected), or the wait's bound passes.
 * @module
 */
import type { TaskRecord } from '../state/workloads.js';
import { isTerminal } from '../state/workloads.js';

/** What the wait needs of the cluster store. */
export interface TaskWatch {
  task(id: string): TaskRecord | undefined;
  on(event: 'state:change', listener: () => void): unknown;
  off(event: 'state:change', listener: () => void): unknown;
}

/** How a wait ended: the tasks still running past its bound, with their nodes. */
export interface TaskEnds {
  readonly waited: number;
  readonly stillRunning: readonly { readonly id: string; readonly nodeId: string | null }[];
}

/** The tasks of a removal to wait for: live ones (not ended). */
export function liveTaskIds(tasks: readonly TaskRecord[]): string[] {
  return tasks.filter((t) => !isTerminal(t.state)).map((t) => t.id);
}

/**
 * Resolves once every task in `ids` has ended or is gone, or when `timeoutMs` passes (or the
 * signal aborts: then it resolves with what is left, as a timeout does).
 * @example const { stillRunning } = await waitForTaskEnds(store, ids, 60_000);
 */
export function waitForTaskEnds(
  watch: TaskWatch,
  ids: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<TaskEnds> {
  const left = (): TaskRecord[] =>
    ids.map((id) => watch.task(id)).filter((t): t is TaskRecord => t !== undefined && !isTerminal(t.state));
  const result = (): TaskEnds => ({
    waited: ids.length,
    stillRunning: left().map((t) => ({ id: t.id, nodeId: t.nodeId })),
  });
  if (left().length === 0 || signal?.aborted === true) return Promise.resolve(result());
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      watch.off('state:change', check);
      signal?.removeEventListener('abort', finish);
      resolve(result());
    };
    const check = (): void => {
      if (left().length === 0) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    watch.on('state:change', check);
    signal?.addEventListener('abort', finish, { once: true });
  });
}
