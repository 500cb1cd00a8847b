import { jest } from '@jest/globals';
import { assignmentsFor } from '../../src/runtime/index.js';
import { PersistentMap } from '../../src/state/persistent-map.js';
import { TaskTable } from '../../src/state/index.js';
import type { ServiceRecord } from '../../src/state/workloads.js';
import { BASE_SPEC, task } from './fixtures.js';

const service: ServiceRecord = {
  id: 'app_web',
  stack: 'app',
  name: 'web',
  spec: BASE_SPEC,
  specHash: 'h',
  version: 3,
  replicas: 1,
  createdAt: 0,
  updatedAt: 0,
};

describe('assignmentsFor()', () => {
  it('assignmentsFor() joins this node’s tasks with their services, sorted, and marks a gone service null', () => {
    const tasks = {
      b: task({ id: 'b', nodeId: 'n1' }),
      a: task({ id: 'a', nodeId: 'n1', state: 'complete' }),
      c: task({ id: 'c', nodeId: 'n2' }),
      d: task({ id: 'd', nodeId: null, state: 'pending' }),
      e: task({ id: 'e', nodeId: 'n1', serviceId: 'app_gone', desiredState: 'shutdown' }),
    };
    const out = assignmentsFor('n1', { tasks, services: { app_web: service } });
    expect(out.map((a) => [a.task.id, a.service?.id ?? null])).toEqual([
      ['a', 'app_web'],
      ['b', 'app_web'],
      ['e', null],
    ]);
    expect(out[0]!.service).toEqual({ id: 'app_web', stack: 'app', name: 'web', version: 3, spec: BASE_SPEC });
  });

  it('assignmentsFor() gives a task of an older version the spec of its version while the history keeps it', () => {
    const v2 = { ...BASE_SPEC, image: 'web:2' };
    const entry = (version: number, spec: typeof BASE_SPEC) =>
      ({ version, spec, specHash: `h${version}`, force: 0, createdAt: 0, stable: true }) as const;
    const rolling: ServiceRecord = { ...service, history: [entry(2, v2), entry(3, BASE_SPEC)] };
    const tasks = {
      old: task({ id: 'old', nodeId: 'n1', serviceVersion: 2 }),
      older: task({ id: 'older', nodeId: 'n1', serviceVersion: 1 }),
      now: task({ id: 'now', nodeId: 'n1', serviceVersion: 3 }),
    };
    const out = assignmentsFor('n1', { tasks, services: { app_web: rolling } });
    const byId = Object.fromEntries(out.map((a) => [a.task.id, a.service]));
    expect(byId.old).toMatchObject({ version: 2, spec: v2 });
    expect(byId.now).toMatchObject({ version: 3, spec: BASE_SPEC });
    // version 1 has left the history: the current spec, as before rollouts
    expect(byId.older).toMatchObject({ version: 3, spec: BASE_SPEC });
  });

  it('assignmentsFor() of a task table reads only this node’s tasks, and none again while they are unchanged', () => {
    const NODES = 100;
    const records = Array.from({ length: 20_000 }, (_, i) =>
      task({ id: `t${String(i).padStart(5, '0')}`, nodeId: `n${i % NODES}`, slot: i }),
    );
    const table = TaskTable.from(records);
    const services = { app_web: service };
    const read = jest.spyOn(PersistentMap.prototype, 'values');
    const scanAll = jest.spyOn(TaskTable.prototype, 'values');
    try {
      const tasksRead = (): number => read.mock.results.reduce((n, r) => n + (r.value as unknown[]).length, 0);
      const out = assignmentsFor('n7', { tasks: table, services });
      expect(out.map((a) => a.task.id)).toEqual(records.filter((t) => t.nodeId === 'n7').map((t) => t.id));
      expect(tasksRead()).toBe(200); // of 20,000
      // A change on another node: n7's group is the same trie, its sorted list is reused.
      read.mockClear();
      const next = table.set({ ...records[1]!, state: 'failed' });
      expect(assignmentsFor('n7', { tasks: next, services })).toEqual(out);
      expect(tasksRead()).toBe(0);
      expect(scanAll).not.toHaveBeenCalled();
    } finally {
      read.mockRestore();
      scanAll.mockRestore();
    }
  });
});
