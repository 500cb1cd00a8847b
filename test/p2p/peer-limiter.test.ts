import { PeerLimiter } from '../../src/p2p/peer-limiter.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('PeerLimiter', () => {
  it('acquire() lets `limit` callers per peer through and queues the rest in order', async () => {
    const limiter = new PeerLimiter(2);
    const order: string[] = [];
    const r1 = await limiter.acquire('p');
    const r2 = await limiter.acquire('p');
    const other = await limiter.acquire('q'); // another peer has its own slots
    const third = limiter.acquire('p').then((r) => (order.push('third'), r));
    const fourth = limiter.acquire('p').then((r) => (order.push('fourth'), r));
    await tick();
    expect(order).toEqual([]);
    r1();
    r1(); // a second release of the same slot is ignored
    await tick();
    expect(order).toEqual(['third']);
    r2();
    await tick();
    expect(order).toEqual(['third', 'fourth']);
    (await third)();
    (await fourth)();
    other();
  });

  it('acquire() stops waiting when its signal aborts, without taking a slot', async () => {
    const limiter = new PeerLimiter(1);
    const held = await limiter.acquire('p');
    const controller = new AbortController();
    const waiting = limiter.acquire('p', controller.signal);
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    held();
    const next = await limiter.acquire('p'); // the aborted waiter did not keep the slot
    next();
  });

  it('rejects a limit below 1', () => {
    expect(() => new PeerLimiter(0)).toThrow(RangeError);
  });
});
