/**
 * PersistentMap and TaskTable against simple references: a seeded sequence of sets and deletes
 * checked against a Map after every step, old versions left unchanged, a shape (and so an
 * iteration order) that depends on the keys only, a diff that names exactly what changed, and
 * task indexes equal to the ones built from scratch.
 */
import { seededRandom } from '../../src/scheduler/order.js';
import { PersistentMap } from '../../src/state/persistent-map.js';
import { TaskTable, isPlaced, isWaiting, type TaskRecord } from '../../src/state/index.js';

describe('PersistentMap', () => {
  it.each([1, 2, 3])('matches a Map over random sets and deletes, versions unchanged (seed %i)', (seed) => {
    const random = seededRandom(seed);
    let map = PersistentMap.empty<number>();
    const reference = new Map<string, number>();
    const versions: [PersistentMap<number>, Map<string, number>][] = [];
    for (let step = 0; step < 3000; step++) {
      const key = `k${Math.floor(random() * 600)}`;
      if (random() < 0.3) {
        map = map.delete(key);
        reference.delete(key);
      } else {
        map = map.set(key, step);
        reference.set(key, step);
      }
      expect(map.size).toBe(reference.size);
      expect(map.get(key)).toBe(reference.get(key));
      if (step % 300 === 0) versions.push([map, new Map(reference)]);
    }
    for (const [version, content] of versions) expect(new Map(version.entries())).toEqual(content);
  });

  it('has one shape per key set: iteration order does not depend on history', () => {
    const keys = Array.from({ length: 500 }, (_, i) => `task-${i}`);
    let forward = PersistentMap.empty<number>();
    for (const k of keys) forward = forward.set(k, 1);
    let backward = PersistentMap.empty<number>();
    for (const k of [...keys].reverse()) backward = backward.set(k, 1);
    for (const k of ['x1', 'x2', 'x3']) backward = backward.set(k, 2);
    for (const k of ['x1', 'x2', 'x3']) backward = backward.delete(k);
    expect(backward.keys()).toEqual(forward.keys());
  });

  it('from() builds the map, shape and order that setting the keys one by one builds', () => {
    const random = seededRandom(11);
    // Pairs of keys whose whole 32-bit hashes are equal (FNV-1a), so collision nodes are built too.
    const colliding = ['c693596', 'c1170850', 'c693597', 'c1170851', 'c693594', 'c1170852'];
    for (const n of [0, 1, 2, 33, 1000, 5000]) {
      const keys = [...Array.from({ length: n }, () => `k${Math.floor(random() * 1e9)}`), ...colliding];
      const entries = [...new Map(keys.map((k, i) => [k, i]))];
      let oneByOne = PersistentMap.empty<number>();
      for (const [k, v] of entries) oneByOne = oneByOne.set(k, v);
      const bulk = PersistentMap.from(entries);
      expect(bulk.size).toBe(oneByOne.size);
      expect(bulk.entries()).toEqual(oneByOne.entries());
      let changed = 0;
      bulk.diff(oneByOne, () => changed++);
      expect(changed).toBe(0);
      // and it goes on like any other version
      const k = entries[0]![0];
      expect(bulk.delete(k).entries()).toEqual(oneByOne.delete(k).entries());
    }
  });

  it('from() refuses a key given twice', () => {
    expect(() =>
      PersistentMap.from([
        ['a', 1],
        ['b', 2],
        ['a', 3],
      ]),
    ).toThrow(RangeError);
    expect(() =>
      PersistentMap.ofEntries(['c693596', 'c1170850', 'c693596'].map((k) => PersistentMap.entry(k, 0))),
    ).toThrow('twice');
  });

  it('diff() names exactly the keys added, changed and removed', () => {
    let a = PersistentMap.empty<number>();
    for (let i = 0; i < 1000; i++) a = a.set(`k${i}`, i);
    const b = a.set('k1', -1).delete('k2').set('new', 7).set('k3', 3);
    const seen: [string, number | undefined, number | undefined][] = [];
    a.diff(b, (key, before, after) => seen.push([key, before, after]));
    expect(seen.sort()).toEqual([
      ['k1', 1, -1],
      ['k2', 2, undefined],
      ['new', undefined, 7],
    ]);
  });
});

describe('TaskTable', () => {
  const task = (i: number, random: () => number): TaskRecord => {
    const states = ['pending', 'assigned', 'running', 'complete', 'failed'] as const;
    const state = states[Math.floor(random() * states.length)]!;
    return {
      id: `t${i}`,
      serviceId: `s${i % 7}`,
      slot: i % 5,
      serviceVersion: 1 + Math.floor(random() * 2),
      nodeId: state === 'pending' ? null : `n${Math.floor(random() * 4)}`,
      generation: 0,
      gpus: [],
      desiredState: random() < 0.8 ? 'running' : 'shutdown',
      state,
      message: '',
      exitCode: null,
      containerId: null,
      restarts: 0,
      createdAt: 0,
      updatedAt: 0,
      ...(i % 3 === 0 ? { job: { jobId: `j${i % 4}`, index: i, attempt: 0, requeues: 0 } } : {}),
    };
  };

  it('keeps its indexes equal to the ones built from scratch', () => {
    const random = seededRandom(7);
    let table = TaskTable.empty();
    const all = new Map<string, TaskRecord>();
    for (let step = 0; step < 2000; step++) {
      const i = Math.floor(random() * 300);
      if (random() < 0.2) {
        table = table.delete(`t${i}`);
        all.delete(`t${i}`);
      } else {
        const t = task(i, random);
        table = table.set(t);
        all.set(t.id, t);
      }
    }
    const ids = (tasks: Iterable<TaskRecord>): string[] => [...tasks].map((t) => t.id).sort();
    const of = (pick: (t: TaskRecord) => boolean): string[] => ids([...all.values()].filter(pick));
    for (let s = 0; s < 7; s++) {
      expect(ids(table.ofService(`s${s}`))).toEqual(of((t) => t.serviceId === `s${s}`));
      for (let slot = 0; slot < 5; slot++)
        expect(ids(table.ofSlot(`s${s}`, slot))).toEqual(of((t) => t.serviceId === `s${s}` && t.slot === slot));
    }
    for (let n = 0; n < 4; n++) expect(ids(table.onNode(`n${n}`))).toEqual(of((t) => t.nodeId === `n${n}`));
    for (let j = 0; j < 4; j++) expect(ids(table.ofJob(`j${j}`))).toEqual(of((t) => t.job?.jobId === `j${j}`));
    expect(ids(table.waiting())).toEqual(of(isWaiting));
    expect(ids(table.placed())).toEqual(of(isPlaced));
    expect(table.size).toBe(all.size);

    // A table built in bulk (a restore) is the same table: same groups in the same order.
    const bulk = TaskTable.from(all.values());
    const order = (tasks: Iterable<TaskRecord>): string[] => [...tasks].map((t) => t.id);
    expect(order(bulk.values())).toEqual(order(table.values()));
    expect([...bulk.serviceIds()]).toEqual([...table.serviceIds()]);
    expect([...bulk.nodeIds()]).toEqual([...table.nodeIds()]);
    expect([...bulk.jobIds()]).toEqual([...table.jobIds()]);
    for (let s = 0; s < 7; s++) {
      expect(order(bulk.ofService(`s${s}`))).toEqual(order(table.ofService(`s${s}`)));
      expect(bulk.oldestLiveVersion(`s${s}`)).toBe(table.oldestLiveVersion(`s${s}`));
      expect(bulk.liveCount(`s${s}`)).toBe(table.liveCount(`s${s}`));
      for (let slot = 0; slot < 5; slot++)
        expect(order(bulk.ofSlot(`s${s}`, slot))).toEqual(order(table.ofSlot(`s${s}`, slot)));
    }
    for (let n = 0; n < 4; n++) expect(order(bulk.onNode(`n${n}`))).toEqual(order(table.onNode(`n${n}`)));
    for (let j = 0; j < 4; j++) expect(order(bulk.ofJob(`j${j}`))).toEqual(order(table.ofJob(`j${j}`)));
    expect(order(bulk.waiting())).toEqual(order(table.waiting()));
    expect(order(bulk.placed())).toEqual(order(table.placed()));
    let changed = 0;
    bulk.diff(table, () => changed++);
    expect(changed).toBe(0);
  });
});
