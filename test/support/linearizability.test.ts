import { checkLinearizable, LinearizabilitySearchLimitError, type KvOperation } from './linearizability.js';
import { Prng } from './prng.js';

const put = (
  client: string,
  key: string,
  value: string,
  call: number,
  ret: number | null,
  output?: string | null,
): KvOperation => ({
  client,
  op: 'put',
  key,
  value,
  call,
  return: ret,
  ...(output === undefined ? {} : { output }),
});
const get = (client: string, key: string, output: string | null, call: number, ret: number | null): KvOperation => ({
  client,
  op: 'get',
  key,
  call,
  return: ret,
  output,
});

/**
 * A history from a real atomic register: each operation takes effect at a random instant inside
 * its [call, return] interval, so the history is linearizable by construction.
 */
function atomicHistory(seed: number, clients: number, opsPerClient: number, keys: string[]): KvOperation[] {
  const rng = new Prng(seed);
  type Planned = {
    client: string;
    op: 'get' | 'put';
    key: string;
    value: string;
    call: number;
    ret: number;
    at: number;
  };
  const planned: Planned[] = [];
  for (let c = 0; c < clients; c++) {
    let t = rng.int(0, 5);
    for (let i = 0; i < opsPerClient; i++) {
      const call = t;
      const ret = call + rng.int(1, 20);
      const at = call + rng.next() * (ret - call);
      planned.push({
        client: `c${c}`,
        op: rng.chance(0.5) ? 'put' : 'get',
        key: rng.pick(keys),
        value: `v${c}.${i}`,
        call,
        ret,
        at,
      });
      t = ret + rng.int(0, 5);
    }
  }
  const store = new Map<string, string>();
  const out: KvOperation[] = [];
  for (const p of [...planned].sort((a, b) => a.at - b.at)) {
    const previous = store.get(p.key) ?? null;
    if (p.op === 'put') {
      store.set(p.key, p.value);
      out.push(put(p.client, p.key, p.value, p.call, p.ret, previous));
    } else {
      out.push(get(p.client, p.key, previous, p.call, p.ret));
    }
  }
  return out;
}

describe('checkLinearizable()', () => {
  it('accepts an empty history', () => {
    expect(checkLinearizable([])).toEqual({ ok: true });
  });

  it('accepts a sequential history that reads its writes', () => {
    const history = [
      put('a', 'x', '1', 0, 1),
      get('b', 'x', '1', 2, 3),
      put('a', 'x', '2', 4, 5),
      get('b', 'x', '2', 6, 7),
    ];
    expect(checkLinearizable(history)).toEqual({ ok: true });
  });

  it('accepts a read concurrent with a write that sees either value', () => {
    for (const seen of [null, '1']) {
      expect(checkLinearizable([put('a', 'x', '1', 0, 10), get('b', 'x', seen, 2, 5)])).toEqual({ ok: true });
    }
  });

  it('rejects a read that sees a value nobody wrote', () => {
    const result = checkLinearizable([put('a', 'x', '1', 0, 1), get('b', 'x', '7', 2, 3)]);
    expect(result.ok).toBe(false);
  });

  it('rejects a stale read after a completed write', () => {
    const history = [put('a', 'x', '1', 0, 1), put('a', 'x', '2', 2, 3), get('b', 'x', '1', 4, 5)];
    const result = checkLinearizable(history);
    expect(result).toMatchObject({ ok: false, key: 'x' });
    if (!result.ok) expect(result.explanation).toContain('get(x) -> "1"');
  });

  it('rejects two reads that see two concurrent writes in opposite orders', () => {
    // Writes 1 and 2 overlap each other, but b saw 1 then 2 while c saw 2 then 1, after both ended.
    const history = [
      put('a', 'x', '1', 0, 10),
      put('d', 'x', '2', 0, 10),
      get('b', 'x', '1', 11, 12),
      get('c', 'x', '2', 11, 12),
      get('b', 'x', '2', 13, 14),
      get('c', 'x', '1', 13, 14),
    ];
    expect(checkLinearizable(history).ok).toBe(false);
  });

  it('rejects a put whose reported previous value is impossible', () => {
    expect(checkLinearizable([put('a', 'x', '1', 0, 1), put('b', 'x', '2', 2, 3, null)]).ok).toBe(false);
    expect(checkLinearizable([put('a', 'x', '1', 0, 1), put('b', 'x', '2', 2, 3, '1')])).toEqual({ ok: true });
  });

  it('lets an operation that never returned take effect late', () => {
    // The put never returned; a read long after it may see it.
    const history = [put('a', 'x', '1', 0, null), get('b', 'x', null, 5, 6), get('b', 'x', '1', 100, 101)];
    expect(checkLinearizable(history)).toEqual({ ok: true });
  });

  it('lets an operation that never returned not take effect at all', () => {
    const history = [put('a', 'x', '1', 0, null), get('b', 'x', null, 100, 101)];
    expect(checkLinearizable(history)).toEqual({ ok: true });
  });

  it('still rejects a value flip-flop around an operation that never returned', () => {
    // Once a read saw the pending write, a later read cannot go back to the old value.
    const history = [put('a', 'x', '1', 0, null), get('b', 'x', '1', 5, 6), get('b', 'x', null, 7, 8)];
    expect(checkLinearizable(history).ok).toBe(false);
  });

  it('checks keys independently and names the bad key', () => {
    const history = [
      put('a', 'x', '1', 0, 1),
      get('b', 'x', '1', 2, 3),
      put('a', 'y', '1', 0, 1),
      get('b', 'y', null, 2, 3),
    ];
    expect(checkLinearizable(history)).toMatchObject({ ok: false, key: 'y' });
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('accepts a random history of an atomic register (seed %i)', (seed) => {
    const history = atomicHistory(seed, 5, 40, ['a', 'b', 'c']);
    expect(checkLinearizable(history)).toEqual({ ok: true });
  });

  it.each([1, 2, 3, 4, 5])('catches a stale read planted in a random atomic history (seed %i)', (seed) => {
    const history = atomicHistory(seed, 5, 40, ['a']);
    // Find a get that follows (in real time) two completed puts of different values, and make it
    // return the older one: a stale read.
    const puts = history.filter((op) => op.op === 'put').sort((a, b) => a.return! - b.return!);
    let planted = false;
    for (let i = 0; i < puts.length - 1 && !planted; i++) {
      const older = puts[i]!;
      const newer = puts[i + 1]!;
      if (newer.call <= older.return!) continue; // need newer strictly after older
      const target = history.findIndex((op) => op.op === 'get' && op.call > newer.return! && op.output === newer.value);
      if (target < 0) continue;
      history[target] = { ...history[target]!, output: older.value! };
      planted = true;
    }
    expect(planted).toBe(true);
    const result = checkLinearizable(history);
    expect(result).toMatchObject({ ok: false, key: 'a' });
  });

  it('throws a LinearizabilitySearchLimitError when the budget is exhausted', () => {
    const history = atomicHistory(9, 6, 30, ['a']);
    expect(() => checkLinearizable(history, { maxSteps: 10 })).toThrow(LinearizabilitySearchLimitError);
  });

  it('rejects an operation that returns before its call', () => {
    expect(() => checkLinearizable([get('a', 'x', null, 5, 4)])).toThrow(RangeError);
  });
});
