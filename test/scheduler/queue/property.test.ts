/**
 * Properties of planQueue() on seeded random clusters and queues: placements never overbook a
 * node, every pending task is placed or has a reason, victims are legal, gangs are whole, quotas
 * hold, and the plan is deterministic.
 */
import { type NodeView, type PlacedTask, schedule } from '../../../src/scheduler/index.js';
import {
  planQueue,
  type QueueInput,
  type QueuedTask,
  type RunningTask,
  type WaitReason,
} from '../../../src/scheduler/queue/index.js';
import { Prng } from '../../support/prng.js';
import { GiB, MIN, NOW } from './fixtures.js';

const SEEDS = 150;
const REASONS: readonly WaitReason[] = ['Priority', 'Resources', 'Quota', 'Preempting', 'Gang'];

function randomInput(seed: number): QueueInput {
  const rng = new Prng(seed);
  const nodes: NodeView[] = Array.from({ length: rng.int(1, 7) }, (_, i) => ({
    id: `n${i}`,
    hostname: `h${i}`,
    role: 'worker',
    labels: { zone: rng.pick(['a', 'b']) },
    availability: rng.chance(0.1) ? 'drain' : 'active',
    status: 'ready',
    resources: {
      cpus: rng.pick([2000, 4000, 8000]),
      memoryBytes: rng.pick([4, 8]) * GiB,
      gpus: rng.chance(0.3) ? [`n${i}-g0`, `n${i}-g1`] : [],
    },
  }));
  const used = new Map(nodes.map((n) => [n.id, { cpus: 0, mem: 0, gpus: 0 }]));
  const running: RunningTask[] = [];
  for (let i = 0; i < rng.int(0, 12); i++) {
    const n = rng.pick(nodes);
    const u = used.get(n.id)!;
    const cpus = rng.pick([500, 1000, 2000]);
    const mem = rng.pick([1, 2]) * GiB;
    const gpu = rng.chance(0.2) && u.gpus < (n.resources.gpus?.length ?? 0) ? 1 : 0;
    if (u.cpus + cpus > n.resources.cpus || u.mem + mem > n.resources.memoryBytes) continue;
    const gpus = gpu ? [n.resources.gpus![u.gpus]!] : undefined;
    u.cpus += cpus;
    u.mem += mem;
    u.gpus += gpu;
    running.push({
      id: `r${i}`,
      serviceId: `rs${i % 3}`,
      nodeId: n.id,
      priority: rng.pick([10, 100, 500]),
      jobId: rng.chance(0.7) ? `rj${i % 4}` : null,
      namespace: rng.pick([null, 'ml', 'etl']),
      startedAt: NOW - rng.int(0, 100) * MIN,
      timeLimitMs: rng.pick([0, 30, 120]) * MIN,
      preemptible: rng.chance(0.7),
      terminating: rng.chance(0.15),
      reservations: { cpus, memoryBytes: mem, gpus: gpu },
      ...(gpus === undefined ? {} : { gpus }),
    });
  }
  const pending: QueuedTask[] = [];
  for (let j = 0; j < rng.int(0, 10); j++) {
    const count = rng.pick([1, 1, 2, 4]);
    const isGang = count > 1 && rng.chance(0.3);
    const spec = {
      serviceId: `s${j}`,
      priority: rng.pick([10, 100, 200, 500]),
      jobId: `j${j}`,
      namespace: rng.pick([null, 'ml', 'etl']),
      submittedAt: NOW - rng.int(0, 50) * MIN,
      timeLimitMs: rng.pick([0, 5, 30, 200]) * MIN,
      gang: isGang ? `g${j}` : null,
      mayPreempt: rng.chance(0.8),
      reservations: {
        cpus: rng.pick([500, 1000, 2000, 4000]),
        memoryBytes: rng.pick([1, 2, 4]) * GiB,
        gpus: rng.chance(0.15) ? 1 : 0,
      },
      ...(rng.chance(0.15) ? { constraints: ['node.labels.zone==a'] } : {}),
    };
    for (let i = 0; i < count; i++) pending.push({ id: `j${j}-${i}`, index: i, ...spec });
  }
  return {
    now: NOW,
    nodes,
    running,
    pending: rng.shuffle(pending),
    usage: { ml: rng.int(0, 100), etl: rng.int(0, 100) },
    quotas: rng.chance(0.5) ? { ml: { cpus: rng.pick([2000, 6000]), runningJobs: rng.int(1, 4) } } : {},
    options: { maxReservations: rng.int(0, 4), backfill: rng.chance(0.85) },
  };
}

describe('planQueue() properties', () => {
  it.each(Array.from({ length: SEEDS }, (_, i) => i + 1))('planQueue() keeps its invariants (seed %i)', (seed) => {
    const input = randomInput(seed);
    const plan = planQueue(input);
    const pendingById = new Map(input.pending.map((t) => [t.id, t]));
    const runningById = new Map(input.running.map((t) => [t.id, t]));

    // Every pending task is placed or waits with a reason, exactly once; order lists them all.
    const placed = plan.placements.map((p) => p.taskId);
    const waiting = plan.waiting.map((w) => w.taskId);
    expect([...placed, ...waiting].sort()).toEqual([...pendingById.keys()].sort());
    expect([...plan.order].sort()).toEqual([...pendingById.keys()].sort());
    for (const w of plan.waiting) {
      expect(REASONS).toContain(w.reason);
      expect(w.message.startsWith(`${w.reason}: `)).toBe(true);
    }

    // No node is overbooked, GPUs are never shared, placements go to active nodes only.
    for (const n of input.nodes) {
      const here = [
        ...input.running.filter((t) => t.nodeId === n.id).map((t) => ({ r: t.reservations, gpus: t.gpus ?? [] })),
        ...plan.placements
          .filter((p) => p.nodeId === n.id)
          .map((p) => ({ r: pendingById.get(p.taskId)!.reservations, gpus: p.gpus ?? [] })),
      ];
      if (plan.placements.some((p) => p.nodeId === n.id)) {
        expect(n.availability).toBe('active');
        expect(here.reduce((s, t) => s + (t.r?.cpus ?? 0), 0)).toBeLessThanOrEqual(n.resources.cpus);
        expect(here.reduce((s, t) => s + (t.r?.memoryBytes ?? 0), 0)).toBeLessThanOrEqual(n.resources.memoryBytes);
      }
      const devices = here.flatMap((t) => t.gpus);
      expect(new Set(devices).size).toBe(devices.length);
      for (const d of devices) expect(n.resources.gpus).toContain(d);
    }
    for (const p of plan.placements) {
      expect(p.gpus?.length ?? 0).toBe(pendingById.get(p.taskId)!.reservations?.gpus ?? 0);
      if (pendingById.get(p.taskId)!.constraints !== undefined) {
        expect(input.nodes.find((n) => n.id === p.nodeId)!.labels.zone).toBe('a');
      }
    }

    // Victims: each once, preemptible, running, not terminating, of strictly lower priority.
    const victimIds = plan.preemptions.map((p) => p.victimTaskId);
    expect(new Set(victimIds).size).toBe(victimIds.length);
    for (const p of plan.preemptions) {
      const victim = runningById.get(p.victimTaskId)!;
      const task = pendingById.get(p.forTaskId)!;
      expect(victim.preemptible && !victim.terminating).toBe(true);
      expect(victim.priority).toBeLessThan(task.priority);
      expect(task.mayPreempt).not.toBe(false);
      expect(plan.waiting.find((w) => w.taskId === p.forTaskId)?.reason).toBe('Preempting');
    }
    if (input.options?.preemption === false) expect(plan.preemptions).toEqual([]);

    // Gangs start whole or not at all.
    const gangs = new Map<string, QueuedTask[]>();
    for (const t of input.pending) if (t.gang !== null) gangs.set(t.gang, [...(gangs.get(t.gang) ?? []), t]);
    for (const members of gangs.values()) {
      const n = members.filter((t) => placed.includes(t.id)).length;
      expect([0, members.length]).toContain(n);
    }

    // Quotas hold for what this plan starts (when the running tasks were within them).
    const quota = input.quotas?.ml;
    if (quota !== undefined) {
      const mine = (ns: string | null): boolean => ns === 'ml';
      const runCpus = input.running
        .filter((t) => mine(t.namespace))
        .reduce((s, t) => s + (t.reservations?.cpus ?? 0), 0);
      const newCpus = plan.placements
        .map((p) => pendingById.get(p.taskId)!)
        .filter((t) => mine(t.namespace))
        .reduce((s, t) => s + (t.reservations?.cpus ?? 0), 0);
      if (newCpus > 0) expect(runCpus + newCpus).toBeLessThanOrEqual(quota.cpus!);
      const jobs = new Set([
        ...input.running.filter((t) => mine(t.namespace) && !t.terminating && t.jobId !== null).map((t) => t.jobId),
        ...plan.placements
          .map((p) => pendingById.get(p.taskId)!)
          .filter((t) => mine(t.namespace))
          .map((t) => t.jobId),
      ]);
      if (newCpus > 0) expect(jobs.size).toBeLessThanOrEqual(quota.runningJobs!);
    }

    // Backfill never delays the first reserved job: at its expected start, what still runs (running
    // tasks and this plan's placements, by their time limits) leaves room for it.
    const reserved = plan.waiting.find((w) => w.expectedStart !== undefined);
    if (reserved !== undefined) {
      const at = reserved.expectedStart!;
      const head = pendingById.get(reserved.taskId)!;
      const unit = head.gang === null ? [head] : input.pending.filter((t) => t.gang === head.gang);
      const ends = (start: number, limit: number): number =>
        limit > 0 ? Math.max(NOW, start + limit) : Number.POSITIVE_INFINITY;
      const still: PlacedTask[] = [
        ...input.running.filter((t) => !t.terminating && ends(t.startedAt, t.timeLimitMs) > at),
        ...plan.placements
          .filter((p) => ends(NOW, pendingById.get(p.taskId)!.timeLimitMs) > at)
          .map((p) => ({ ...pendingById.get(p.taskId)!, nodeId: p.nodeId, ...(p.gpus ? { gpus: p.gpus } : {}) })),
      ];
      const later = schedule({ nodes: input.nodes, tasks: still }, unit);
      expect(later.unplaced).toEqual([]);
    }

    // Deterministic: the same input gives the same plan, whatever the pending tasks' order.
    expect(planQueue(input)).toEqual(plan);
    expect(planQueue({ ...input, pending: [...input.pending].reverse() })).toEqual(plan);
  });
});
