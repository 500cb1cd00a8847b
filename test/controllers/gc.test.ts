import { collectTasks } from '../../src/controllers/index.js';
import { ofType, pass, run } from './support/loop.js';
import { World, spec } from './support/world.js';

describe('collectTasks()', () => {
  it('keeps the newest 5 ended tasks of a crash-looping slot', () => {
    const w = new World();
    w.addNode(1);
    const id = w.deploy('web', spec({ replicas: 1, restart: { delayMs: 0 } }));
    w.crashing.add(id);
    // With a 1 s floor and doubling, 8 failures need about 4 minutes of virtual time.
    run(w, 400, { history: 1_000_000 });
    const failed = w.tasksOf(id, (t) => t.state === 'failed');
    expect(failed.length).toBeGreaterThanOrEqual(8);
    const removed = collectTasks({ state: w.state });
    expect(removed).toHaveLength(failed.length - 5);
    const newest = [...failed]
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, 5)
      .map((t) => t.id);
    for (const keep of newest) expect(removed).not.toContain(keep);
  });

  it('keeps history per node for global services', () => {
    const w = new World();
    w.addNode(1);
    w.addNode(2);
    const id = w.deploy('agent', spec({ kind: 'global', restart: { delayMs: 0 } }));
    w.crashing.add(id);
    run(w, 200, { history: 1_000_000 });
    const removed = new Set(collectTasks({ state: w.state, history: 2 }));
    for (const node of Object.keys(w.nodes)) {
      const kept = w.tasksOf(id, (t) => t.nodeId === node && t.state === 'failed' && !removed.has(t.id));
      expect(kept).toHaveLength(2);
    }
  });

  it('removes the ended tasks of a removed service, and only once they ended', () => {
    const w = new World();
    w.addNode(1);
    const id = w.deploy('web', spec({ replicas: 2 }));
    run(w, 2);
    w.removeService(id);
    expect(collectTasks({ state: w.state })).toEqual([]);
    w.runtimes();
    expect(collectTasks({ state: w.state })).toEqual(
      w
        .tasksOf(id)
        .map((t) => t.id)
        .sort(),
    );
    expect(ofType(pass(w), 'task.remove')!.taskIds).toHaveLength(2);
    expect(w.tasksOf(id)).toEqual([]);
  });

  it('refuses a negative history', () => {
    expect(() => collectTasks({ state: new World().state, history: -1 })).toThrow(RangeError);
  });
});
