import { isTerminal } from '../../src/state/workloads.js';
import { ofType, pass, run } from './support/loop.js';
import { World, spec } from './support/world.js';

/** Live tasks per slot must be exactly one for slots 1..n and none above. */
function expectReplicas(world: World, serviceId: string, n: number): void {
  const bySlot = world.liveBySlot(serviceId);
  expect([...bySlot.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  for (const [, tasks] of bySlot) expect(tasks).toHaveLength(1);
}

function cluster(nodes = 3): World {
  const w = new World();
  for (let i = 1; i <= nodes; i++) w.addNode(i);
  return w;
}

describe('reconcileReplicated() scaling', () => {
  it.each([
    [0, 3],
    [3, 5],
    [5, 2],
    [4, 0],
    [2, 2],
  ])('reconcileWorkloads() takes a service from %i to %i replicas, one live task per slot', (from, to) => {
    const w = cluster();
    const id = w.deploy('web', spec({ replicas: from }));
    run(w, 3);
    expectReplicas(w, id, from);
    w.scale(id, to);
    run(w, 4);
    expectReplicas(w, id, to);
    expect(w.tasksOf(id, (t) => t.state === 'running' && t.desiredState === 'running')).toHaveLength(to);
    expect(w.violations).toEqual([]);
  });

  it('reconcileWorkloads() scales down from the highest slots', () => {
    const w = cluster();
    const id = w.deploy('web', spec({ replicas: 5 }));
    run(w, 3);
    w.scale(id, 2);
    const commands = pass(w);
    const stopped = ofType(commands, 'task.desire')!.taskIds.map((t) => w.tasks[t]!.slot);
    expect(stopped).toEqual([5, 4, 3]);
    expect(ofType(commands, 'task.create')).toBeUndefined();
  });

  it('reconcileWorkloads() creates and assigns a new service in one pass', () => {
    const w = cluster();
    const id = w.deploy('web', spec({ replicas: 3 }));
    const commands = pass(w);
    expect(commands.map((c) => c.type)).toEqual(['task.create', 'task.assign']);
    expect(w.tasksOf(id).map((t) => [t.slot, t.state])).toEqual([
      [1, 'assigned'],
      [2, 'assigned'],
      [3, 'assigned'],
    ]);
    // Spread: one per node.
    expect(new Set(w.tasksOf(id).map((t) => t.nodeId)).size).toBe(3);
  });
});

describe('reconcileReplicated() node failures', () => {
  it('replaces orphaned tasks of a down node elsewhere and duplicates nothing when it returns', () => {
    const w = cluster();
    // Not rebalanced: a move back onto the returning node runs a slot twice for a while, by design
    // (test/controllers/rebalance/).
    const id = w.deploy('web', spec({ replicas: 3, rebalance: false }));
    run(w, 3);
    const victim = w.tasksOf(id)[0]!;
    const lost = victim.nodeId!;
    w.apply([{ type: 'node.setStatus', id: lost, status: 'down' }]);
    expect(w.tasks[victim.id]!.state).toBe('orphaned');
    run(w, 3);
    expectReplicas(w, id, 3);
    const replacement = w.liveBySlot(id).get(victim.slot)![0]!;
    expect(replacement.id).not.toBe(victim.id);
    expect(replacement.nodeId).not.toBe(lost);
    expect(replacement.state).toBe('running');

    // The node returns: its old container still runs but reports for the old task are fenced.
    w.apply([{ type: 'node.setStatus', id: lost, status: 'ready' }]);
    expect(w.report(lost, victim.id, victim.generation, 'running')).toBe(false);
    run(w, 3);
    expectReplicas(w, id, 3);
    expect(w.tasks[victim.id]!.state).toBe('orphaned');
  });

  it('moves the tasks of a drained node and places nothing new there', () => {
    const w = cluster();
    const id = w.deploy('web', spec({ replicas: 6 }));
    run(w, 3);
    const drained = w.tasksOf(id)[0]!.nodeId!;
    w.setNode(drained, { availability: 'drain' });
    run(w, 4);
    expectReplicas(w, id, 6);
    const live = [...w.liveBySlot(id).values()].flat();
    expect(live.every((t) => t.nodeId !== drained)).toBe(true);
    expect(w.tasksOf(id, (t) => t.nodeId === drained).every((t) => t.state === 'shutdown')).toBe(true);
  });

  it('leaves the tasks of a paused node running and places new ones elsewhere', () => {
    const w = cluster();
    const id = w.deploy('web', spec({ replicas: 3 }));
    run(w, 3);
    const paused = w.tasksOf(id)[0]!;
    w.setNode(paused.nodeId!, { availability: 'pause' });
    w.scale(id, 6);
    run(w, 3);
    expectReplicas(w, id, 6);
    expect(w.tasks[paused.id]!.state).toBe('running');
    expect(w.tasksOf(id, (t) => t.nodeId === paused.nodeId)).toHaveLength(1);
  });

  it('replaces the tasks of a node removed from the state', () => {
    const w = cluster();
    const id = w.deploy('web', spec({ replicas: 3 }));
    run(w, 3);
    const gone = w.tasksOf(id)[0]!;
    delete w.nodes[gone.nodeId!];
    const commands = pass(w);
    expect(ofType(commands, 'task.desire')!.taskIds).toEqual([gone.id]);
    expect(ofType(commands, 'task.create')!.tasks.map((t) => t.slot)).toEqual([gone.slot]);
  });
});

describe('reconcileReplicated() back-off', () => {
  it('waits a growing delay before replacing a crash-looping slot', () => {
    const w = cluster(1);
    const id = w.deploy('web', spec({ replicas: 1, restart: { delayMs: 5000, condition: 'any' } }));
    w.crashing.add(id);
    const creations: number[] = [];
    // 200 virtual seconds in 1 s steps; record when each task of the slot was created.
    for (let i = 0; i < 200; i++) {
      const c = ofType(pass(w), 'task.create');
      if (c !== undefined) creations.push(w.now);
      w.runtimes();
      w.tick(1000);
    }
    const gaps = creations.slice(1).map((t, i) => t - creations[i]!);
    // Each task fails as soon as it starts; the wait after each failure doubles: 5, 10, 20, 40, 80 s.
    expect(gaps.slice(0, 5)).toEqual([5000, 10000, 20000, 40000, 80000]);
    expect(w.tasksOf(id).filter((t) => !isTerminal(t.state)).length).toBeLessThanOrEqual(1);
  });

  it.each([
    ['none', 'failed', false],
    ['none', 'complete', false],
    ['on-failure', 'failed', true],
    ['on-failure', 'rejected', true],
    ['on-failure', 'complete', false],
    ['any', 'complete', true],
  ] as const)('with condition %s a task that ended %s is replaced: %s', (condition, ended, replaced) => {
    const w = cluster(1);
    const id = w.deploy('web', spec({ replicas: 1, restart: { condition, delayMs: 0 } }));
    run(w, 2);
    const t = w.tasksOf(id)[0]!;
    expect(w.report(t.nodeId!, t.id, t.generation, ended)).toBe(true);
    w.tick(60_000);
    const created = ofType(pass(w), 'task.create');
    expect(created !== undefined).toBe(replaced);
  });

  it('replaces a task lost with its node at once, without back-off', () => {
    const w = cluster(2);
    const id = w.deploy('web', spec({ replicas: 1, restart: { delayMs: 60_000 } }));
    run(w, 2);
    const t = w.tasksOf(id)[0]!;
    w.apply([{ type: 'node.setStatus', id: t.nodeId!, status: 'down' }]);
    expect(ofType(pass(w), 'task.create')!.tasks).toHaveLength(1);
  });
});

describe('reconcileReplicated() rolling update', () => {
  it.each([
    [1, 'stop-first'],
    [2, 'stop-first'],
    [2, 'start-first'],
    [3, 'start-first'],
  ] as const)('updates at most %i slots at a time (%s)', (parallelism, order) => {
    const w = cluster(3);
    const id = w.deploy('web', spec({ replicas: 6, update: { parallelism, order } }));
    run(w, 3);
    w.deploy('web', spec({ replicas: 6, image: 'nginx:2', update: { parallelism, order } }));
    let maxInFlight = 0;
    for (let i = 0; i < 40; i++) {
      pass(w);
      const bySlot = w.liveBySlot(id);
      // A slot is in flight when it is not exactly one running task.
      const inFlight = [1, 2, 3, 4, 5, 6].filter((s) => {
        const live = bySlot.get(s) ?? [];
        return !(live.length === 1 && live[0]!.state === 'running');
      }).length;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (order === 'stop-first') expect([...bySlot.values()].every((l) => l.length <= 1)).toBe(true);
      w.runtimes();
      w.tick(1000);
    }
    expect(maxInFlight).toBeGreaterThan(0);
    expect(maxInFlight).toBeLessThanOrEqual(parallelism);
    expectReplicas(w, id, 6);
    expect([...w.liveBySlot(id).values()].flat().every((t) => t.serviceVersion === 2 && t.state === 'running')).toBe(
      true,
    );
  });

  it('stop-first creates the new task only once the old one has stopped', () => {
    const w = cluster(2);
    const id = w.deploy('web', spec({ replicas: 1, update: { parallelism: 1, order: 'stop-first' } }));
    run(w, 2);
    const old = w.tasksOf(id)[0]!;
    w.deploy('web', spec({ replicas: 1, image: 'nginx:2', update: { parallelism: 1, order: 'stop-first' } }));
    expect(pass(w)).toEqual([{ type: 'task.desire', taskIds: [old.id], desiredState: 'shutdown' }]);
    expect(pass(w)).toEqual([]); // still stopping on its node
    w.report(old.nodeId!, old.id, old.generation, 'shutdown');
    expect(ofType(pass(w), 'task.create')!.tasks).toEqual([expect.objectContaining({ slot: 1, serviceVersion: 2 })]);
  });

  it('start-first keeps the old task until the new one runs', () => {
    const w = cluster(2);
    const id = w.deploy('web', spec({ replicas: 1, update: { parallelism: 1, order: 'start-first' } }));
    run(w, 2);
    const old = w.tasksOf(id)[0]!;
    w.deploy('web', spec({ replicas: 1, image: 'nginx:2', update: { parallelism: 1, order: 'start-first' } }));
    const first = pass(w);
    expect(ofType(first, 'task.desire')).toBeUndefined();
    const fresh = ofType(first, 'task.create')!.tasks[0]!;
    expect(pass(w)).toEqual([]); // the new one is assigned, not running yet
    const t = w.tasks[fresh.id]!;
    w.report(t.nodeId!, t.id, t.generation, 'running');
    expect(pass(w)).toEqual([{ type: 'task.desire', taskIds: [old.id], desiredState: 'shutdown' }]);
  });

  it('holds the update back while a new version keeps failing', () => {
    const w = cluster(3);
    const id = w.deploy('web', spec({ replicas: 4, update: { parallelism: 1, order: 'start-first' } }));
    run(w, 3);
    w.deploy('web', spec({ replicas: 4, image: 'broken', update: { parallelism: 1, order: 'start-first' } }));
    w.crashing.add(id);
    run(w, 60);
    const live = [...w.liveBySlot(id).values()].flat();
    // The old version keeps serving in every slot; only the first slot was tried.
    expect(live.filter((t) => t.serviceVersion === 1 && t.state === 'running')).toHaveLength(4);
    const tried = new Set(w.tasksOf(id, (t) => t.serviceVersion === 2).map((t) => t.slot));
    expect([...tried]).toEqual([1]);
  });
});
