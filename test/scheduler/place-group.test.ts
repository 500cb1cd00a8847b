import {
  Accounting,
  DEFAULT_WEIGHTS,
  GroupPipeline,
  groupTasks,
  type NodeView,
  type PlacedTask,
  placeGroup,
  schedule,
  type TaskRequest,
} from '../../src/scheduler/index.js';
import { planQueue, type QueuedTask, type RunningTask } from '../../src/scheduler/queue/index.js';
import { GiB, node, placed, tasks } from './fixtures.js';

/** The pipeline of the one group of `pending` on a fresh accounting. */
function pipelineOf(nodes: NodeView[], pending: TaskRequest[], running: PlacedTask[] = []): GroupPipeline {
  const [group, ...others] = groupTasks(pending);
  if (group === undefined || others.length > 0) throw new Error('expected one group');
  return new GroupPipeline(group, new Accounting({ nodes, tasks: running }), DEFAULT_WEIGHTS);
}

const claimOf = (p: GroupPipeline) => ({
  serviceId: p.group.serviceId,
  reservations: p.group.spec.reservations,
  ports: p.group.spec.ports,
});

describe('placeGroup()', () => {
  it('placeGroup() puts each task on the best node and records it on the accounting', () => {
    const pipeline = pipelineOf([node('a'), node('b'), node('c')], tasks(7, 'web'));
    const placed = placeGroup(pipeline, claimOf(pipeline));
    expect(placed.map((p) => p.node.view.id)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
    expect(pipeline.cluster.nodes.map((n) => n.taskCount)).toEqual([3, 2, 2]);
  });

  it('placeGroup() stops at the first task no node fits, and the pipeline says why', () => {
    const pipeline = pipelineOf([node('a'), node('b')], tasks(3, 'big', { reservations: { cpus: 3000 } }));
    const placed = placeGroup(pipeline, claimOf(pipeline));
    expect(placed.map((p) => p.node.view.id)).toEqual(['a', 'b']);
    expect(pipeline.explain().reason).toBe('no suitable node (insufficient cpu on 2 nodes)');
  });

  it('placeGroup() picks for a lone task the node the candidate tree would pick first', () => {
    const nodes = [node('a'), node('b', { resources: { cpus: 8000, memoryBytes: 16 * GiB } }), node('c')];
    const running = [placed('w1', 'b'), placed('w2', 'c')];
    const request = { reservations: { cpus: 1000 }, preferences: [{ spread: 'node.id' }] };
    const one = pipelineOf(nodes, tasks(1, 't', request), running);
    const many = pipelineOf(nodes, tasks(4, 't', request), running);
    expect(placeGroup(one, claimOf(one))[0]?.node.view.id).toBe(placeGroup(many, claimOf(many))[0]?.node.view.id);
  });

  it('placeGroup() places nothing for a group whose request is invalid', () => {
    const pipeline = pipelineOf([node('a')], tasks(2, 'bad', { constraints: ['node.role=='] }));
    expect(pipeline.group.error).toBeDefined();
    expect(placeGroup(pipeline, claimOf(pipeline))).toEqual([]);
  });
});

describe('planQueue() and schedule() share the placement loop', () => {
  const nodes = Array.from({ length: 12 }, (_, i) =>
    node(`n${String(i).padStart(2, '0')}`, {
      labels: { zone: `z${i % 3}` },
      resources: { cpus: (1 + (i % 4)) * 2000, memoryBytes: (1 + (i % 3)) * 4 * GiB },
    }),
  );
  const running = Array.from({ length: 10 }, (_, i) =>
    placed(`old-${i}`, nodes[(i * 5) % nodes.length]!.id, { reservations: { cpus: 500, memoryBytes: GiB } }),
  );
  it.each([
    [
      'spread over zones',
      { reservations: { cpus: 700, memoryBytes: GiB }, preferences: [{ spread: 'node.labels.zone' }] },
    ],
    ['binpack', { strategy: 'binpack' as const, reservations: { cpus: 900, memoryBytes: 2 * GiB } }],
    ['one per node', { maxReplicasPerNode: 1, reservations: { cpus: 100 } }],
  ])('planQueue() places a lone service (%s) where schedule() does', (_name, request) => {
    const pending = tasks(40, 'svc', request);
    const expected = schedule({ nodes, tasks: running }, pending).placements;
    const plan = planQueue({
      now: 0,
      nodes,
      running: running.map((t): RunningTask => ({
        ...t,
        priority: 500,
        jobId: null,
        namespace: null,
        startedAt: 0,
        timeLimitMs: 0,
        preemptible: false,
        terminating: false,
      })),
      pending: pending.map((t, i): QueuedTask => ({
        ...t,
        priority: 500,
        jobId: null,
        namespace: null,
        submittedAt: 0,
        timeLimitMs: 0,
        gang: null,
        index: i,
      })),
    });
    expect(expected.length).toBeGreaterThan(0);
    expect(plan.placements).toEqual(expected);
  });
});
