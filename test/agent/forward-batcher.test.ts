/** ForwardBatcher: forwarded writes go at once when the lane is free, and in batches under load. */
import { ForwardBatcher, MAX_IN_FLIGHT, type BatchAnswer } from '../../src/agent/forward-batcher.js';
import { RemoteError } from '../../src/p2p/index.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

function setup() {
  const sent: {
    leader: string;
    items: readonly unknown[];
    answer: ReturnType<typeof deferred<readonly BatchAnswer[]>>;
  }[] = [];
  const batcher = new ForwardBatcher({
    method: 'cluster.propose',
    send: (leader, items) => {
      const answer = deferred<readonly BatchAnswer[]>();
      sent.push({ leader, items, answer });
      return answer.promise;
    },
  });
  return { batcher, sent };
}

const ok = (items: readonly unknown[]): BatchAnswer[] => items.map((value) => ({ ok: true, value }));
const tick = () => new Promise((r) => setImmediate(r));

describe('ForwardBatcher', () => {
  it('forward() sends a lone write at once, and batches what queues while the lane is full', async () => {
    const { batcher, sent } = setup();
    const first = Array.from({ length: MAX_IN_FLIGHT }, (_, i) => batcher.forward('L', `w${i}`));
    const later = ['a', 'b', 'c'].map((w) => batcher.forward('L', w));
    expect(sent.map((s) => s.items)).toEqual(Array.from({ length: MAX_IN_FLIGHT }, (_, i) => [`w${i}`]));
    sent[0]!.answer.resolve(ok(sent[0]!.items));
    await tick();
    expect(sent.at(-1)!.items).toEqual(['a', 'b', 'c']);
    for (const s of sent.slice(1)) s.answer.resolve(ok(s.items));
    expect(await Promise.all([...first, ...later])).toEqual([
      ...Array.from({ length: MAX_IN_FLIGHT }, (_, i) => `w${i}`),
      'a',
      'b',
      'c',
    ]);
  });

  it("forward() rejects an item with the leader's own error for it, as a single call would", async () => {
    const { batcher, sent } = setup();
    const a = batcher.forward('L', 'a');
    sent[0]!.answer.resolve([{ ok: false, code: 'outcome_unknown', message: 'lost leadership' }]);
    await expect(a).rejects.toBeInstanceOf(RemoteError);
    await expect(a).rejects.toMatchObject({ code: 'outcome_unknown' });
  });

  it('abandon() fails the queued and in-flight writes of a leader that moved', async () => {
    const { batcher } = setup();
    const writes = Array.from({ length: MAX_IN_FLIGHT + 2 }, (_, i) => batcher.forward('L', i));
    const moved = new Error('moved');
    batcher.abandon('L', moved);
    for (const w of writes) await expect(w).rejects.toBe(moved);
  });

  it('forward() gives up on a write whose signal aborts, and the batch goes on for the others', async () => {
    const { batcher, sent } = setup();
    const controller = new AbortController();
    const mine = batcher.forward('L', 'mine', controller.signal);
    const other = batcher.forward('L', 'other');
    controller.abort(new Error('client went away'));
    await expect(mine).rejects.toThrow('client went away');
    for (const s of sent) s.answer.resolve(ok(s.items));
    await expect(other).resolves.toBe('other');
  });
});
