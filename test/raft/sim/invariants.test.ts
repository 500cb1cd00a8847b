import type { Entry } from '../../../src/raft/types.js';
import { SafetyChecker } from './invariants.js';
import { InvariantError } from './trace.js';

const e = (index: number, term: number, text = `x${index}`): Entry => ({
  index,
  term,
  type: 0,
  data: new TextEncoder().encode(text),
});
const image = (entries: Entry[], term = 9) => ({
  hardState: { term, vote: null, commit: 0 },
  snapshot: undefined,
  entries,
});

describe('SafetyChecker', () => {
  it('observeLeader() rejects a second leader in the same term (election safety)', () => {
    const c = new SafetyChecker();
    c.observeLeader('a', 1);
    c.observeLeader('a', 1);
    c.observeLeader('b', 2);
    expect(() => c.observeLeader('b', 1)).toThrow(InvariantError);
  });

  it('onEntryWritten() rejects two entries with the same index and term but different content or history (log matching)', () => {
    const c = new SafetyChecker();
    c.onEntryWritten('a', e(2, 1), 1);
    c.onEntryWritten('b', e(2, 1), 1);
    expect(() => c.onEntryWritten('c', e(2, 1, 'other'), 1)).toThrow(/log matching|content/);
    expect(() => c.onEntryWritten('c', e(2, 1), 0)).toThrow(InvariantError);
  });

  it('checkLeaderCompleteness() rejects a leader missing an entry committed in an earlier term', () => {
    const c = new SafetyChecker();
    const log = [e(1, 1), e(2, 1)];
    c.observeHardState('a', { term: 1, vote: null, commit: 2 }, image(log));
    c.checkLeaderCompleteness('b', 2, image(log));
    expect(() => c.checkLeaderCompleteness('c', 3, image([e(1, 1)]))).toThrow(/leader completeness|ending at 1/);
    expect(() => c.checkLeaderCompleteness('d', 3, image([e(1, 1), e(2, 2, 'y')]))).toThrow(InvariantError);
  });

  it('onApply() and onRestore() reject diverging state machines (state machine safety)', () => {
    const c = new SafetyChecker();
    const h1 = c.onApply('a', e(1, 1), 0);
    expect(c.onApply('b', e(1, 1), 0)).toBe(h1);
    expect(() => c.onApply('c', e(1, 1, 'other'), 0)).toThrow(InvariantError);
    c.onRestore('d', 1, h1);
    expect(() => c.onRestore('d', 1, h1 + 1)).toThrow(InvariantError);
  });

  it('onReadState() rejects a read index below a write acknowledged before the read began', () => {
    const c = new SafetyChecker();
    c.ack('p1', 5);
    c.requestRead('r1');
    c.onReadState('a', 'r1', -1);
    c.onReadState('a', 'r1', 5);
    expect(() => c.onReadState('a', 'r1', 4)).toThrow(InvariantError);
  });
});
