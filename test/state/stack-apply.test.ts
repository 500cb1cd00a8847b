import { ClusterStateMachine, decodeState, encodeState, type Command } from '../../src/state/index.js';
import { T0, init, peerId, register } from './helpers.js';
import {
  WEB,
  apiTasks,
  applyAll,
  applyNext,
  deployOf,
  deployed,
  reportOf,
  running,
  stackSpec,
  stamp,
  withSpec,
} from './workload-helpers.js';

const api = WEB.services.api!;

describe('stack.deploy', () => {
  it('creates each service at version 1 with the spec replicas, and the stack record', () => {
    const machine = deployed();
    expect(machine.stacks()).toEqual([
      { name: 'web', services: ['web_agent', 'web_api', 'web_batch'], createdAt: T0 + 10, updatedAt: T0 + 10 },
    ]);
    expect(machine.service('web_api')).toEqual({
      id: 'web_api',
      stack: 'web',
      name: 'api',
      spec: api,
      specHash: deployOf(WEB, 0).services.find((s) => s.name === 'api')!.specHash,
      version: 1,
      replicas: 2,
      vip: '10.253.0.3',
      createdAt: T0 + 10,
      updatedAt: T0 + 10,
      // Its first rollout, and its history (issue 15).
      rollout: expect.objectContaining({ state: 'updating', fromVersion: 0, toVersion: 1, startedAt: T0 + 10 }),
      history: [{ version: 1, spec: api, specHash: expect.any(String), force: 0, createdAt: T0 + 10, stable: false }],
    });
    expect(machine.services().map((s) => [s.id, s.spec.kind, s.replicas])).toEqual([
      ['web_agent', 'global', 0],
      ['web_api', 'replicated', 2],
      ['web_batch', 'job', 0],
    ]);
  });

  it('bumps the version of a changed service, replaces its spec and resets its replicas', () => {
    const machine = deployed();
    applyAll(machine, [stamp({ type: 'service.scale', serviceId: 'web_api', replicas: 7 }, T0 + 20)]);
    const agent = machine.service('web_agent');
    const changed = withSpec(api, { image: 'nginx:1.28' });
    applyAll(machine, [deployOf(WEB, T0 + 30, { ...WEB.services, api: changed })]);
    expect(machine.service('web_api')).toMatchObject({
      version: 2,
      replicas: 2,
      updatedAt: T0 + 30,
      createdAt: T0 + 10,
    });
    expect(machine.service('web_api')!.spec.image).toBe('nginx:1.28');
    // Unchanged services are untouched: the very same record.
    expect(machine.service('web_agent')).toBe(agent);
    expect(machine.stack('web')).toMatchObject({ createdAt: T0 + 10, updatedAt: T0 + 30 });
  });

  it('changes nothing when redeployed unchanged: same state object, same snapshot but for the index', () => {
    const machine = running();
    applyAll(machine, [reportOf(1, 'web-api-1', 1, 'running', T0 + 40)]);
    const before = machine.state();
    const bytes = machine.snapshot();
    const index = machine.appliedIndex;
    expect(applyNext(machine, deployOf(WEB, T0 + 50))).toEqual({ ok: true, index: index + 1, type: 'stack.deploy' });
    expect(machine.state()).toBe(before);
    expect(encodeState(machine.state(), index)).toEqual(bytes);
    expect(machine.snapshot()).not.toEqual(bytes); // only the applied index moved
    expect(decodeState(machine.snapshot()).state).toEqual(decodeState(bytes).state);
  });

  it('removes services dropped from the file: their unfinished tasks are asked to shut down and stay', () => {
    const machine = running();
    applyAll(machine, [reportOf(2, 'web-api-2', 2, 'failed', T0 + 40, { exitCode: 1 })]);
    const failed = machine.task('web-api-2');
    const { api: _dropped, ...rest } = WEB.services;
    applyAll(machine, [deployOf(WEB, T0 + 50, rest)]);
    expect(machine.service('web_api')).toBeUndefined();
    expect(machine.stack('web')).toMatchObject({ services: ['web_agent', 'web_batch'], updatedAt: T0 + 50 });
    expect(machine.task('web-api-1')).toMatchObject({
      desiredState: 'shutdown',
      state: 'assigned',
      updatedAt: T0 + 50,
    });
    expect(machine.task('web-api-2')).toBe(failed); // terminal: untouched
    expect(machine.tasksOfService('web_api').map((t) => t.id)).toEqual(['web-api-1', 'web-api-2']);
  });

  it('refuses a service whose id another stack has, leaving no trace', () => {
    // Stack "web_api" with service "x" would be "web_api_x"; stack "web" with "api_x" too.
    const machine = deployed();
    const other = stackSpec('services:\n  x:\n    image: busybox\n', 'web_api');
    applyAll(machine, [deployOf(other, T0 + 20)]);
    const before = machine.state();
    const clash = stackSpec('services:\n  api_x:\n    image: busybox\n', 'web');
    const result = applyNext(machine, deployOf(clash, T0 + 30));
    expect(result).toMatchObject({
      ok: false,
      reason: 'refused',
      error:
        'stack.deploy: service api_x would have the id web_api_x, which service x of stack web_api has: rename the service or the stack',
    });
    expect(machine.state()).toBe(before);
  });

  it('is refused before cluster.init', () => {
    const machine = new ClusterStateMachine();
    expect(applyNext(machine, deployOf(WEB, T0))).toMatchObject({
      ok: false,
      error: 'stack.deploy: the cluster is not initialized yet: the first command must be cluster.init',
    });
  });
});

describe('stack.remove', () => {
  it('removes the stack and its services; unfinished tasks are asked to shut down', () => {
    const machine = running();
    applyAll(machine, [stamp({ type: 'stack.remove', name: 'web' }, T0 + 40)]);
    expect(machine.stacks()).toEqual([]);
    expect(machine.services()).toEqual([]);
    expect(machine.servicesOfStack('web')).toEqual([]);
    expect(machine.tasks().map((t) => [t.id, t.desiredState, t.updatedAt])).toEqual([
      ['web-api-1', 'shutdown', T0 + 40],
      ['web-api-2', 'shutdown', T0 + 40],
    ]);
  });

  it('leaves other stacks alone', () => {
    const machine = deployed();
    const other = stackSpec('services:\n  db:\n    image: postgres\n', 'data');
    applyAll(machine, [deployOf(other, T0 + 20), stamp({ type: 'stack.remove', name: 'web' }, T0 + 30)]);
    expect(machine.stacks().map((s) => s.name)).toEqual(['data']);
    expect(machine.servicesOfStack('data').map((s) => s.id)).toEqual(['data_db']);
  });
});

describe('service.scale', () => {
  it('sets the replicas of a replicated service', () => {
    const machine = deployed();
    applyAll(machine, [stamp({ type: 'service.scale', serviceId: 'web_api', replicas: 0 }, T0 + 20)]);
    expect(machine.service('web_api')).toMatchObject({ replicas: 0, version: 1, updatedAt: T0 + 20 });
  });

  it('changes nothing when the replicas are already right', () => {
    const machine = deployed();
    const before = machine.state();
    applyAll(machine, [stamp({ type: 'service.scale', serviceId: 'web_api', replicas: 2 }, T0 + 20)]);
    expect(machine.state()).toBe(before);
  });
});

describe('refusals of stack and service commands', () => {
  it.each<[string, Command, string]>([
    [
      'removing an unknown stack',
      stamp({ type: 'stack.remove', name: 'nope' }, T0 + 20),
      'stack.remove: stack nope is not deployed: check the name with `shoal stack ls`',
    ],
    [
      'scaling an unknown service',
      stamp({ type: 'service.scale', serviceId: 'web_db', replicas: 1 }, T0 + 20),
      'service.scale: service web_db does not exist: check the id with `shoal service ls`',
    ],
    [
      'scaling a global service',
      stamp({ type: 'service.scale', serviceId: 'web_agent', replicas: 1 }, T0 + 20),
      'service.scale: service web_agent is a global service: only replicated services have a replica count',
    ],
    [
      'scaling a job',
      stamp({ type: 'service.scale', serviceId: 'web_batch', replicas: 1 }, T0 + 20),
      'service.scale: service web_batch is a job service: only replicated services have a replica count',
    ],
  ])('%s', (_what, command, error) => {
    const machine = deployed();
    const before = machine.state();
    expect(applyNext(machine, command)).toEqual({ ok: false, index: 6, reason: 'refused', error });
    expect(machine.state()).toBe(before);
  });
});

describe('node status', () => {
  it('is ready from registration', () => {
    const machine = new ClusterStateMachine();
    applyAll(machine, [init(), register(1, T0 + 5)]);
    expect(machine.node(peerId(1))).toMatchObject({ status: 'ready', statusChangedAt: T0 + 5 });
  });

  it('stays down when a down node registers again: the health controller decides', () => {
    const machine = deployed();
    applyAll(machine, [
      stamp({ type: 'node.setStatus', id: peerId(1), status: 'down' }, T0 + 20),
      register(1, T0 + 30),
    ]);
    expect(machine.node(peerId(1))).toMatchObject({ status: 'down', statusChangedAt: T0 + 20, updatedAt: T0 + 30 });
  });

  it('changes statusChangedAt only on a change', () => {
    const machine = deployed();
    const before = machine.state();
    applyAll(machine, [stamp({ type: 'node.setStatus', id: peerId(1), status: 'ready' }, T0 + 20)]);
    expect(machine.state()).toBe(before);
    applyAll(machine, [stamp({ type: 'node.setStatus', id: peerId(1), status: 'down' }, T0 + 30)]);
    applyAll(machine, [stamp({ type: 'node.setStatus', id: peerId(1), status: 'ready' }, T0 + 40)]);
    expect(machine.node(peerId(1))).toMatchObject({ status: 'ready', statusChangedAt: T0 + 40 });
  });

  it('refuses an unknown node', () => {
    const machine = deployed();
    expect(applyNext(machine, stamp({ type: 'node.setStatus', id: peerId(9), status: 'down' }, T0))).toMatchObject({
      ok: false,
      error: `node.setStatus: node ${peerId(9)} is not a member of the cluster`,
    });
  });

  it('accessors see new task lists after a change, and the same cached list before', () => {
    const machine = deployed();
    expect(machine.tasks()).toEqual([]);
    applyAll(machine, [apiTasks()]);
    const tasks = machine.tasks();
    expect(machine.tasks()).toBe(tasks);
    expect(Object.isFrozen(tasks)).toBe(true);
    expect(tasks.map((t) => t.id)).toEqual(['web-api-1', 'web-api-2']);
  });
});
