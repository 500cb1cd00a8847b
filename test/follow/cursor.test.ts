import {
  FeedCursor,
  FeedProtocolError,
  parseFeedFrame,
  parseFeedRequest,
  parsePresenceFrame,
} from '../../src/follow/index.js';
import type { FeedFrame } from '../../src/follow/index.js';
import { EntryType } from '../../src/raft/types.js';
import { RecordingMachine, span } from './helpers.js';

const view = { leader: 'L', conf: { voters: ['L', 'M'], learners: [] } };

function entries(first: number, last: number): FeedFrame {
  return { t: 'entries', entries: span(first, last), ...view };
}

describe('FeedCursor', () => {
  it('accept() applies contiguous entries and reports leader and conf changes once', () => {
    const machine = new RecordingMachine();
    const cursor = new FeedCursor(machine, 0);
    const first = cursor.accept({
      t: 'snapshot',
      index: 5,
      term: 2,
      size: 3,
      offset: 0,
      chunk: new Uint8Array(3),
      ...view,
    });
    expect(first).toMatchObject({ restored: { index: 5, term: 2 }, leaderChanged: true, confChanged: true });
    const step = cursor.accept(entries(6, 8));
    expect(step.applied.map((e) => e.index)).toEqual([6, 7, 8]);
    expect([step.leaderChanged, step.confChanged]).toEqual([false, false]);
    expect(machine.applied).toEqual([6, 7, 8]);
    expect(cursor.applied).toBe(8);
  });

  it('accept() refuses a gap and a repeat', () => {
    const cursor = new FeedCursor(new RecordingMachine(), 10);
    expect(() => cursor.accept(entries(12, 13))).toThrow(
      'Cannot apply entries from 12 as the applied index is 10: the source skipped entries',
    );
    expect(() => cursor.accept(entries(9, 11))).toThrow(FeedProtocolError);
    expect(cursor.applied).toBe(10);
  });

  it('assembles a chunked snapshot and refuses a chunk at the wrong offset', () => {
    const machine = new RecordingMachine();
    const cursor = new FeedCursor(machine, 0);
    const chunk = (offset: number, n: number): FeedFrame => ({
      t: 'snapshot',
      index: 9,
      term: 1,
      size: 5,
      offset,
      chunk: new Uint8Array(n),
      ...view,
    });
    expect(cursor.accept(chunk(0, 2)).restored).toBeUndefined();
    expect(() => cursor.accept(entries(10, 10))).toThrow('the snapshot at 9 is incomplete (2 of 5 bytes)');
    expect(() => cursor.accept(chunk(3, 2))).toThrow('expected index 9, size 5, offset 2');
    cursor.restart();
    cursor.accept(chunk(0, 2));
    expect(cursor.accept(chunk(2, 3)).restored).toEqual({ index: 9, term: 1 });
    expect(machine.restores).toEqual([{ index: 9, bytes: 5 }]);
  });

  it('refuses a snapshot that would roll the state back or is over the limit', () => {
    const cursor = new FeedCursor(new RecordingMachine(), 20, { maxSnapshotBytes: 10 });
    const snap = (index: number, size: number): FeedFrame => ({
      t: 'snapshot',
      index,
      term: 1,
      size,
      offset: 0,
      chunk: new Uint8Array(1),
      ...view,
    });
    expect(() => cursor.accept(snap(19, 4))).toThrow('it would roll the state back');
    expect(() => cursor.accept(snap(30, 11))).toThrow('over the limit of 10 bytes');
  });

  it('turns a state machine that cannot restore into a protocol error', () => {
    const cursor = new FeedCursor(
      {
        apply: () => undefined,
        restore: () => {
          throw new Error('not a shoal state snapshot');
        },
      },
      0,
    );
    expect(() =>
      cursor.accept({ t: 'snapshot', index: 1, term: 1, size: 1, offset: 0, chunk: new Uint8Array(1), ...view }),
    ).toThrow('Cannot restore the snapshot at 1: not a shoal state snapshot');
  });
});

describe('parseFeedFrame()', () => {
  const good = {
    t: 'entries',
    entries: [{ index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array(1) }],
    ...view,
  };

  it('keeps only the known fields', () => {
    expect(parseFeedFrame({ ...good, extra: 1 })).toEqual(good);
  });

  it.each([
    ['a non-object', 7, 'Cannot accept feed frame: frame: expected an object, got number 7'],
    [
      'an unknown type',
      { t: 'boom' },
      'Cannot accept feed frame: t: expected "entries", "snapshot" or "keepalive", got "boom"',
    ],
    ['no entries', { ...good, entries: [] }, 'entries: expected an array of 1..10000 entries, got an array of 0'],
    [
      'an entry with a bad type',
      { ...good, entries: [{ index: 1, term: 1, type: 7, data: new Uint8Array() }] },
      'entries[0].type: expected one of 0, 1, 2, got number 7',
    ],
    [
      'non-contiguous entries',
      { ...good, entries: [...span(1, 1), ...span(3, 3)] },
      'entries[1].index: expected 2 (contiguous), got number 3',
    ],
    [
      'index 0',
      { ...good, entries: [{ ...span(1, 1)[0]!, index: 0 }] },
      'index: expected an integer >= 1, got number 0',
    ],
    [
      'a string as data',
      { ...good, entries: [{ ...span(1, 1)[0]!, data: 'x' }] },
      'data: expected a byte string, got "x"',
    ],
    ['a bad leader', { ...good, leader: 5 }, 'leader: expected a node id'],
    ['a conf that is not one', { ...good, conf: [] }, 'conf: expected an object, got an array of 0'],
    [
      'a voter that is not an id',
      { ...good, conf: { voters: [''], learners: [] } },
      'conf.voters[0]: expected a node id',
    ],
    [
      'a chunk past the size',
      { t: 'snapshot', index: 1, term: 1, size: 2, offset: 1, chunk: new Uint8Array(2), ...view },
      'chunk: expected at most 1 bytes (size 2, offset 1), got 2 bytes',
    ],
    ['a keepalive with a float index', { t: 'keepalive', index: 1.5, ...view }, 'index: expected an integer >= 0'],
  ])('refuses %s with a clear error', (_what, frame, message) => {
    expect(() => parseFeedFrame(frame)).toThrow(FeedProtocolError);
    expect(() => parseFeedFrame(frame)).toThrow(message);
  });

  it('never reads a field through the prototype', () => {
    const frame = JSON.parse(
      '{"t":"keepalive","__proto__":{"index":1},"leader":null,"conf":{"voters":[],"learners":[]}}',
    );
    expect(() => parseFeedFrame(frame)).toThrow('index: expected an integer >= 0, got nothing');
  });
});

describe('parseFeedRequest() and parsePresenceFrame()', () => {
  it('accept what the protocol says and refuse the rest', () => {
    expect(parseFeedRequest({ from: 3 })).toEqual({ from: 3 });
    expect(() => parseFeedRequest({ from: -1 })).toThrow('Cannot accept feed request: from: expected an integer >= 0');
    expect(parsePresenceFrame({ t: 'here', index: 0 })).toEqual({ t: 'here', index: 0 });
    expect(() => parsePresenceFrame({ t: 'hi', index: 0 })).toThrow('t: expected "here", got "hi"');
  });
});
