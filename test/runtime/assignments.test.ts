import { assignmentsFor } from '../../src/runtime/index.js';
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
});
