import { EntryType, type Entry } from '../../src/raft/types.js';
import { encodePut, KvCommandError, KvStateMachine } from './kv-state-machine.js';

const entry = (index: number, data: Uint8Array, type: EntryType = EntryType.Normal): Entry => ({
  index,
  term: 1,
  type,
  data,
});

describe('KvStateMachine', () => {
  it('apply() stores the value and returns the previous one', () => {
    const kv = new KvStateMachine();
    expect(kv.apply(entry(1, encodePut({ key: 'a', value: '1', id: 'p1' })))).toBeNull();
    expect(kv.apply(entry(2, encodePut({ key: 'a', value: '2', id: 'p2' })))).toBe('1');
    expect(kv.get('a')).toBe('2');
    expect(kv.get('b')).toBeNull();
    expect(kv.applied).toBe(2);
  });

  it('apply() of a retried id returns the first result and writes nothing', () => {
    const kv = new KvStateMachine();
    kv.apply(entry(1, encodePut({ key: 'a', value: '1', id: 'p1' })));
    kv.apply(entry(2, encodePut({ key: 'a', value: '2', id: 'p2' })));
    expect(kv.apply(entry(3, encodePut({ key: 'a', value: '1', id: 'p1' })))).toBeNull();
    expect(kv.get('a')).toBe('2');
  });

  it('apply() ignores no-op entries', () => {
    const kv = new KvStateMachine();
    expect(kv.apply(entry(1, new Uint8Array(), EntryType.Noop))).toBeNull();
  });

  it('apply() throws a KvCommandError on a foreign command', () => {
    const kv = new KvStateMachine();
    expect(() => kv.apply(entry(1, new TextEncoder().encode('hello')))).toThrow(KvCommandError);
  });

  it('snapshot() and restore() round-trip data and ids', () => {
    const kv = new KvStateMachine();
    kv.apply(entry(1, encodePut({ key: 'a', value: '1', id: 'p1' })));
    const copy = new KvStateMachine();
    copy.restore(kv.snapshot(), 1);
    expect(copy.get('a')).toBe('1');
    expect(copy.applied).toBe(1);
    expect(copy.apply(entry(2, encodePut({ key: 'a', value: '9', id: 'p1' })))).toBeNull();
    expect(copy.get('a')).toBe('1');
  });
});
