import type { Entry } from '../../../src/raft/types.js';
import { lastIndex, SimDisk, termAt } from './disk.js';
import { InvariantError } from './trace.js';

const e = (index: number, term: number): Entry => ({ index, term, type: 0, data: new Uint8Array([index]) });
const hooks = { onEntryWritten: () => undefined };

describe('SimDisk', () => {
  it('write() is visible at once but durable only after completeSync()', () => {
    const disk = new SimDisk(hooks);
    disk.write({ entries: [e(1, 1), e(2, 1)], hardState: { term: 1, vote: 'a', commit: 0 } });
    expect(lastIndex(disk.written)).toBe(2);
    expect(lastIndex(disk.durable)).toBe(0);
    disk.completeSync(disk.beginSync());
    expect(lastIndex(disk.durable)).toBe(2);
    expect(disk.durable.hardState.vote).toBe('a');
  });

  it('crash() keeps the durable image plus the first `keep` unsynced writes', () => {
    const disk = new SimDisk(hooks);
    disk.write({ entries: [e(1, 1)], hardState: { term: 1, vote: null, commit: 0 } });
    disk.completeSync(disk.beginSync());
    disk.write({ entries: [e(2, 1)], hardState: { term: 1, vote: 'b', commit: 1 } });
    disk.write({ entries: [e(3, 1)] });
    expect(disk.unsynced).toBe(2);
    disk.crash(1);
    expect(lastIndex(disk.written)).toBe(2);
    expect(disk.written.hardState.vote).toBe('b');
    expect(disk.load(undefined).entries.map((x) => x.index)).toEqual([1, 2]);
  });

  // seeds 2677, 7106, 7862: a torn tail kept a Ready's entries of term 12 without its hard
  // state of term 12, and the node came back with a log ahead of its term
  it("crash() keeps a Ready's entries and hard state together or not at all", () => {
    const disk = new SimDisk(hooks);
    disk.write({ entries: [e(1, 1)], hardState: { term: 1, vote: null, commit: 0 } });
    disk.completeSync(disk.beginSync());
    disk.write({ entries: [e(2, 2), e(3, 2)], hardState: { term: 2, vote: 'b', commit: 1 } });
    expect(disk.unsynced).toBe(1);
    disk.crash(0);
    expect([lastIndex(disk.written), disk.written.hardState.term]).toEqual([1, 1]);
    disk.write({ entries: [e(2, 2)], hardState: { term: 2, vote: 'b', commit: 1 } });
    disk.crash(1);
    expect([lastIndex(disk.written), disk.written.hardState.term]).toEqual([2, 2]);
  });

  it('write() truncates a conflicting suffix and keeps log terms', () => {
    const disk = new SimDisk(hooks);
    disk.write({ entries: [e(1, 1), e(2, 1), e(3, 1)], hardState: { term: 2, vote: null, commit: 0 } });
    disk.write({ entries: [e(2, 2)] });
    expect(lastIndex(disk.written)).toBe(2);
    expect(termAt(disk.written, 2)).toBe(2);
  });

  it('saveSnapshot() drops the log up to the snapshot and keeps the rest', () => {
    const disk = new SimDisk(hooks);
    disk.write({ entries: [e(1, 1), e(2, 1), e(3, 1)], hardState: { term: 1, vote: null, commit: 3 } });
    disk.saveSnapshot({ meta: { index: 2, term: 1, conf: { voters: ['a'], learners: [] } }, data: new Uint8Array() });
    expect(disk.written.entries.map((x) => x.index)).toEqual([3]);
    expect(termAt(disk.written, 2)).toBe(1);
  });

  it.each([
    ['a gap in the log', () => ({ entries: [e(3, 1)] })],
    ['a term that goes back', () => ({ entries: [], hardState: { term: 0, vote: null, commit: 0 } })],
    ['a changed vote in the same term', () => ({ entries: [], hardState: { term: 1, vote: 'z', commit: 0 } })],
    ['a commit beyond the log', () => ({ entries: [], hardState: { term: 1, vote: 'a', commit: 9 } })],
  ])('write() rejects %s with an InvariantError', (_name, parts) => {
    const disk = new SimDisk(hooks);
    disk.write({ entries: [e(1, 1)], hardState: { term: 1, vote: 'a', commit: 0 } });
    expect(() => disk.write(parts())).toThrow(InvariantError);
  });

  it('a lying fsync never makes anything durable', () => {
    const disk = new SimDisk(hooks, 'lyingFsync');
    disk.write({ entries: [e(1, 1)], hardState: { term: 1, vote: 'a', commit: 0 } });
    disk.completeSync(disk.beginSync());
    disk.crash(0);
    expect(lastIndex(disk.written)).toBe(0);
  });
});
