import { reconcileWorkloads } from '../../src/controllers/index.js';
import { ofType, pass, run } from './support/loop.js';
import { World, nid, spec } from './support/world.js';

describe('reconcileWorkloads()', () => {
  it('batches one command per type, in the order desire, create, assign, pending, remove', () => {
    const w = new World();
    w.addNode(1);
    w.addNode(2, { memoryBytes: 2 ** 20 });
    const old = w.deploy('old', spec({ replicas: 2 }));
    run(w, 2);
    w.scale(old, 1);
    w.deploy('web', spec({ replicas: 3 }));
    w.deploy('huge', spec({ replicas: 1, memoryBytes: 2 ** 40 }));
    const done = w.tasksOf(old)[0]!;
    w.report(done.nodeId!, done.id, done.generation, 'complete');
    const commands = reconcileWorkloads({ state: w.state, now: w.now, newId: w.newId, history: 0 });
    expect(commands.map((c) => c.type)).toEqual([
      'task.desire',
      'task.create',
      'task.assign',
      'task.pending',
      'task.remove',
    ]);
  });

  it('works off a huge difference over several bounded passes', () => {
    const w = new World();
    for (let i = 1; i <= 4; i++) w.addNode(i);
    const id = w.deploy('web', spec({ replicas: 2500 }));
    const limits = { creates: 1000, placements: 1000 };
    const first = pass(w, { limits });
    expect(ofType(first, 'task.create')!.tasks).toHaveLength(1000);
    expect(ofType(first, 'task.assign')!.assignments).toHaveLength(1000);
    pass(w, { limits });
    pass(w, { limits });
    expect(w.tasksOf(id)).toHaveLength(2500);
    expect(w.tasksOf(id, (t) => t.state === 'assigned')).toHaveLength(2500);
    expect(ofType(pass(w, { limits }), 'task.create')).toBeUndefined();
  });

  it('proposes only node status changes when a node goes down, and replaces its tasks next pass', () => {
    const w = new World();
    w.addNode(1);
    w.addNode(2);
    const id = w.deploy('web', spec({ replicas: 2 }));
    run(w, 2);
    const health = { lastHeartbeat: new Map([[nid(1), w.now]]), leaderSince: 0, graceMs: 5000 };
    const first = pass(w, { health });
    expect(first).toEqual([{ type: 'node.setStatus', id: nid(2), status: 'down' }]);
    const second = pass(w, { health });
    expect(ofType(second, 'task.create')!.tasks).toHaveLength(1);
    expect(ofType(second, 'task.assign')!.assignments[0]!.nodeId).toBe(nid(1));
    w.runtimes();
    expect(w.liveBySlot(id).size).toBe(2);
  });

  it('restarts cleanly on a new leader: the same state gives the same commands', () => {
    const make = (): World => {
      const w = new World();
      w.addNode(1);
      w.addNode(2);
      const id = w.deploy('web', spec({ replicas: 3, restart: { delayMs: 4000 } }));
      w.deploy('agent', spec({ kind: 'global' }));
      run(w, 3);
      w.crashing.add(id);
      const t = w.tasksOf(id)[0]!;
      w.report(t.nodeId!, t.id, t.generation, 'failed');
      w.scale(id, 5);
      return w;
    };
    const a = make();
    const b = make();
    // One leader has been running its loop; another just took over (fresh id source, no memory).
    const commandsA = reconcileWorkloads({ state: a.state, now: a.now, newId: a.newId });
    const commandsB = reconcileWorkloads({ state: b.state, now: b.now, newId: b.newId });
    expect(commandsB).toEqual(commandsA);
    // The new leader collects heartbeats first: nobody is marked down in its first grace period.
    const fresh = { lastHeartbeat: new Map<string, number>(), leaderSince: b.now, graceMs: 5000 };
    expect(reconcileWorkloads({ state: b.state, now: b.now + 4000, newId: b.newId, health: fresh })[0]!.type).not.toBe(
      'node.setStatus',
    );
  });

  it('proposes nothing for a converged cluster', () => {
    const w = new World();
    w.addNode(1);
    w.deploy('web', spec({ replicas: 2 }));
    w.deploy('agent', spec({ kind: 'global' }));
    run(w, 3);
    expect(pass(w)).toEqual([]);
  });
});
