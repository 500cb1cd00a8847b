import { coalesceMessages } from '../../../src/raft/driver/coalesce.js';
import {
  EntryType,
  type AppendRequest,
  type AppendResponse,
  type Entry,
  type Message,
} from '../../../src/raft/types.js';

const entry = (index: number, term = 2, bytes = 4): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: new Uint8Array(bytes).fill(index),
});

/** The append the core sends for one proposal at `index` (prev = index - 1). */
const append = (to: string, index: number, commit: number, term = 2): AppendRequest => ({
  type: 'append',
  from: 'L',
  to,
  term,
  prevLogIndex: index - 1,
  prevLogTerm: term,
  entries: [entry(index, term)],
  commit,
});

const ack = (index: number, term = 2, success = true): AppendResponse => ({
  type: 'appendResp',
  from: 'F',
  to: 'L',
  term,
  success,
  index,
  hintIndex: 0,
  hintTerm: 0,
});

const heartbeat = (to: string): Message => ({ type: 'heartbeat', from: 'L', to, term: 2, commit: 3 });

describe('coalesceMessages()', () => {
  it('coalesceMessages() merges one append per proposal into one append per follower', () => {
    const out = coalesceMessages([append('A', 5, 3), append('B', 5, 3), append('A', 6, 4), append('B', 6, 4)]);
    expect(out).toEqual([
      { ...append('A', 5, 4), entries: [entry(5), entry(6)] },
      { ...append('B', 5, 4), entries: [entry(5), entry(6)] },
    ]);
  });

  it('coalesceMessages() folds a commit-only append into the append before it', () => {
    const commitOnly: AppendRequest = { ...append('A', 7, 6), entries: [] }; // prev 6: where the first one ends
    expect(coalesceMessages([append('A', 6, 5), commitOnly])).toEqual([append('A', 6, 6)]);
  });

  it.each<[string, AppendRequest]>([
    ['a gap in the indexes', append('A', 8, 4)],
    ['another term', append('A', 6, 4, 3)],
    ['a different previous term', { ...append('A', 6, 4), prevLogTerm: 1 }],
  ])('coalesceMessages() keeps appends apart across %s', (_, second) => {
    const messages = [append('A', 5, 3), second];
    expect(coalesceMessages(messages)).toEqual(messages);
  });

  it('coalesceMessages() does not merge across another message to the same peer', () => {
    const messages = [append('A', 5, 3), heartbeat('A'), append('A', 6, 4)];
    expect(coalesceMessages(messages)).toEqual(messages);
  });

  it('coalesceMessages() keeps a merged append within the byte bound', () => {
    const out = coalesceMessages([append('A', 5, 3), append('A', 6, 3), append('A', 7, 3)], 8);
    expect(out.map((m) => (m as AppendRequest).entries.map((e) => e.index))).toEqual([[5, 6], [7]]);
  });

  it('coalesceMessages() sends only the highest successful answer of a term', () => {
    const reject = ack(9, 2, false);
    expect(coalesceMessages([ack(5), ack(6), reject, ack(8)])).toEqual([reject, ack(8)]);
    expect(coalesceMessages([ack(8), ack(6)])).toEqual([ack(8)]);
  });

  it('coalesceMessages() keeps answers of different terms', () => {
    const messages = [ack(5, 2), ack(6, 3)];
    expect(coalesceMessages(messages)).toEqual(messages);
  });

  it('coalesceMessages() leaves the input untouched', () => {
    const messages = [append('A', 5, 3), append('A', 6, 4)];
    const copy = structuredClone(messages);
    coalesceMessages(messages);
    expect(messages).toEqual(copy);
  });
});
