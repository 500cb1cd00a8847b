import { encode } from 'cbor-x';
import { EntryType, type Entry } from '../../src/raft/types.js';
import { ClusterStateMachine, encodeCommand, type ApplyResult, type Command } from '../../src/state/index.js';
import { T0, init, peerId, register } from './helpers.js';
import { WEB, deployOf, stackSpec, stamp, withSpec } from './workload-helpers.js';

/** mulberry32: a tiny seeded PRNG, so a failing sequence can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DATA = stackSpec('services:\n  db:\n    image: postgres:17\n    deploy:\n      replicas: 1\n', 'data');
const SERVICES = ['web_api', 'web_agent', 'web_batch', 'data_db', 'web_gone'];
const STATES = ['assigned', 'preparing', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected'] as const;

/**
 * A random workload log over few nodes and few task ids, so commands collide on the same
 * records. A shadow machine applies the log as it is made, so most reports and assignments name
 * a real task with its current node and generation (and the rest are stale or foreign).
 */
function randomLog(seed: number, length: number): Entry[] {
  const random = prng(seed);
  const shadow = new ClusterStateMachine();
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const taskId = () => `t${int(40)}`;
  const log: Entry[] = [];
  let index = 0;
  const push = (data: Uint8Array, type: EntryType = EntryType.Normal) => {
    index += random() < 0.1 ? 2 : 1;
    log.push({ index, term: 1, type, data });
    shadow.apply(log.at(-1)!);
  };
  /** A task of the shadow state, most of the time, else a random id. */
  const someTask = () => {
    const tasks = shadow.tasks();
    return tasks.length > 0 && random() < 0.8 ? pick(tasks) : undefined;
  };
  for (const c of [init(), register(1), register(2), register(3), register(4), register(5)]) push(encodeCommand(c));
  for (let i = 0; i < length; i++) {
    const at = T0 + 1000 * (i + 1);
    const node = 1 + int(6); // node 6 never registers: assignments to it are skipped
    const makers: Array<() => Command | Uint8Array> = [
      () => deployOf(WEB, at, { ...WEB.services, api: withSpec(WEB.services.api!, { image: `nginx:${int(3)}` }) }),
      () => {
        const { batch: _b, ...rest } = WEB.services;
        return deployOf(WEB, at, rest);
      },
      () => deployOf(DATA, at),
      () => stamp({ type: 'stack.remove', name: pick(['web', 'data']) }, at),
      () => stamp({ type: 'service.scale', serviceId: pick(SERVICES), replicas: int(5) }, at),
      () =>
        stamp(
          {
            type: 'task.create',
            tasks: [
              {
                id: taskId(),
                serviceId: pick(SERVICES),
                slot: int(4),
                serviceVersion: 1 + int(2),
                ...(random() < 0.2 ? { nodeId: peerId(node) } : {}),
              },
            ],
          },
          at,
        ),
      () => {
        const pending = shadow.tasks().filter((t) => t.state === 'pending');
        const ids = [...new Set([pending.length > 0 ? pick(pending).id : taskId(), taskId()])];
        const ready = shadow.nodes().filter((n) => n.status === 'ready');
        const nodeId = () => (ready.length > 0 && random() < 0.8 ? pick(ready).id : peerId(1 + int(6)));
        return stamp(
          { type: 'task.assign', assignments: ids.map((id) => ({ taskId: id, nodeId: nodeId(), gpus: [] })) },
          at,
        );
      },
      () => stamp({ type: 'task.pending', updates: [{ taskId: taskId(), message: pick(['no node', 'no GPU']) }] }, at),
      () =>
        stamp({ type: 'task.desire', taskIds: [taskId()], desiredState: pick(['running', 'shutdown'] as const) }, at),
      () => {
        const task = someTask();
        const fresh = task !== undefined && task.nodeId !== null && random() < 0.8;
        return stamp(
          {
            type: 'task.report',
            nodeId: fresh ? task.nodeId! : peerId(node),
            reports: [
              {
                taskId: task?.id ?? taskId(),
                generation: fresh ? task.generation : int(12),
                state: pick(STATES),
                message: '',
                exitCode: pick([null, 0, 1]),
                containerId: pick([null, 'c']),
                restarts: int(3),
              },
            ],
          },
          at,
        );
      },
      () => stamp({ type: 'node.setStatus', id: peerId(node), status: pick(['ready', 'down'] as const) }, at),
      () => stamp({ type: 'task.remove', taskIds: [someTask()?.id ?? taskId()] }, at),
      () => (random() < 0.1 ? stamp({ type: 'node.remove', id: peerId(node) }, at) : register(node, at)),
      () =>
        new Uint8Array(
          encode({
            v: 1,
            type: 'task.create',
            tasks: [{ id: '_bad', serviceId: 'web_api', slot: 1, serviceVersion: 1 }],
            at,
          }),
        ),
    ];
    if (random() < 0.05) push(new Uint8Array(), EntryType.Noop);
    const made = pick(makers)();
    push(made instanceof Uint8Array ? made : encodeCommand(made));
  }
  return log;
}

function feed(machine: ClusterStateMachine, log: readonly Entry[]): ApplyResult[] {
  return log.map((entry) => machine.apply(entry));
}

describe('ClusterStateMachine determinism with workloads', () => {
  it.each([1, 2, 3, 42])('two machines fed the same log (seed %i) give byte-identical snapshots', (seed) => {
    const log = randomLog(seed, 400);
    const a = new ClusterStateMachine();
    const b = new ClusterStateMachine();
    for (const entry of log) expect(b.apply(entry)).toEqual(a.apply(entry));
    expect(Buffer.from(b.snapshot()).equals(Buffer.from(a.snapshot()))).toBe(true);
    // The log went through every path, so the comparison means something.
    const c = new ClusterStateMachine();
    const seen = new Set<string>();
    const results = log.map((entry) => {
      const result = c.apply(entry);
      for (const task of c.tasks()) seen.add(task.state);
      return result;
    });
    const applied = new Set(results.flatMap((r) => (r.ok && r.type ? [r.type] : [])));
    for (const type of ['stack.deploy', 'task.create', 'task.assign', 'task.report', 'node.setStatus', 'task.remove'])
      expect(applied).toContain(type);
    expect(results.some((r) => !r.ok && r.reason === 'refused')).toBe(true);
    expect(results.some((r) => !r.ok && r.reason === 'invalid')).toBe(true);
    expect(a.state().counters.assignment).toBeGreaterThan(0);
    for (const state of ['pending', 'assigned']) expect(seen).toContain(state);
    expect([...seen].some((state) => state !== 'pending' && state !== 'assigned' && state !== 'orphaned')).toBe(true);
  });

  it.each([7, 8, 9])(
    'a machine restored from a snapshot mid-log (seed %i) ends byte-identical to one that applied it all',
    (seed) => {
      const log = randomLog(seed, 400);
      const cut = 150 + (seed % 40);
      const full = new ClusterStateMachine();
      const fullResults = feed(full, log);
      const early = new ClusterStateMachine();
      feed(early, log.slice(0, cut));
      const restored = new ClusterStateMachine();
      restored.restore(early.snapshot(), early.appliedIndex);
      expect(Buffer.from(restored.snapshot()).equals(Buffer.from(early.snapshot()))).toBe(true);
      expect(restored.state()).toEqual(early.state());
      expect(feed(restored, log.slice(cut))).toEqual(fullResults.slice(cut));
      expect(Buffer.from(restored.snapshot()).equals(Buffer.from(full.snapshot()))).toBe(true);
      expect(restored.tasks()).toEqual(full.tasks());
    },
  );

  it('keeps every state deeply frozen', () => {
    const machine = new ClusterStateMachine();
    feed(machine, randomLog(5, 300));
    const state = machine.state();
    expect(Object.isFrozen(state.tasks)).toBe(true);
    for (const task of Object.values(state.tasks)) {
      expect(Object.isFrozen(task)).toBe(true);
      expect(Object.isFrozen(task.gpus)).toBe(true);
    }
    for (const service of Object.values(state.services)) expect(Object.isFrozen(service.spec.deploy)).toBe(true);
  });
});
