import { isLive, reconcileGlobal } from '../../src/controllers/index.js';
import { ofType, pass, run } from './support/loop.js';
import { World, nid, spec } from './support/world.js';

/** Node ids with a live task of the service, sorted; fails on two live tasks on one node. */
function liveNodes(w: World, serviceId: string): string[] {
  const nodes = w.tasksOf(serviceId, isLive).map((t) => t.nodeId!);
  expect(new Set(nodes).size).toBe(nodes.length);
  return nodes.sort();
}

describe('reconcileGlobal()', () => {
  it('runs one task per node, pinned, and one on a node that joins later', () => {
    const w = new World();
    w.addNode(1);
    w.addNode(2);
    const id = w.deploy('agent', spec({ kind: 'global' }));
    const first = pass(w);
    expect(ofType(first, 'task.create')!.tasks.map((t) => [t.slot, t.nodeId])).toEqual([
      [0, nid(1)],
      [0, nid(2)],
    ]);
    // Assigned through the scheduler to exactly the node they are pinned to.
    expect(ofType(first, 'task.assign')!.assignments.map((a) => a.nodeId)).toEqual([nid(1), nid(2)]);
    run(w, 2);
    w.addNode(3);
    run(w, 3);
    expect(liveNodes(w, id)).toEqual([nid(1), nid(2), nid(3)]);
    expect(w.tasksOf(id).every((t) => t.state === 'running')).toBe(true);
  });

  it.each([
    ['drain', [nid(2)], 'shutdown'],
    ['pause', [nid(1), nid(2)], 'running'],
  ] as const)('on a %s node: live nodes %j, its task %s', (availability, expected, state) => {
    const w = new World();
    w.addNode(1);
    w.addNode(2);
    const id = w.deploy('agent', spec({ kind: 'global' }));
    run(w, 3);
    const onFirst = w.tasksOf(id, (t) => t.nodeId === nid(1))[0]!;
    w.setNode(nid(1), { availability });
    run(w, 3);
    expect(liveNodes(w, id)).toEqual(expected);
    expect(w.tasks[onFirst.id]!.state).toBe(state);
    // Back to active: the drained node gets a fresh task, the paused one keeps its own.
    w.setNode(nid(1), { availability: 'active' });
    run(w, 3);
    expect(liveNodes(w, id)).toEqual([nid(1), nid(2)]);
  });

  it('follows placement constraints, and stops tasks on nodes that stop matching', () => {
    const w = new World();
    w.addNode(1, { labels: { gpu: 'yes' } });
    w.addNode(2);
    w.addNode(3, { labels: { gpu: 'yes' } });
    const id = w.deploy(
      'miner',
      spec({ kind: 'global', constraints: [{ attribute: 'node.labels.gpu', op: '==', value: 'yes' }] }),
    );
    run(w, 3);
    expect(liveNodes(w, id)).toEqual([nid(1), nid(3)]);
    w.setNode(nid(3), { labels: {} });
    run(w, 3);
    expect(liveNodes(w, id)).toEqual([nid(1)]);
  });

  it('replaces the task of a node that went down once it is ready again, never twice', () => {
    const w = new World();
    w.addNode(1);
    w.addNode(2);
    const id = w.deploy('agent', spec({ kind: 'global' }));
    run(w, 3);
    w.apply([{ type: 'node.setStatus', id: nid(2), status: 'down' }]);
    run(w, 3);
    expect(liveNodes(w, id)).toEqual([nid(1)]);
    w.apply([{ type: 'node.setStatus', id: nid(2), status: 'ready' }]);
    run(w, 3);
    expect(liveNodes(w, id)).toEqual([nid(1), nid(2)]);
    expect(w.tasksOf(id, (t) => t.nodeId === nid(2)).map((t) => t.state)).toEqual(['orphaned', 'running']);
  });

  it('skips nodes that take no workloads', () => {
    const w = new World();
    w.addNode(1, { workloads: false });
    w.addNode(2);
    w.deploy('agent', spec({ kind: 'global' }));
    const plan = reconcileGlobal({ state: w.state, now: w.now, newId: w.newId });
    expect(plan.create.map((t) => t.nodeId)).toEqual([nid(2)]);
  });

  it('updates one node at a time with parallelism 1', () => {
    const w = new World();
    for (let i = 1; i <= 4; i++) w.addNode(i);
    const id = w.deploy('agent', spec({ kind: 'global', update: { parallelism: 1 } }));
    run(w, 3);
    w.deploy('agent', spec({ kind: 'global', image: 'agent:2', update: { parallelism: 1 } }));
    for (let i = 0; i < 30; i++) {
      pass(w);
      const notRunning = w.tasksOf(id, (t) => t.desiredState === 'running' && t.state !== 'running');
      const stopping = w.tasksOf(id, (t) => t.desiredState === 'shutdown' && t.state === 'running');
      expect(notRunning.length + stopping.length).toBeLessThanOrEqual(1);
      w.runtimes();
      w.tick(1000);
    }
    expect(w.tasksOf(id, (t) => t.state === 'running').map((t) => t.serviceVersion)).toEqual([2, 2, 2, 2]);
  });
});
