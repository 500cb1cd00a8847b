import { Balancer } from '../../src/mesh/index.js';
import type { Endpoint, Lease } from '../../src/mesh/index.js';
import { Prng } from '../support/prng.js';

const ep = (taskId: string, extra: Partial<Endpoint> = {}): Endpoint => ({
  taskId,
  nodeId: 'n1',
  healthy: true,
  draining: false,
  ...extra,
});

const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('Balancer', () => {
  it('pick() spreads connections round-robin over healthy, non-draining endpoints', () => {
    const b = new Balancer({ strategy: 'round-robin' });
    b.setEndpoints([ep('a'), ep('b', { healthy: false }), ep('c'), ep('d', { draining: true })]);
    const picks = Array.from({ length: 6 }, () => b.pick()!.endpoint.taskId);
    expect(picks).toEqual(['a', 'c', 'a', 'c', 'a', 'c']);
  });

  it('pick() with least-connections sends new connections to the least loaded task', () => {
    const b = new Balancer({ strategy: 'least-connections' });
    b.setEndpoints([ep('a'), ep('b'), ep('c')]);
    const held = [b.pick()!, b.pick()!, b.pick()!]; // one each
    held.find((l) => l.endpoint.taskId === 'b')!.release();
    expect(b.pick()!.endpoint.taskId).toBe('b');
    expect(['a', 'b', 'c'].map((t) => b.openConnections(t))).toEqual([1, 1, 1]);
  });

  it('pick() returns null with nothing in rotation and skips excluded tasks', () => {
    const b = new Balancer();
    expect(b.pick()).toBeNull();
    b.setEndpoints([ep('a'), ep('b')]);
    expect(b.pick(new Set(['a']))!.endpoint.taskId).toBe('b');
    expect(b.pick(new Set(['a', 'b']))).toBeNull();
  });

  it('a task enters rotation only once healthy, and onChange() says so', () => {
    const b = new Balancer();
    const changes: number[] = [];
    const off = b.onChange(() => changes.push(b.rotation().length));
    b.setEndpoints([ep('a', { healthy: false })]);
    expect(b.pick()).toBeNull();
    b.setEndpoints([ep('a')]);
    expect(b.pick()?.endpoint.taskId).toBe('a');
    off();
    b.setEndpoints([]);
    expect(changes).toEqual([0, 1]);
  });

  it('drain() takes the task out at once and resolves when its last connection ends', async () => {
    const b = new Balancer();
    b.setEndpoints([ep('a'), ep('b')]);
    const leases = Array.from({ length: 4 }, () => b.pick()!);
    const ofA = leases.filter((l) => l.endpoint.taskId === 'a');
    expect(ofA).toHaveLength(2);
    const drained = b.drain('a');
    expect(b.rotation().map((e) => e.taskId)).toEqual(['b']);
    expect(Array.from({ length: 3 }, () => b.pick()!.endpoint.taskId)).toEqual(['b', 'b', 'b']);
    ofA[0]!.release();
    ofA[0]!.release(); // idempotent: does not count twice
    expect(await settled(drained)).toBe(false);
    ofA[1]!.release();
    expect(await settled(drained)).toBe(true);
  });

  it('drain() of an idle task resolves at once; the drain holds across updates until the task is gone', async () => {
    const b = new Balancer();
    b.setEndpoints([ep('a'), ep('b')]);
    await b.drain('a');
    b.setEndpoints([ep('a'), ep('b')]);
    expect(b.rotation().map((e) => e.taskId)).toEqual(['b']);
    b.undrain('a');
    expect(b.rotation().map((e) => e.taskId)).toEqual(['a', 'b']);
  });

  it('drain() counts connections to a task that already left the endpoint list', async () => {
    const b = new Balancer();
    b.setEndpoints([ep('a')]);
    const lease = b.pick()!;
    b.setEndpoints([]);
    const drained = b.drain('a');
    expect(await settled(drained)).toBe(false);
    lease.release();
    expect(await settled(drained)).toBe(true);
  });

  it('drain() stops waiting when its signal aborts', async () => {
    const b = new Balancer();
    b.setEndpoints([ep('a')]);
    b.pick();
    const stop = new AbortController();
    const drained = b.drain('a', { signal: stop.signal });
    stop.abort(new Error('stop grace period over'));
    await expect(drained).rejects.toThrow('stop grace period over');
  });

  it('setEndpoints() refuses a task listed twice', () => {
    expect(() => new Balancer().setEndpoints([ep('a'), ep('a')])).toThrow(/twice/);
  });

  /**
   * Virtual time: each step, connections open, some end, tasks turn unhealthy, drain and come
   * back. Checked against a reference: never a pick outside the rotation; least-connections
   * keeps the spread within one connection when connections only open; counts always match.
   */
  it.each([1, 2, 3, 4, 5])('keeps its counts and rotation right over a random run (seed %i)', (seed) => {
    const rng = new Prng(seed);
    const b = new Balancer({ strategy: seed % 2 === 0 ? 'round-robin' : 'least-connections' });
    let endpoints = ['a', 'b', 'c', 'd'].map((t) => ep(t));
    b.setEndpoints(endpoints);
    const open: Lease[] = [];
    const reference = new Map<string, number>();
    const wrong: string[] = [];
    for (let step = 0; step < 2_000; step++) {
      const roll = rng.int(0, 10);
      if (roll < 5) {
        const lease = b.pick();
        const rotation = endpoints.filter((e) => e.healthy && !e.draining).map((e) => e.taskId);
        if (rotation.length === 0) {
          if (lease !== null) wrong.push(`step ${step}: picked ${lease.endpoint.taskId} from an empty rotation`);
        } else {
          if (!rotation.includes(lease!.endpoint.taskId)) wrong.push(`step ${step}: picked ${lease!.endpoint.taskId}`);
          open.push(lease!);
          reference.set(lease!.endpoint.taskId, (reference.get(lease!.endpoint.taskId) ?? 0) + 1);
        }
      } else if (roll < 8 && open.length > 0) {
        const [lease] = open.splice(rng.int(0, open.length), 1);
        lease!.release();
        reference.set(lease!.endpoint.taskId, reference.get(lease!.endpoint.taskId)! - 1);
      } else {
        const i = rng.int(0, endpoints.length);
        endpoints = endpoints.map((e, j) =>
          j === i ? { ...e, healthy: rng.chance(0.8), draining: rng.chance(0.2) } : e,
        );
        b.setEndpoints(endpoints);
      }
      for (const e of endpoints) {
        if (b.openConnections(e.taskId) !== (reference.get(e.taskId) ?? 0))
          wrong.push(`step ${step}: count of ${e.taskId}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('least-connections keeps new connections within one of each other', () => {
    const b = new Balancer({ strategy: 'least-connections' });
    b.setEndpoints(['a', 'b', 'c'].map((t) => ep(t)));
    for (let i = 0; i < 30; i++) b.pick();
    const counts = ['a', 'b', 'c'].map((t) => b.openConnections(t));
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });
});
