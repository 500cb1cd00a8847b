import {
  schedule,
  type NodeView,
  type Placement,
  type PlacedTask,
  type TaskRequest,
} from '../../src/scheduler/index.js';
import { GiB, node, placed, task, tasks } from './fixtures.js';

/** Tasks per node id. */
function perNode(placements: readonly Placement[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of placements) counts[p.nodeId] = (counts[p.nodeId] ?? 0) + 1;
  return counts;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('schedule()', () => {
  it('spreads replicas across nodes', () => {
    const { placements, unplaced } = schedule({ nodes: [node('a'), node('b'), node('c')], tasks: [] }, tasks(7, 'web'));
    expect(unplaced).toEqual([]);
    expect(perNode(placements)).toEqual({ a: 3, b: 2, c: 2 });
    // round robin in id order while counts tie
    expect(placements.slice(0, 3).map((p) => p.nodeId)).toEqual(['a', 'b', 'c']);
  });

  it('spreads replicas onto the nodes with fewest tasks of the service first, then fewest tasks', () => {
    const running = [
      placed('w1', 'a'),
      placed('o1', 'b', { serviceId: 'other' }),
      placed('o2', 'b', { serviceId: 'other' }),
    ];
    const { placements } = schedule({ nodes: [node('a'), node('b'), node('c')], tasks: running }, tasks(2, 'web'));
    expect(placements.map((p) => p.nodeId)).toEqual(['c', 'b']);
  });

  it('spreads replicas across zone label values before nodes', () => {
    const nodes = [
      node('eu1', { labels: { zone: 'eu' } }),
      node('eu2', { labels: { zone: 'eu' } }),
      node('eu3', { labels: { zone: 'eu' } }),
      node('us1', { labels: { zone: 'us' } }),
    ];
    const pending = tasks(6, 'web', { preferences: [{ spread: 'node.labels.zone' }] });
    const { placements } = schedule({ nodes, tasks: [] }, pending);
    expect(perNode(placements)).toEqual({ eu1: 1, eu2: 1, eu3: 1, us1: 3 });
    // without the preference the same tasks spread over nodes only
    expect(perNode(schedule({ nodes, tasks: [] }, tasks(6, 'web')).placements)).toEqual({
      eu1: 2,
      eu2: 2,
      eu3: 1,
      us1: 1,
    });
  });

  it('balances zones counting the tasks already there, then racks within them', () => {
    const nodes = [
      node('a', { labels: { zone: 'eu', rack: '1' } }),
      node('b', { labels: { zone: 'eu', rack: '2' } }),
      node('c', { labels: { zone: 'us', rack: '1' } }),
      node('d', { labels: { zone: 'us', rack: '1' } }),
    ];
    const running = [placed('w1', 'a'), placed('w2', 'a')];
    const pending = tasks(6, 'web', { preferences: [{ spread: 'node.labels.zone' }, { spread: 'node.labels.rack' }] });
    const { placements } = schedule({ nodes, tasks: running }, pending);
    // 8 tasks → 4 per zone; eu: rack 1 has 2 so rack 2 gets 2; us: one rack, spread over c and d
    expect(perNode(placements)).toEqual({ b: 2, c: 2, d: 2 });
  });

  it('binpack fills a node before the next', () => {
    const pending = tasks(6, 'batch', { strategy: 'binpack', reservations: { cpus: 1000, memoryBytes: GiB } });
    const { placements, unplaced } = schedule({ nodes: [node('a'), node('b'), node('c')], tasks: [] }, pending);
    expect(unplaced).toEqual([]);
    expect(placements.map((p) => p.nodeId)).toEqual(['a', 'a', 'a', 'a', 'b', 'b']);
  });

  it('binpack prefers the fullest node that fits', () => {
    const running = [placed('x', 'b', { serviceId: 'x', reservations: { cpus: 3000 } })];
    const pending = tasks(3, 'batch', { strategy: 'binpack', reservations: { cpus: 1000 } });
    const { placements } = schedule({ nodes: [node('a'), node('b'), node('c')], tasks: running }, pending);
    expect(placements.map((p) => p.nodeId)).toEqual(['b', 'a', 'a']);
  });

  it('never puts more than maxReplicasPerNode on a node', () => {
    const { placements, unplaced } = schedule(
      { nodes: [node('a'), node('b')], tasks: [placed('w0', 'a')] },
      tasks(4, 'web', { maxReplicasPerNode: 2 }),
    );
    expect(perNode(placements)).toEqual({ a: 1, b: 2 });
    expect(unplaced).toEqual([
      {
        taskId: 'web-3',
        reason: 'no suitable node (max replicas per node (2) reached on 2 nodes)',
        rejections: [
          { filter: 'max-per-node', detail: '2', nodes: 2, message: 'max replicas per node (2) reached on 2 nodes' },
        ],
      },
    ]);
  });

  it('does not give one host port twice on a node, nor a port the host uses', () => {
    const nodes = [node('a'), node('b', { portsInUse: [{ port: 80 }] }), node('c')];
    const { placements, unplaced } = schedule(
      { nodes, tasks: [placed('p', 'c', { serviceId: 'proxy', ports: [{ port: 80 }] })] },
      tasks(2, 'web', { ports: [{ port: 80 }] }),
    );
    expect(placements).toEqual([{ taskId: 'web-0', nodeId: 'a' }]);
    expect(unplaced.map((u) => u.reason)).toEqual(['no suitable node (host port 80/tcp in use on 3 nodes)']);
  });

  it('gives nothing to draining, paused or down nodes', () => {
    const nodes = [
      node('a', { availability: 'drain' }),
      node('b', { status: 'down' }),
      node('c', { availability: 'pause' }),
      node('d'),
    ];
    const { placements } = schedule({ nodes, tasks: [] }, tasks(5, 'web'));
    expect(perNode(placements)).toEqual({ d: 5 });
    const none = schedule({ nodes: nodes.slice(0, 3), tasks: [] }, tasks(1, 'web'));
    expect(none.unplaced[0]!.reason).toBe('no suitable node (1 node draining; 1 node down; 1 node paused)');
  });

  it('assigns GPUs as distinct devices and never shares one', () => {
    const gpuNode = node('g', {
      resources: { cpus: 8000, memoryBytes: 8 * GiB, gpus: ['gpu-0', 'gpu-1', 'gpu-2', 'gpu-3'] },
    });
    const running = [placed('old', 'g', { serviceId: 'train', gpus: ['gpu-1'] })];
    const pending = [
      ...tasks(2, 'infer', { serviceId: 'infer', reservations: { gpus: 1 } }),
      ...tasks(2, 'train', { serviceId: 'train', reservations: { gpus: 2 } }),
    ];
    const { placements, unplaced } = schedule({ nodes: [node('a'), gpuNode], tasks: running }, pending);
    expect(placements).toEqual([
      { taskId: 'infer-0', nodeId: 'g', gpus: ['gpu-0'] },
      { taskId: 'infer-1', nodeId: 'g', gpus: ['gpu-2'] },
    ]);
    expect(unplaced.map((u) => [u.taskId, u.reason])).toEqual([
      ['train-0', 'no suitable node (insufficient GPUs on 2 nodes)'],
      ['train-1', 'no suitable node (insufficient GPUs on 2 nodes)'],
    ]);
  });

  it('aggregates why a task is unplaced, per filter and reason', () => {
    const nodes: NodeView[] = [
      node('m1', { labels: { zone: 'eu' }, resources: { cpus: 4000, memoryBytes: GiB } }),
      node('m2', { labels: { zone: 'eu' }, resources: { cpus: 4000, memoryBytes: GiB } }),
      node('d1', { labels: { zone: 'eu' }, availability: 'drain' }),
      node('u1', { labels: { zone: 'us' } }),
      node('u2', { labels: { zone: 'us' } }),
      node('x1', {}),
    ];
    const { placements, unplaced } = schedule({ nodes, tasks: [] }, [
      task('t', { reservations: { memoryBytes: 2 * GiB }, constraints: ['node.labels.zone==eu'] }),
    ]);
    expect(placements).toEqual([]);
    expect(unplaced).toEqual([
      {
        taskId: 't',
        reason:
          'no suitable node (1 node draining; constraint node.labels.zone==eu not met on 3 nodes; insufficient memory on 2 nodes)',
        rejections: [
          { filter: 'availability', detail: 'drain', nodes: 1, message: '1 node draining' },
          {
            filter: 'constraints',
            detail: 'node.labels.zone==eu',
            nodes: 3,
            message: 'constraint node.labels.zone==eu not met on 3 nodes',
          },
          { filter: 'resources', detail: 'memory', nodes: 2, message: 'insufficient memory on 2 nodes' },
        ],
      },
    ]);
  });

  it('does not overbook a node within one batch, and explains the tasks left over', () => {
    const pending = tasks(5, 'web', { reservations: { memoryBytes: 3 * GiB } });
    const { placements, unplaced } = schedule(
      {
        nodes: [node('a'), node('b')],
        tasks: [placed('x', 'b', { serviceId: 'x', reservations: { memoryBytes: 4 * GiB } })],
      },
      pending,
    );
    expect(perNode(placements)).toEqual({ a: 2, b: 1 });
    expect(unplaced.map((u) => u.taskId)).toEqual(['web-3', 'web-4']);
    expect(unplaced[0]!.reason).toBe('no suitable node (insufficient memory on 2 nodes)');
  });

  it('places higher priority groups first', () => {
    const low = tasks(1, 'low', { serviceId: 'low', reservations: { cpus: 3000 } });
    const high = tasks(1, 'high', { serviceId: 'high', priority: 10, reservations: { cpus: 3000 } });
    const { placements, unplaced } = schedule({ nodes: [node('a')], tasks: [] }, [...low, ...high]);
    expect(placements).toEqual([{ taskId: 'high-0', nodeId: 'a' }]);
    expect(unplaced.map((u) => u.taskId)).toEqual(['low-0']);
  });

  it('honours constraints on hostname, role and labels', () => {
    const nodes = [
      node('a', { role: 'manager' }),
      node('b', { hostname: 'gpu-box', labels: { disk: 'ssd' } }),
      node('c', { labels: { disk: 'ssd' } }),
    ];
    const pending = tasks(4, 'db', {
      serviceId: 'db',
      constraints: ['node.role!=manager', 'node.labels.disk==ssd', 'node.hostname!=gpu-box'],
    });
    expect(perNode(schedule({ nodes, tasks: [] }, pending).placements)).toEqual({ c: 4 });
  });

  it('places next to a required-affinity service and away from a required-anti-affinity one', () => {
    const nodes = [node('a'), node('b'), node('c')];
    const running = [placed('db1', 'b', { serviceId: 'db' }), placed('q1', 'c', { serviceId: 'queue' })];
    const near = tasks(3, 'api', { serviceId: 'api', affinity: [{ service: 'db', type: 'affinity', required: true }] });
    const away = tasks(2, 'batch', {
      serviceId: 'batch',
      affinity: [{ service: 'queue', type: 'anti-affinity', required: true }],
    });
    const { placements } = schedule({ nodes, tasks: running }, [...near, ...away]);
    expect(perNode(placements.filter((p) => p.taskId.startsWith('api')))).toEqual({ b: 3 });
    expect(perNode(placements.filter((p) => p.taskId.startsWith('batch')))).toEqual({ a: 1, b: 1 });
  });

  it('co-locates a service with itself under required self-affinity', () => {
    const pending = tasks(3, 'web', { affinity: [{ service: 'web', type: 'affinity', required: true }] });
    expect(perNode(schedule({ nodes: [node('a'), node('b')], tasks: [] }, pending).placements)).toEqual({ a: 3 });
  });

  it('follows soft affinity and anti-affinity unless a node does not fit', () => {
    const nodes = [node('a'), node('b'), node('c')];
    const running = [placed('db1', 'c', { serviceId: 'db' })];
    const avoid = tasks(2, 'web', { affinity: [{ service: 'db', type: 'anti-affinity', required: false }] });
    expect(perNode(schedule({ nodes, tasks: running }, avoid).placements)).toEqual({ a: 1, b: 1 });
    const near = tasks(2, 'api', {
      serviceId: 'api',
      maxReplicasPerNode: 1,
      affinity: [{ service: 'db', type: 'affinity', required: false }],
    });
    expect(schedule({ nodes, tasks: running }, near).placements.map((p) => p.nodeId)).toEqual(['c', 'a']);
  });

  it('reports an invalid spec as unplaced and still places the other groups', () => {
    const pending: TaskRequest[] = [
      task('bad', { serviceId: 'bad', constraints: ['node.labels.zone=eu'] }),
      task('ok'),
    ];
    const { placements, unplaced } = schedule({ nodes: [node('a')], tasks: [] }, pending);
    expect(placements).toEqual([{ taskId: 'ok', nodeId: 'a' }]);
    expect(unplaced).toEqual([
      {
        taskId: 'bad',
        reason:
          'Cannot parse constraint "node.labels.zone=eu": expected one operator from ==, != (did you mean "=="?), as in node.labels.zone==eu',
        rejections: [],
      },
    ]);
  });

  it.each([
    [{ reservations: { cpus: -1 } }, 'reservations.cpus must be a number >= 0, got -1'],
    [{ reservations: { gpus: 1.5 } }, 'reservations.gpus must be a whole number of devices, got 1.5'],
    [{ ports: [{ port: 70000 }] }, 'published port must be an integer in 1..65535, got 70000'],
    [{ ports: [{ port: 80 }, { port: 80, protocol: 'tcp' as const }] }, 'host port 80/tcp is published twice'],
    [{ maxReplicasPerNode: -2 }, 'maxReplicasPerNode must be an integer >= 0 (0 = no limit), got -2'],
    [{ preferences: [{ spread: 'node.zone' }] }, 'unknown key "node.zone"'],
  ])('reports an invalid spec %j with what is wrong', (over, message) => {
    const { unplaced } = schedule({ nodes: [node('a')], tasks: [] }, [task('t', over)]);
    expect(unplaced).toHaveLength(1);
    expect(unplaced[0]!.reason).toContain(message);
  });

  it('says so when the cluster has no nodes', () => {
    expect(schedule({ nodes: [], tasks: [] }, [task('t')]).unplaced[0]!.reason).toBe(
      'no suitable node (the cluster has no nodes)',
    );
  });

  it('is deterministic, does not modify its input, and a seed only changes how ties break', () => {
    const nodes = Array.from({ length: 8 }, (_, i) => node(`n${i}`, { labels: { zone: `z${i % 3}` } }));
    const running: PlacedTask[] = [placed('w', 'n3')];
    const pending = [
      ...tasks(10, 'web', { preferences: [{ spread: 'node.labels.zone' }] }),
      ...tasks(5, 'db', { serviceId: 'db', strategy: 'binpack', reservations: { memoryBytes: 3 * GiB } }),
    ];
    const snapshot = deepFreeze({ nodes, tasks: running });
    deepFreeze(pending);
    const first = schedule(snapshot, pending);
    expect(schedule(snapshot, pending)).toEqual(first);
    const seeded = schedule(snapshot, pending, { seed: 42 });
    expect(schedule(snapshot, pending, { seed: 42 })).toEqual(seeded);
    const others = [1, 2, 3, 4, 5].map((seed) => schedule(snapshot, pending, { seed }));
    expect(others.some((r) => JSON.stringify(r) !== JSON.stringify(first))).toBe(true);
    // ties move, the balance does not: 11 web tasks over 3 zones is 4/4/3 whatever the seed
    for (const r of [first, seeded, ...others]) {
      const zones = r.placements.filter((p) => p.taskId.startsWith('web')).map((p) => Number(p.nodeId.slice(1)) % 3);
      const perZone = [0, 1, 2].map((z) => zones.filter((x) => x === z).length + (z === 0 ? 1 : 0));
      expect([...perZone].sort()).toEqual([3, 4, 4]);
    }
  });

  it('lets weights turn a score family off', () => {
    const nodes = [
      node('eu1', { labels: { zone: 'eu' } }),
      node('eu2', { labels: { zone: 'eu' } }),
      node('us1', { labels: { zone: 'us' } }),
    ];
    const pending = tasks(4, 'web', { preferences: [{ spread: 'node.labels.zone' }] });
    expect(perNode(schedule({ nodes, tasks: [] }, pending).placements)).toEqual({ eu1: 1, eu2: 1, us1: 2 });
    expect(perNode(schedule({ nodes, tasks: [] }, pending, { weights: { preferences: 0 } }).placements)).toEqual({
      eu1: 2,
      eu2: 1,
      us1: 1,
    });
  });

  it('refuses a snapshot with a node id twice', () => {
    expect(() => schedule({ nodes: [node('a'), node('b'), node('a')], tasks: [] }, [])).toThrow(
      'Cannot schedule on a snapshot that lists node a twice',
    );
  });

  it('rejects negative weights', () => {
    expect(() => schedule({ nodes: [], tasks: [] }, [], { weights: { strategy: -1 } })).toThrow(
      'Cannot use score weight strategy=-1',
    );
  });
});
