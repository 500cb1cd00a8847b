import { encode } from 'cbor-x';
import { EntryType, type Entry } from '../../src/raft/types.js';
import { ClusterStateMachine, encodeCommand, type Command } from '../../src/state/index.js';
import { T0, init, peerId, register, tokenFields } from './helpers.js';

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

/** A random log: valid commands, refused ones, malformed bytes, Noops and index gaps. */
function randomLog(seed: number, length: number): Entry[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const log: Entry[] = [];
  let index = 0;
  const push = (data: Uint8Array, type: EntryType = EntryType.Normal) => {
    index += random() < 0.1 ? 2 : 1; // gaps: entries the state machine never sees (conf changes)
    log.push({ index, term: 1, type, data });
  };
  push(encodeCommand(init()));
  for (let i = 0; i < length; i++) {
    const n = 1 + Math.floor(random() * 12); // few ids, so commands collide on the same nodes
    const at = T0 + i * 1000;
    const id = peerId(n);
    const commands: Array<() => Command | Uint8Array> = [
      () => register(n, at, { labels: { zone: pick(['a', 'b', 'c']), [`k${n}`]: 'v' } }),
      () => ({ v: 1, type: 'node.update', id, addresses: [`/ip4/10.1.0.${n}/tcp/${1000 + i}`], at }),
      () => ({ v: 1, type: 'node.setAvailability', id, availability: pick(['active', 'drain', 'pause'] as const), at }),
      () => ({
        v: 1,
        type: 'node.labels',
        id,
        add: { [pick(['x', 'y', 'z'])]: String(i) },
        remove: [pick(['zone', 'q'])],
        at,
      }),
      () => ({ v: 1, type: 'node.remove', id, at }),
      () => ({ v: 1, type: 'token.rotate', ...tokenFields(Math.floor(random() * 3)), at }),
      () => ({ v: 1, type: 'settings.set', targetVoters: pick([3, 5] as const), at }),
      () => new Uint8Array(encode({ v: 1, type: 'node.update', id, labels: { bad: i }, at })),
      () => new Uint8Array([0xff, i & 0xff]),
    ];
    if (random() < 0.05) push(new Uint8Array(), EntryType.Noop);
    const made = pick(commands)();
    push(made instanceof Uint8Array ? made : encodeCommand(made));
  }
  return log;
}

function feed(machine: ClusterStateMachine, log: readonly Entry[]) {
  return log.map((entry) => machine.apply(entry));
}

describe('ClusterStateMachine determinism', () => {
  it.each([1, 2, 3, 42, 1234])(
    'two machines fed the same log (seed %i) give the same results and byte-identical snapshots',
    (seed) => {
      const log = randomLog(seed, 200);
      const a = new ClusterStateMachine();
      const b = new ClusterStateMachine();
      for (const entry of log) {
        expect(b.apply(entry)).toEqual(a.apply(entry));
      }
      expect(Buffer.from(b.snapshot()).equals(Buffer.from(a.snapshot()))).toBe(true);
      // The log exercised both paths, so the comparison above means something.
      const results = feed(new ClusterStateMachine(), log);
      expect(results.some((r) => r.ok && r.type === 'node.register')).toBe(true);
      expect(results.some((r) => !r.ok && r.reason === 'refused')).toBe(true);
      expect(results.some((r) => !r.ok && r.reason === 'invalid')).toBe(true);
    },
  );

  it.each([7, 8, 9])(
    'a machine restored from a snapshot mid-log (seed %i) ends byte-identical to one that applied it all',
    (seed) => {
      const log = randomLog(seed, 240);
      const cut = 80 + (seed % 40);
      const full = new ClusterStateMachine();
      const fullResults = feed(full, log);

      const early = new ClusterStateMachine();
      feed(early, log.slice(0, cut));
      const restored = new ClusterStateMachine();
      restored.restore(early.snapshot(), early.appliedIndex);
      expect(Buffer.from(restored.snapshot()).equals(Buffer.from(early.snapshot()))).toBe(true);
      expect(feed(restored, log.slice(cut))).toEqual(fullResults.slice(cut));
      expect(Buffer.from(restored.snapshot()).equals(Buffer.from(full.snapshot()))).toBe(true);
      expect(restored.state()).toEqual(full.state());
    },
  );

  it('snapshots do not depend on the order in which nodes were added', () => {
    const forward = new ClusterStateMachine();
    const backward = new ClusterStateMachine();
    const ids = [1, 2, 3, 4, 5];
    const log = (order: number[]) =>
      [init(), ...order.map((n) => register(n, T0))].map((c, i) => ({
        index: i + 1,
        term: 1,
        type: EntryType.Normal,
        data: encodeCommand(c),
      }));
    feed(forward, log(ids));
    feed(backward, log([...ids].reverse()));
    expect(Object.keys(forward.state().nodes)).not.toEqual(Object.keys(backward.state().nodes));
    expect(Buffer.from(forward.snapshot()).equals(Buffer.from(backward.snapshot()))).toBe(true);
  });
});
