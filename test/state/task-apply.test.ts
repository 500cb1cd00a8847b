import { ClusterStateMachine, type Command, type TaskRecord } from '../../src/state/index.js';
import { T0, peerId, register } from './helpers.js';
import { apiTasks, applyAll, applyNext, deployed, reportOf, running, stamp } from './workload-helpers.js';

const assign = (taskId: string, node: number, at: number, gpus: string[] = []): Command =>
  stamp({ type: 'task.assign', assignments: [{ taskId, nodeId: peerId(node), gpus }] }, at);
const setStatus = (node: number, status: 'ready' | 'down', at: number): Command =>
  stamp({ type: 'node.setStatus', id: peerId(node), status }, at);
const pinned = (id: string, node: number, at: number): Command =>
  stamp(
    { type: 'task.create', tasks: [{ id, serviceId: 'web_agent', slot: 0, serviceVersion: 1, nodeId: peerId(node) }] },
    at,
  );

describe('task.create', () => {
  it('creates pending tasks wanted running, with no node unless pinned', () => {
    const machine = deployed();
    applyAll(machine, [apiTasks(), pinned('web-agent-1', 3, T0 + 21)]);
    expect(machine.task('web-api-1')).toEqual<TaskRecord>({
      id: 'web-api-1',
      serviceId: 'web_api',
      slot: 1,
      serviceVersion: 1,
      nodeId: null,
      generation: 0,
      gpus: [],
      desiredState: 'running',
      state: 'pending',
      message: '',
      exitCode: null,
      containerId: null,
      restarts: 0,
      createdAt: T0 + 20,
      updatedAt: T0 + 20,
    });
    expect(machine.task('web-agent-1')).toMatchObject({ nodeId: peerId(3), state: 'pending', generation: 0 });
    expect(machine.tasksOnNode(peerId(3)).map((t) => t.id)).toEqual(['web-agent-1']);
    expect(machine.tasksOfService('web_api').map((t) => t.id)).toEqual(['web-api-1', 'web-api-2']);
  });

  it.each<[string, Command, string]>([
    [
      'an id that exists',
      stamp(
        {
          type: 'task.create',
          tasks: [
            { id: 'web-api-3', serviceId: 'web_api', slot: 3, serviceVersion: 1 },
            { id: 'web-api-1', serviceId: 'web_api', slot: 1, serviceVersion: 1 },
          ],
        },
        T0 + 30,
      ),
      'task.create: task web-api-1 exists already: task ids are never reused',
    ],
    [
      'an unknown service',
      stamp(
        {
          type: 'task.create',
          tasks: [
            { id: 'web-api-3', serviceId: 'web_api', slot: 3, serviceVersion: 1 },
            { id: 'x-1', serviceId: 'web_gone', slot: 1, serviceVersion: 1 },
          ],
        },
        T0 + 30,
      ),
      'task.create: task x-1: service web_gone does not exist: check the id with `shoal service ls`',
    ],
  ])('refuses the whole batch for %s', (_what, command, error) => {
    const machine = deployed();
    applyAll(machine, [apiTasks()]);
    const before = machine.state();
    expect(applyNext(machine, command)).toMatchObject({ ok: false, reason: 'refused', error });
    expect(machine.state()).toBe(before);
    expect(machine.task('web-api-3')).toBeUndefined();
  });
});

describe('task.assign', () => {
  it('assigns in order, stamping increasing generations from the counter', () => {
    const machine = running();
    expect(machine.task('web-api-1')).toMatchObject({
      nodeId: peerId(1),
      state: 'assigned',
      generation: 1,
      updatedAt: T0 + 30,
    });
    expect(machine.task('web-api-2')).toMatchObject({ nodeId: peerId(2), state: 'assigned', generation: 2 });
    expect(machine.state().counters).toEqual({ assignment: 2, job: 1 });
    expect(machine.tasksOnNode(peerId(1)).map((t) => t.id)).toEqual(['web-api-1']);
  });

  it('gives GPUs the node has, and clears the pending message', () => {
    const machine = deployed();
    const gpu = { index: 0, uuid: 'GPU-aa', name: 'H100', memoryBytes: 80 * 2 ** 30 };
    applyAll(machine, [
      register(4, T0 + 15, { resources: { cpus: 8, memoryBytes: 2 ** 34, gpus: [gpu] } }),
      apiTasks(),
      stamp({ type: 'task.pending', updates: [{ taskId: 'web-api-1', message: 'no GPU free' }] }, T0 + 25),
    ]);
    expect(machine.task('web-api-1')!.message).toBe('no GPU free');
    applyAll(machine, [assign('web-api-1', 4, T0 + 30, ['GPU-aa'])]);
    expect(machine.task('web-api-1')).toMatchObject({
      gpus: ['GPU-aa'],
      message: '',
      state: 'assigned',
      nodeId: peerId(4),
    });
  });

  it.each<[string, (m: ClusterStateMachine) => void, Command]>([
    ['an unknown task', () => {}, assign('web-api-9', 1, T0 + 30)],
    ['a task assigned already', (m) => applyAll(m, [assign('web-api-1', 1, T0 + 25)]), assign('web-api-1', 2, T0 + 30)],
    [
      'a task no longer wanted',
      (m) => applyAll(m, [stamp({ type: 'task.desire', taskIds: ['web-api-1'], desiredState: 'shutdown' }, T0 + 25)]),
      assign('web-api-1', 1, T0 + 30),
    ],
    ['a node that is not a member', () => {}, assign('web-api-1', 9, T0 + 30)],
    ['a node that is down', (m) => applyAll(m, [setStatus(1, 'down', T0 + 25)]), assign('web-api-1', 1, T0 + 30)],
    [
      'a task pinned to another node',
      (m) => applyAll(m, [pinned('web-agent-1', 2, T0 + 25)]),
      assign('web-agent-1', 1, T0 + 30),
    ],
    ['a GPU the node lacks', () => {}, assign('web-api-1', 1, T0 + 30, ['GPU-zz'])],
  ])('skips %s, changing nothing', (_what, setup, command) => {
    const machine = deployed();
    applyAll(machine, [apiTasks()]);
    setup(machine);
    const before = machine.state();
    expect(applyNext(machine, command)).toMatchObject({ ok: true, type: 'task.assign' });
    expect(machine.state()).toBe(before);
  });

  it('applies the valid assignments of a batch and skips the others', () => {
    const machine = deployed();
    applyAll(machine, [
      apiTasks(),
      stamp(
        {
          type: 'task.assign',
          assignments: [
            { taskId: 'web-api-2', nodeId: peerId(9), gpus: [] },
            { taskId: 'web-api-1', nodeId: peerId(3), gpus: [] },
          ],
        },
        T0 + 30,
      ),
    ]);
    expect(machine.task('web-api-1')).toMatchObject({ state: 'assigned', generation: 1 });
    expect(machine.task('web-api-2')).toMatchObject({ state: 'pending', generation: 0 });
    expect(machine.state().counters.assignment).toBe(1);
  });
});

describe('task.pending and task.desire', () => {
  it('task.pending sets the message of pending tasks only, and nothing when it is the same', () => {
    const machine = running();
    applyAll(machine, [pinned('web-agent-1', 3, T0 + 35)]);
    const update = (message: string, at: number) =>
      stamp(
        {
          type: 'task.pending',
          updates: [
            { taskId: 'web-agent-1', message },
            { taskId: 'web-api-1', message },
          ],
        },
        at,
      );
    applyAll(machine, [update('port 80 is taken on node-3', T0 + 40)]);
    expect(machine.task('web-agent-1')).toMatchObject({ message: 'port 80 is taken on node-3', updatedAt: T0 + 40 });
    expect(machine.task('web-api-1')!.message).toBe('');
    const before = machine.state();
    applyAll(machine, [update('port 80 is taken on node-3', T0 + 50)]);
    expect(machine.state()).toBe(before);
  });

  it('task.desire shuts tasks down but never wants a shut-down task running again', () => {
    const machine = running();
    applyAll(machine, [
      stamp({ type: 'task.desire', taskIds: ['web-api-1', 'web-api-9'], desiredState: 'shutdown' }, T0 + 40),
    ]);
    expect(machine.task('web-api-1')).toMatchObject({ desiredState: 'shutdown', updatedAt: T0 + 40 });
    const before = machine.state();
    applyAll(machine, [stamp({ type: 'task.desire', taskIds: ['web-api-1'], desiredState: 'running' }, T0 + 50)]);
    expect(machine.state()).toBe(before);
  });
});

describe('task.report', () => {
  it('moves a task forward and records what the runtime saw', () => {
    const machine = running();
    applyAll(machine, [
      reportOf(1, 'web-api-1', 1, 'preparing', T0 + 40, { containerId: null }),
      reportOf(1, 'web-api-1', 1, 'running', T0 + 50, { containerId: 'c1', message: 'started' }),
    ]);
    expect(machine.task('web-api-1')).toMatchObject({
      state: 'running',
      containerId: 'c1',
      message: 'started',
      updatedAt: T0 + 50,
    });
  });

  it('lets a report of the same state change the message, exit code, container and restarts', () => {
    const machine = running();
    applyAll(machine, [
      reportOf(1, 'web-api-1', 1, 'running', T0 + 40),
      reportOf(1, 'web-api-1', 1, 'running', T0 + 50, {
        restarts: 3,
        exitCode: 2,
        containerId: 'c2',
        message: 'restarted',
      }),
    ]);
    expect(machine.task('web-api-1')).toMatchObject({
      state: 'running',
      restarts: 3,
      exitCode: 2,
      containerId: 'c2',
      message: 'restarted',
    });
  });

  it.each<[string, Command]>([
    ['from another node', reportOf(2, 'web-api-1', 1, 'failed', T0 + 50)],
    ['of an older assignment', reportOf(1, 'web-api-1', 0, 'failed', T0 + 50)],
    ['of a newer assignment than the state knows', reportOf(1, 'web-api-1', 7, 'failed', T0 + 50)],
    ['that would move the state backwards', reportOf(1, 'web-api-1', 1, 'starting', T0 + 50)],
    ['of an unknown task', reportOf(1, 'web-api-9', 1, 'running', T0 + 50)],
    ['that says what the state holds already', reportOf(1, 'web-api-1', 1, 'running', T0 + 50)],
  ])('ignores a report %s without refusing the command', (_what, command) => {
    const machine = running();
    applyAll(machine, [reportOf(1, 'web-api-1', 1, 'running', T0 + 40)]);
    const before = machine.state();
    expect(applyNext(machine, command)).toMatchObject({ ok: true, type: 'task.report' });
    expect(machine.state()).toBe(before);
  });

  it('applies the current reports of a batch and ignores the stale ones', () => {
    const machine = running();
    const report = (taskId: string, generation: number, state: 'running' | 'failed') =>
      ({ taskId, generation, state, message: '', exitCode: null, containerId: 'c', restarts: 0 }) as const;
    applyAll(machine, [
      stamp(
        {
          type: 'task.report',
          nodeId: peerId(1),
          reports: [report('web-api-2', 2, 'failed'), report('web-api-1', 1, 'running')],
        },
        T0 + 40,
      ),
    ]);
    expect(machine.task('web-api-1')!.state).toBe('running');
    expect(machine.task('web-api-2')!.state).toBe('assigned'); // it is node 2's task
  });

  it('is ignored for a task orphaned by its node going down, even from that node', () => {
    const machine = running();
    applyAll(machine, [setStatus(1, 'down', T0 + 40), reportOf(1, 'web-api-1', 1, 'running', T0 + 50)]);
    expect(machine.task('web-api-1')).toMatchObject({ state: 'orphaned', desiredState: 'shutdown' });
  });
});

describe('node.setStatus down', () => {
  it('orphans the unfinished tasks of the node, and only those', () => {
    const machine = running();
    applyAll(machine, [
      pinned('web-agent-1', 1, T0 + 32),
      stamp(
        { type: 'task.create', tasks: [{ id: 'web-api-3', serviceId: 'web_api', slot: 3, serviceVersion: 1 }] },
        T0 + 33,
      ),
      assign('web-api-3', 1, T0 + 34),
      reportOf(1, 'web-api-3', 3, 'complete', T0 + 35, { exitCode: 0 }),
      reportOf(1, 'web-api-1', 1, 'running', T0 + 36),
    ]);
    const done = machine.task('web-api-3');
    const elsewhere = machine.task('web-api-2');
    applyAll(machine, [setStatus(1, 'down', T0 + 40)]);
    expect(machine.node(peerId(1))).toMatchObject({ status: 'down', statusChangedAt: T0 + 40 });
    for (const id of ['web-api-1', 'web-agent-1']) {
      expect(machine.task(id)).toMatchObject({
        state: 'orphaned',
        desiredState: 'shutdown',
        message: 'node down',
        updatedAt: T0 + 40,
      });
    }
    expect(machine.task('web-api-3')).toBe(done);
    expect(machine.task('web-api-2')).toBe(elsewhere);
  });

  it('does not revive orphaned tasks when the node is ready again', () => {
    const machine = running();
    applyAll(machine, [setStatus(1, 'down', T0 + 40), setStatus(1, 'ready', T0 + 50)]);
    expect(machine.task('web-api-1')!.state).toBe('orphaned');
  });

  it('node.remove orphans the tasks of the removed node too', () => {
    const machine = running();
    applyAll(machine, [stamp({ type: 'node.remove', id: peerId(2) }, T0 + 40)]);
    expect(machine.task('web-api-2')).toMatchObject({
      state: 'orphaned',
      desiredState: 'shutdown',
      message: 'node removed',
    });
    expect(machine.task('web-api-1')!.state).toBe('assigned');
  });
});

describe('task.remove', () => {
  it('collects terminal tasks and skips the others', () => {
    const machine = running();
    applyAll(machine, [
      reportOf(2, 'web-api-2', 2, 'failed', T0 + 40, { exitCode: 1 }),
      stamp({ type: 'task.remove', taskIds: ['web-api-1', 'web-api-2', 'web-api-9'] }, T0 + 50),
    ]);
    expect(machine.tasks().map((t) => t.id)).toEqual(['web-api-1']);
    expect(machine.tasksOnNode(peerId(2))).toEqual([]);
    const before = machine.state();
    applyAll(machine, [stamp({ type: 'task.remove', taskIds: ['web-api-1'] }, T0 + 60)]);
    expect(machine.state()).toBe(before);
  });
});
