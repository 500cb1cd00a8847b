import { planNode, recordFailure, strayKey, type TaskReport } from '../../src/runtime/index.js';
import { assignment, BASE_SPEC, container, serviceFromCompose, task, withPolicy } from './fixtures.js';
import { SimEngine } from './sim-engine.js';

const NODE = 'node-a';
const onFailure = withPolicy(BASE_SPEC, { condition: 'on-failure', delayMs: 100, maxAttempts: 3, windowMs: 0 });
const states = (rs: readonly TaskReport[]) => rs.map((r) => r.state);

describe('planNode() single passes', () => {
  it('planNode() creates the container of a task assigned here and reports preparing', () => {
    const a = assignment(task({ id: 't1' }));
    const r = planNode({ nodeId: NODE, desired: [a], observed: [], now: 0, memory: {} });
    expect(r.actions).toEqual([{ type: 'create', key: 't1', taskId: 't1', assignment: a }]);
    expect(r.reports).toEqual([
      {
        taskId: 't1',
        generation: 1,
        state: 'preparing',
        message: 'creating container',
        exitCode: null,
        containerId: null,
        restarts: 0,
      },
    ]);
  });

  it('planNode() ignores tasks assigned to other nodes and containers labelled for other nodes', () => {
    const a = assignment(task({ id: 't1', nodeId: 'node-b' }));
    const foreign = container({ id: 'x', taskId: 't9', nodeId: 'node-b' });
    const r = planNode({ nodeId: NODE, desired: [a], observed: [foreign], now: 0, memory: {} });
    expect(r.actions).toEqual([]);
    expect(r.reports).toEqual([]);
  });

  it.each([
    ['none', 'running', ''],
    ['starting', 'starting', 'health: starting'],
    ['healthy', 'running', ''],
  ] as const)('planNode() maps a running container with health %s to %s', (health, state, message) => {
    const a = assignment(task({ id: 't1', state: 'assigned' }));
    const c = container({ id: 'c1', taskId: 't1', health });
    const r = planNode({ nodeId: NODE, desired: [a], observed: [c], now: 0, memory: {} });
    expect(r.actions).toEqual([]);
    expect(r.reports).toEqual([
      { taskId: 't1', generation: 1, state, message, exitCode: null, containerId: 'c1', restarts: 0 },
    ]);
  });

  it('planNode() re-adopts a running container after an agent restart without touching it', () => {
    const a = assignment(task({ id: 't1', state: 'running', restarts: 4, containerId: 'c1' }));
    const r = planNode({
      nodeId: NODE,
      desired: [a],
      observed: [container({ id: 'c1', taskId: 't1' })],
      now: 0,
      memory: {},
    });
    expect(r.actions).toEqual([]);
    expect(r.reports[0]).toMatchObject({ state: 'running', restarts: 4, containerId: 'c1' });
    expect(r.memory.t1).toMatchObject({ restarts: 4, created: true, reachedRunning: true });
  });

  it('planNode() restarts by policy a container that exited while the agent was down', () => {
    const a = assignment(task({ id: 't1', state: 'running' }), onFailure);
    const c = container({ id: 'c1', taskId: 't1', status: 'exited', exitCode: 3, startedAt: 0, finishedAt: 50 });
    const r = planNode({ nodeId: NODE, desired: [a], observed: [c], now: 1000, memory: {} });
    expect(r.actions).toEqual([]);
    expect(r.reports[0]).toMatchObject({
      state: 'running',
      exitCode: 3,
      message: 'exited with code 3; restarting in 100ms (restart 1 of 3)',
    });
    expect(r.nextWakeAt).toBe(1100);
    const later = planNode({ nodeId: NODE, desired: [a], observed: [c], now: 1100, memory: r.memory });
    expect(later.actions).toEqual([{ type: 'start', key: 't1', taskId: 't1', containerId: 'c1' }]);
    expect(later.reports[0]).toMatchObject({ restarts: 1 });
  });

  it('planNode() never restarts a task whose record is already terminal', () => {
    const a = assignment(task({ id: 't1', state: 'failed' }));
    const c = container({ id: 'c1', taskId: 't1', status: 'exited', exitCode: 1, finishedAt: 5 });
    const r = planNode({ nodeId: NODE, desired: [a], observed: [c], now: 10_000_000, memory: {} });
    expect(r.actions).toEqual([]);
    expect(r.reports).toEqual([]);
  });

  it('planNode() stops a container still running for a task whose record went terminal', () => {
    const a = assignment(task({ id: 't1', state: 'failed' }));
    const r = planNode({
      nodeId: NODE,
      desired: [a],
      observed: [container({ id: 'c1', taskId: 't1' })],
      now: 0,
      memory: {},
    });
    expect(r.actions.map((x) => x.type)).toEqual(['stop']);
  });

  it.each([
    ['not assigned here any more', [], 'task t1 is not assigned to this node any more (fenced)'],
    [
      'assigned with a newer generation',
      [assignment(task({ id: 't1', generation: 2 }))],
      'task t1 generation 1 was superseded by generation 2 (fenced)',
    ],
  ])('planNode() stops and removes the container of a task %s', (_what, desired, reason) => {
    const c = container({ id: 'c1', taskId: 't1', generation: 1 });
    const r = planNode({ nodeId: NODE, desired, observed: [c], now: 0, memory: {} });
    const own = r.actions.filter((x) => x.key === strayKey('c1'));
    expect(own).toEqual([
      {
        type: 'stop',
        key: 'container:c1',
        taskId: 't1',
        containerId: 'c1',
        graceMs: 10_000,
        signal: 'SIGTERM',
        reason,
      },
      { type: 'remove', key: 'container:c1', taskId: 't1', containerId: 'c1', reason },
    ]);
    expect(r.reports.filter((x) => x.generation === 1 && x.taskId === 't1')).toEqual([]);
  });

  it('planNode() removes a container of this node without valid task labels', () => {
    const c = container({ id: 'c1', taskId: null, generation: null, status: 'exited', exitCode: 0 });
    const r = planNode({ nodeId: NODE, desired: [], observed: [c], now: 0, memory: {} });
    expect(r.actions).toEqual([
      {
        type: 'remove',
        key: 'container:c1',
        taskId: null,
        containerId: 'c1',
        reason: 'container has no valid shoal task labels',
      },
    ]);
  });

  it('planNode() keeps the live one of duplicate containers and removes the rest', () => {
    const a = assignment(task({ id: 't1' }));
    const live = container({ id: 'c2', taskId: 't1', startedAt: 10 });
    const old = container({ id: 'c1', taskId: 't1', status: 'exited', exitCode: 0, startedAt: 50, finishedAt: 60 });
    const r = planNode({ nodeId: NODE, desired: [a], observed: [old, live], now: 100, memory: {} });
    expect(r.actions).toEqual([
      {
        type: 'remove',
        key: 'container:c1',
        taskId: 't1',
        containerId: 'c1',
        reason: 'duplicate container for task t1',
      },
    ]);
    expect(r.reports[0]).toMatchObject({ state: 'running', containerId: 'c2' });
  });

  it('planNode() leaves busy tasks and containers alone and keeps their memory', () => {
    const a = assignment(task({ id: 't1' }));
    const first = planNode({ nodeId: NODE, desired: [a], observed: [], now: 0, memory: {} });
    const stray = container({ id: 'c9', taskId: 'gone' });
    const r = planNode({
      nodeId: NODE,
      desired: [a],
      observed: [stray],
      now: 1,
      memory: first.memory,
      busy: new Set(['t1', strayKey('c9')]),
    });
    expect(r.actions).toEqual([]);
    expect(r.reports).toEqual([]);
    expect(r.memory.t1).toBe(first.memory.t1);
  });

  it('planNode() forgets the memory of tasks no longer assigned', () => {
    const a = assignment(task({ id: 't1' }));
    const first = planNode({ nodeId: NODE, desired: [a], observed: [], now: 0, memory: {} });
    expect(planNode({ nodeId: NODE, desired: [], observed: [], now: 1, memory: first.memory }).memory).toEqual({});
  });

  it('planNode() never reports a live state below the record (a vanished container of a running task)', () => {
    const a = assignment(task({ id: 't1', state: 'running' }));
    const r = planNode({ nodeId: NODE, desired: [a], observed: [], now: 0, memory: {} });
    expect(r.actions.map((x) => x.type)).toEqual(['create']);
    expect(r.reports[0]!.state).toBe('running');
  });

  it('planNode() starts a container left created (the agent died between create and start)', () => {
    const a = assignment(task({ id: 't1', state: 'preparing' }));
    const c = container({ id: 'c1', taskId: 't1', status: 'created', startedAt: null });
    const r = planNode({ nodeId: NODE, desired: [a], observed: [c], now: 0, memory: {} });
    expect(r.actions).toEqual([{ type: 'start', key: 't1', taskId: 't1', containerId: 'c1' }]);
  });

  it('planNode() plans nothing new when nothing changed (idempotent)', () => {
    const a = assignment(task({ id: 't1' }));
    const c = container({ id: 'c1', taskId: 't1' });
    const once = planNode({ nodeId: NODE, desired: [a], observed: [c], now: 0, memory: {} });
    const twice = planNode({ nodeId: NODE, desired: [a], observed: [c], now: 5, memory: once.memory });
    expect(twice.actions).toEqual([]);
    expect(twice.reports).toEqual(once.reports);
  });
});

describe('planNode() scenarios on virtual time', () => {
  it('planNode() restarts a failing container with growing back-off, then fails it after max_attempts', () => {
    const sim = new SimEngine(NODE, [assignment(task({ id: 't1' }), onFailure)]);
    expect(states(sim.settle())).toEqual(['running']);
    const startedAt: number[] = [sim.of('t1')!.startedAt!];
    for (let i = 0; i < 3; i++) {
      sim.now += 10;
      sim.exit('t1', 1);
      const { reports, nextWakeAt } = sim.pass();
      expect(reports[0]).toMatchObject({ state: 'running', exitCode: 1, restarts: i });
      sim.now = nextWakeAt! - 1;
      expect(sim.pass().actions).toEqual([]); // not yet due
      sim.now = nextWakeAt!;
      expect(sim.pass().actions.map((a) => a.type)).toEqual(['start']);
      startedAt.push(sim.of('t1')!.startedAt!);
    }
    const gaps = startedAt.slice(1).map((t, i) => t - startedAt[i]! - 10);
    expect(gaps).toEqual([100, 200, 400]);
    sim.now += 10;
    sim.exit('t1', 7);
    const { reports, actions } = sim.pass();
    expect(actions).toEqual([]);
    expect(reports).toEqual([
      {
        taskId: 't1',
        generation: 1,
        state: 'failed',
        message: 'exited with code 7; gave up after 3 restarts (max_attempts 3)',
        exitCode: 7,
        containerId: 'c1',
        restarts: 3,
      },
    ]);
    sim.now += 1_000_000;
    expect(sim.pass().actions).toEqual([]);
  });

  it('planNode() reports complete on exit 0 under on-failure and keeps the container', () => {
    const sim = new SimEngine(NODE, [assignment(task({ id: 't1' }), onFailure)]);
    sim.settle();
    sim.exit('t1', 0);
    const { reports, actions } = sim.pass();
    expect(actions).toEqual([]);
    expect(reports[0]).toMatchObject({ state: 'complete', exitCode: 0, message: 'exited with code 0' });
    expect(sim.of('t1')).toBeDefined();
  });

  it('planNode() restarts on exit 0 under condition any', () => {
    const sim = new SimEngine(NODE, [assignment(task({ id: 't1' }), withPolicy(BASE_SPEC, { delayMs: 0 }))]);
    sim.settle();
    sim.exit('t1', 0);
    expect(sim.pass().actions.map((a) => a.type)).toEqual(['start']);
    expect(sim.of('t1')!.status).toBe('running');
  });

  it('planNode() reports an OOM kill as such', () => {
    const sim = new SimEngine(NODE, [assignment(task({ id: 't1' }), withPolicy(BASE_SPEC, { condition: 'none' }))]);
    sim.settle();
    sim.exit('t1', 137, true);
    expect(sim.pass().reports[0]).toMatchObject({
      state: 'failed',
      message: 'killed: out of memory (exit code 137) (restart policy: none)',
    });
  });

  it('planNode() waits for health, stops an unhealthy container once, and restarts it by policy', () => {
    const spec = withPolicy(
      serviceFromCompose('image: shoal-test/busybox:latest\nhealthcheck:\n  test: ["CMD", "true"]\n  interval: 1s'),
      { condition: 'on-failure', delayMs: 100, maxAttempts: 1 },
    );
    const sim = new SimEngine(NODE, [assignment(task({ id: 't1' }), spec)]);
    expect(states(sim.settle())).toEqual(['starting']);
    sim.health('t1', 'healthy');
    expect(states(sim.pass().reports)).toEqual(['running']);
    sim.health('t1', 'unhealthy', 'probe said no');
    // The stop is planned once; the sim carries it out at once (the container exits 143).
    const stop = sim.pass();
    expect(stop.actions).toMatchObject([
      { type: 'stop', graceMs: 10_000, signal: 'SIGTERM', reason: 'unhealthy: probe said no' },
    ]);
    sim.now += 1;
    const after = sim.pass();
    expect(after.reports[0]).toMatchObject({
      state: 'running',
      message: 'unhealthy (healthcheck failed: probe said no); restarting in 100ms (restart 1 of 1)',
    });
    sim.now += 100;
    expect(sim.pass().actions.map((a) => a.type)).toEqual(['start']);
    sim.health('t1', 'unhealthy', 'still no');
    sim.pass();
    sim.now += 1;
    expect(sim.pass().reports[0]).toMatchObject({
      state: 'failed',
      message: 'unhealthy (healthcheck failed: still no); gave up after 1 restart (max_attempts 1)',
    });
  });

  it('planNode() does not stop an unhealthy container twice while the stop is under way', () => {
    const a = assignment(task({ id: 't1' }));
    const c = container({ id: 'c1', taskId: 't1', health: 'unhealthy', startedAt: 5 });
    const first = planNode({ nodeId: NODE, desired: [a], observed: [c], now: 0, memory: {} });
    expect(first.actions.map((x) => x.type)).toEqual(['stop']);
    const second = planNode({ nodeId: NODE, desired: [a], observed: [c], now: 1, memory: first.memory });
    expect(second.actions).toEqual([]);
  });

  it('planNode() reports the stop reason the manager gave (the preemptor) as the message', () => {
    const t = task({ id: 't1' });
    const sim = new SimEngine(NODE, [assignment(t)]);
    sim.settle();
    const reason = 'preempted by job 17 (priority 500)';
    sim.desired = [assignment({ ...t, state: 'running', desiredState: 'shutdown', stopReason: reason })];
    expect(sim.pass().actions).toMatchObject([{ type: 'stop', reason: `task is ${reason}` }]);
    expect(sim.pass().reports[0]).toMatchObject({ state: 'shutdown', message: `stopped: ${reason}` });
  });

  it('planNode() gracefully stops a task desired shutdown, then removes it and reports shutdown with its exit code', () => {
    const spec = {
      ...serviceFromCompose('image: x\nstop_signal: SIGINT\nstop_grace_period: 3s'),
      deploy: onFailure.deploy,
    };
    const t = task({ id: 't1' });
    const sim = new SimEngine(NODE, [assignment(t, spec)]);
    sim.settle();
    sim.desired = [assignment({ ...t, state: 'running', desiredState: 'shutdown' }, spec)];
    const stop = sim.pass();
    expect(stop.actions).toMatchObject([{ type: 'stop', graceMs: 3000, signal: 'SIGINT' }]);
    expect(stop.reports).toEqual([]);
    const removed = sim.pass();
    expect(removed.actions.map((a) => a.type)).toEqual(['remove']);
    expect(removed.reports[0]).toMatchObject({
      state: 'shutdown',
      exitCode: 143,
      message: 'stopped: no longer wanted on this node',
    });
    expect(sim.containers).toEqual([]);
    expect(sim.pass().reports).toEqual(removed.reports);
  });

  it('planNode() removes the container of a completed task desired shutdown without reporting shutdown', () => {
    const t = task({ id: 't1', state: 'complete', desiredState: 'shutdown' });
    const c = container({ id: 'c1', taskId: 't1', status: 'exited', exitCode: 0, finishedAt: 9 });
    const r = planNode({ nodeId: NODE, desired: [assignment(t)], observed: [c], now: 10, memory: {} });
    expect(r.actions.map((a) => a.type)).toEqual(['remove']);
    expect(r.reports).toEqual([]);
  });

  it('planNode() treats a container removed outside shoal as a failed run', () => {
    const sim = new SimEngine(NODE, [assignment(task({ id: 't1' }), onFailure)]);
    sim.settle();
    sim.vanish('t1');
    const r = sim.pass();
    expect(r.reports[0]).toMatchObject({
      message: 'container was removed outside shoal; restarting in 100ms (restart 1 of 3)',
    });
    sim.now += 100;
    expect(sim.pass().actions.map((a) => a.type)).toEqual(['create']);
    expect(sim.memory.t1!.restarts).toBe(1);
  });

  it('planNode() reports rejected after a rejected create and never retries', () => {
    const sim = new SimEngine(NODE, [assignment(task({ id: 't1' }), onFailure)]);
    sim.failNext.set('t1', { kind: 'rejected', message: 'image "x" is not on this node' });
    sim.pass();
    const r = sim.pass();
    expect(r.actions).toEqual([]);
    expect(r.reports).toEqual([
      {
        taskId: 't1',
        generation: 1,
        state: 'rejected',
        message: 'image "x" is not on this node',
        exitCode: null,
        containerId: null,
        restarts: 0,
      },
    ]);
    sim.now += 1_000_000;
    expect(sim.pass().actions).toEqual([]);
  });

  it('planNode() retries a failed start with back-off', () => {
    const sim = new SimEngine(NODE, [assignment(task({ id: 't1' }), onFailure)]);
    sim.failNext.set('t1', { kind: 'failed', message: 'engine hiccup' });
    sim.pass();
    const r = sim.pass();
    expect(r.actions).toEqual([]);
    expect(r.reports[0]).toMatchObject({
      state: 'starting',
      message: 'could not start: engine hiccup; restarting in 100ms (restart 1 of 3)',
    });
    sim.now = r.nextWakeAt!;
    expect(sim.pass().actions.map((a) => a.type)).toEqual(['create']);
    expect(states(sim.pass().reports)).toEqual(['running']);
  });

  it('recordFailure() leaves terminal tasks alone', () => {
    const a = assignment(task({ id: 't1' }));
    const rejected = recordFailure({}, a, { kind: 'rejected', message: 'no' }, 0);
    expect(recordFailure(rejected, a, { kind: 'failed', message: 'again' }, 1)).toBe(rejected);
  });
});

describe('planNode() fencing by generation', () => {
  it('planNode() waits for the old generation container to go before creating the new one (same name)', () => {
    const a = assignment(task({ id: 't1', generation: 2 }));
    const old = container({ id: 'c1', taskId: 't1', generation: 1 });
    const first = planNode({ nodeId: NODE, desired: [a], observed: [old], now: 0, memory: {} });
    expect(first.actions.map((x) => `${x.type}:${x.key}`)).toEqual(['stop:container:c1', 'remove:container:c1']);
    const second = planNode({ nodeId: NODE, desired: [a], observed: [], now: 1, memory: first.memory });
    expect(second.actions.map((x) => x.type)).toEqual(['create']);
  });
});

describe('planNode() strays', () => {
  it('planNode() stops a stray the way its container asked to be stopped', () => {
    const c = container({ id: 'c1', taskId: 'old', stopSignal: 'SIGINT', stopGraceMs: 2000 });
    const r = planNode({ nodeId: NODE, desired: [], observed: [c], now: 0, memory: {} });
    expect(r.actions[0]).toMatchObject({ type: 'stop', signal: 'SIGINT', graceMs: 2000 });
  });
});

describe('planNode() tasks whose service is gone', () => {
  it('planNode() shuts down a task whose service record was removed, stopping it as its container asked', () => {
    const t = task({ id: 't1', state: 'running' });
    const c = container({ id: 'c1', taskId: 't1', stopSignal: 'SIGQUIT', stopGraceMs: 1500 });
    const first = planNode({ nodeId: NODE, desired: [{ task: t, service: null }], observed: [c], now: 0, memory: {} });
    expect(first.actions).toMatchObject([{ type: 'stop', key: 't1', signal: 'SIGQUIT', graceMs: 1500 }]);
    const exited = { ...c, status: 'exited' as const, exitCode: 0, finishedAt: 5 };
    const second = planNode({
      nodeId: NODE,
      desired: [{ task: t, service: null }],
      observed: [exited],
      now: 5,
      memory: first.memory,
    });
    expect(second.actions.map((a) => a.type)).toEqual(['remove']);
    expect(second.reports).toMatchObject([{ state: 'shutdown', exitCode: 0 }]);
  });

  it('planNode() never creates a container for a task without its service', () => {
    const r = planNode({
      nodeId: NODE,
      desired: [{ task: task({ id: 't1' }), service: null }],
      observed: [],
      now: 0,
      memory: {},
    });
    expect(r.actions).toEqual([]);
    expect(r.reports).toMatchObject([{ state: 'shutdown', exitCode: null }]);
  });
});
