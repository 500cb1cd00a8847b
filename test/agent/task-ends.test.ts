import { EventEmitter } from 'node:events';
import { liveTaskIds, waitForTaskEnds } from '../../src/agent/task-ends.js';
import type { TaskRecord, TaskState } from '../../src/state/workloads.js';

const task = (id: string, state: TaskState): TaskRecord => ({
  id,
  serviceId: 'web_api',
  slot: 1,
  serviceVersion: 1,
  nodeId: 'n1',
  generation: 1,
  gpus: [],
  desiredState: 'shutdown',
  state,
  message: '',
  exitCode: null,
  containerId: null,
  restarts: 0,
  createdAt: 0,
  updatedAt: 0,
});

/** A store whose tasks the test moves, emitting `state:change` as the real one does. */
class Tasks extends EventEmitter<{ 'state:change': [] }> {
  readonly byId = new Map<string, TaskRecord>();
  task(id: string): TaskRecord | undefined {
    return this.byId.get(id);
  }
  set(t: TaskRecord): void {
    this.byId.set(t.id, t);
    this.emit('state:change');
  }
}

describe('waitForTaskEnds', () => {
  it('waits for live tasks only, and resolves when the last one ends or is collected', async () => {
    const tasks = new Tasks();
    for (const t of [task('a', 'running'), task('b', 'starting'), task('c', 'complete')]) tasks.set(t);
    const ids = liveTaskIds([...tasks.byId.values()]);
    expect(ids).toEqual(['a', 'b']);
    const done = waitForTaskEnds(tasks, ids, 60_000);
    tasks.set(task('a', 'shutdown'));
    tasks.byId.delete('b');
    tasks.emit('state:change');
    await expect(done).resolves.toEqual({ waited: 2, stillRunning: [] });
    expect(tasks.listenerCount('state:change')).toBe(0);
  });

  it('names the tasks still running when its bound passes', async () => {
    const tasks = new Tasks();
    tasks.set(task('a', 'running'));
    tasks.set(task('b', 'running'));
    const done = waitForTaskEnds(tasks, ['a', 'b'], 20);
    tasks.set(task('b', 'failed'));
    await expect(done).resolves.toEqual({ waited: 2, stillRunning: [{ id: 'a', nodeId: 'n1' }] });
    expect(tasks.listenerCount('state:change')).toBe(0);
  });

  it('an aborted request stops waiting with what is left', async () => {
    const tasks = new Tasks();
    tasks.set(task('a', 'running'));
    const abort = new AbortController();
    const done = waitForTaskEnds(tasks, ['a'], 60_000, abort.signal);
    abort.abort();
    await expect(done).resolves.toEqual({ waited: 1, stillRunning: [{ id: 'a', nodeId: 'n1' }] });
  });
});
