/**
 * Property tests on small seeded random clusters: schedule() agrees with the brute-force
 * reference, never overbooks a resource, and never breaks a filter. The invariants are checked
 * from scratch here, without the scheduler's own accounting or filters.
 */
import {
  type ClusterSnapshot,
  matchConstraint,
  parseConstraint,
  type NodeView,
  type PlacedTask,
  schedule,
  type ScheduleResult,
  seededRandom,
  type TaskRequest,
} from '../../src/scheduler/index.js';
import { GiB } from './fixtures.js';
import { referenceSchedule } from './reference.js';

const SEEDS = 150;
const SERVICES = ['web', 'db', 'cache', 'batch'];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomCluster(
  seed: number,
  maxNodes = 7,
  maxGroup = 8,
): { snapshot: ClusterSnapshot; pending: TaskRequest[] } {
  const random = seededRandom(seed);
  const nodes: NodeView[] = Array.from({ length: 1 + Math.floor(random() * maxNodes) }, (_, i): NodeView => ({
    id: `n${i}`,
    hostname: `h${i}`,
    role: random() < 0.3 ? 'manager' : 'worker',
    labels: random() < 0.8 ? { zone: pick(random, ['a', 'b', 'c']), rack: pick(random, ['1', '2']) } : {},
    availability: random() < 0.8 ? 'active' : pick(random, ['drain', 'pause'] as const),
    status: random() < 0.9 ? 'ready' : 'down',
    resources: {
      cpus: pick(random, [1000, 2000, 4000]),
      memoryBytes: pick(random, [1, 2, 4]) * GiB,
      gpus: Array.from({ length: pick(random, [0, 0, 1, 2, 4]) }, (_, g) => `n${i}-gpu${g}`),
      generic: random() < 0.3 ? { ssd: 2 } : {},
    },
    portsInUse: random() < 0.2 ? [{ port: 80 }] : [],
  }));
  const tasks: PlacedTask[] = [];
  for (let i = 0; i < Math.floor(random() * 5); i++) {
    tasks.push({
      id: `old${i}`,
      serviceId: pick(random, SERVICES),
      nodeId: pick(random, nodes).id,
      reservations: { cpus: 250, memoryBytes: GiB / 4 },
    });
  }
  const pending: TaskRequest[] = [];
  for (let g = 0; g < 1 + Math.floor(random() * 4); g++) {
    const serviceId = pick(random, SERVICES);
    const spec: Omit<TaskRequest, 'id'> = {
      serviceId,
      priority: pick(random, [0, 0, 5]),
      reservations: {
        cpus: pick(random, [0, 250, 500, 1000]),
        memoryBytes: pick(random, [0, GiB / 2, GiB]),
        gpus: pick(random, [0, 0, 0, 1, 2]),
        generic: random() < 0.2 ? { ssd: 1 } : {},
      },
      constraints:
        random() < 0.4
          ? [pick(random, ['node.labels.zone==a', 'node.labels.zone!=b', 'node.role==worker', 'node.hostname!=h0'])]
          : [],
      preferences:
        random() < 0.4
          ? [{ spread: 'node.labels.zone' }, ...(random() < 0.5 ? [{ spread: 'node.labels.rack' }] : [])]
          : [],
      maxReplicasPerNode: pick(random, [0, 0, 1, 2]),
      ports: random() < 0.2 ? [{ port: pick(random, [80, 8080]) }] : [],
      affinity:
        random() < 0.3
          ? [
              {
                service: pick(random, SERVICES),
                type: pick(random, ['affinity', 'anti-affinity'] as const),
                required: random() < 0.5,
                weight: pick(random, [1, 3]),
              },
            ]
          : [],
      strategy: random() < 0.3 ? 'binpack' : 'spread',
    };
    for (let i = 0; i < 1 + Math.floor(random() * maxGroup); i++)
      pending.push({ ...spec, id: `${serviceId}-${g}-${i}` });
  }
  return { snapshot: { nodes, tasks }, pending };
}

/** Every invariant, recomputed from the inputs and the result alone. Returns the first violation. */
function violation(
  snapshot: ClusterSnapshot,
  pending: readonly TaskRequest[],
  result: ScheduleResult,
): string | undefined {
  const byId = new Map(pending.map((t) => [t.id, t]));
  const seen = new Set<string>();
  for (const id of [...result.placements.map((p) => p.taskId), ...result.unplaced.map((u) => u.taskId)]) {
    if (seen.has(id)) return `task ${id} decided twice`;
    seen.add(id);
  }
  if (seen.size !== pending.length) return `${pending.length - seen.size} tasks neither placed nor unplaced`;

  // Everything on each node after the batch, existing tasks first, then placements in order.
  const all: (PlacedTask & { request?: TaskRequest })[] = [...snapshot.tasks];
  for (const p of result.placements) {
    const request = byId.get(p.taskId)!;
    all.push({
      id: p.taskId,
      serviceId: request.serviceId,
      nodeId: p.nodeId,
      reservations: request.reservations,
      ports: request.ports,
      gpus: p.gpus,
      request,
    });
    if ((p.gpus?.length ?? 0) !== (request.reservations?.gpus ?? 0))
      return `task ${p.taskId} got ${p.gpus?.length ?? 0} GPUs, asked ${request.reservations?.gpus ?? 0}`;
  }
  for (const node of snapshot.nodes) {
    const here = all.filter((t) => t.nodeId === node.id);
    const fresh = here.filter((t) => t.request !== undefined);
    if (fresh.length === 0) continue;
    const sum = (f: (t: PlacedTask) => number) => here.reduce((a, t) => a + f(t), 0);
    if (node.status !== 'ready' || node.availability !== 'active')
      return `task ${fresh[0]!.id} on ${node.availability}/${node.status} node ${node.id}`;
    if (sum((t) => t.reservations?.cpus ?? 0) > node.resources.cpus) return `cpu overbooked on ${node.id}`;
    if (sum((t) => t.reservations?.memoryBytes ?? 0) > node.resources.memoryBytes)
      return `memory overbooked on ${node.id}`;
    if (sum((t) => t.reservations?.generic?.ssd ?? 0) > (node.resources.generic?.ssd ?? 0))
      return `ssd overbooked on ${node.id}`;
    const gpus = here.flatMap((t) => t.gpus ?? []);
    if (new Set(gpus).size !== gpus.length) return `a GPU given twice on ${node.id}: ${gpus.join(',')}`;
    if (gpus.some((g) => !(node.resources.gpus ?? []).includes(g))) return `a GPU not of node ${node.id}`;
    const ports = [...(node.portsInUse ?? []), ...here.flatMap((t) => t.ports ?? [])].map(
      (p) => `${p.port}/${p.protocol ?? 'tcp'}`,
    );
    if (new Set(ports).size !== ports.length) return `a host port given twice on ${node.id}`;
    for (const t of fresh) {
      const r = t.request!;
      for (const c of r.constraints ?? [])
        if (!matchConstraint(parseConstraint(c), node)) return `constraint ${c} broken by ${t.id} on ${node.id}`;
      // judged against what was on the node when the task was placed (later groups may add more)
      const upTo = all.slice(0, all.indexOf(t) + 1).filter((x) => x.nodeId === node.id);
      const max = r.maxReplicasPerNode ?? 0;
      if (max > 0 && upTo.filter((x) => x.serviceId === r.serviceId).length > max)
        return `more than ${max} of ${r.serviceId} on ${node.id}`;
      for (const rule of r.affinity ?? []) {
        if (!rule.required) continue;
        const before = all
          .slice(0, all.indexOf(t))
          .filter((x) => x.nodeId === node.id && x.serviceId === rule.service).length;
        const anywhereBefore = all.slice(0, all.indexOf(t)).some((x) => x.serviceId === rule.service);
        if (rule.type === 'anti-affinity' && before > 0) return `anti-affinity to ${rule.service} broken by ${t.id}`;
        if (rule.type === 'affinity' && before === 0 && !(rule.service === r.serviceId && !anywhereBefore))
          return `affinity to ${rule.service} broken by ${t.id}`;
      }
    }
  }
  return undefined;
}

describe('schedule() on random small clusters', () => {
  it(`agrees with the brute-force reference and breaks no invariant (${SEEDS} seeds)`, () => {
    let placedTotal = 0;
    let unplacedTotal = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const { snapshot, pending } = randomCluster(seed);
      for (const options of [{}, { seed }]) {
        const fast = schedule(snapshot, pending, options);
        const slow = referenceSchedule(snapshot, pending, options);
        if (JSON.stringify(fast) !== JSON.stringify(slow)) {
          throw new Error(
            `seed ${seed} (${JSON.stringify(options)}): schedule() and the reference differ\nfast: ${JSON.stringify(fast)}\nslow: ${JSON.stringify(slow)}`,
          );
        }
        const broken = violation(snapshot, pending, fast);
        if (broken !== undefined) throw new Error(`seed ${seed} (${JSON.stringify(options)}): ${broken}`);
        placedTotal += fast.placements.length;
        unplacedTotal += fast.unplaced.length;
      }
    }
    // the generator must exercise both outcomes for the properties to mean something
    expect(placedTotal).toBeGreaterThan(200);
    expect(unplacedTotal).toBeGreaterThan(50);
  });

  it('agrees with the reference on larger clusters and groups (30 seeds, up to 40 nodes and 60-task groups)', () => {
    for (let seed = 1001; seed <= 1030; seed++) {
      const { snapshot, pending } = randomCluster(seed, 40, 60);
      const fast = schedule(snapshot, pending);
      expect(JSON.stringify(fast)).toBe(JSON.stringify(referenceSchedule(snapshot, pending)));
      const broken = violation(snapshot, pending, fast);
      if (broken !== undefined) throw new Error(`seed ${seed}: ${broken}`);
    }
  });

  it('the invariant checker catches an overbooked node', () => {
    const snapshot: ClusterSnapshot = {
      nodes: [
        {
          id: 'a',
          hostname: 'a',
          role: 'worker',
          labels: {},
          availability: 'active',
          status: 'ready',
          resources: { cpus: 1000, memoryBytes: GiB },
        },
      ],
      tasks: [],
    };
    const pending: TaskRequest[] = [
      { id: 't1', serviceId: 's', reservations: { cpus: 600 } },
      { id: 't2', serviceId: 's', reservations: { cpus: 600 } },
    ];
    const forged = {
      placements: [
        { taskId: 't1', nodeId: 'a' },
        { taskId: 't2', nodeId: 'a' },
      ],
      unplaced: [],
    };
    expect(violation(snapshot, pending, forged)).toBe('cpu overbooked on a');
    expect(violation(snapshot, pending, schedule(snapshot, pending))).toBeUndefined();
  });
});
