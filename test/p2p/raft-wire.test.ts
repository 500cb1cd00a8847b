import { MalformedFrameError, RAFT_MESSAGE_TYPES, validateRaftMessage } from '../../src/p2p/index.js';
import type { Message } from '../../src/raft/types.js';
import { sampleMessages } from './helpers.js';

const A = '12D3KooWSenderSenderSenderSenderSenderSenderSenderSe';
const B = '12D3KooWReceiverReceiverReceiverReceiverReceiverRece';
const samples = sampleMessages(A, B);
const sample = (type: Message['type']): Record<string, unknown> => ({ ...samples.find((m) => m.type === type)! });

describe('validateRaftMessage()', () => {
  it('knows every message type of src/raft/types.ts and the samples cover them all', () => {
    expect(new Set(samples.map((m) => m.type))).toEqual(new Set(RAFT_MESSAGE_TYPES));
    expect(RAFT_MESSAGE_TYPES).toHaveLength(11);
  });

  it.each(samples.map((m) => [m.type, m] as const))(
    'validateRaftMessage() accepts a well-formed %s',
    (_type, message) => {
      expect(validateRaftMessage(message)).toEqual(message);
    },
  );

  it('validateRaftMessage() drops unknown fields and returns a fresh object', () => {
    const input = { ...sample('timeoutNow'), extra: 'from a newer peer' };
    const out = validateRaftMessage(input);
    expect(out).toEqual({ type: 'timeoutNow', from: A, to: B, term: 5 });
    expect(out).not.toBe(input);
  });

  it('validateRaftMessage() re-views a Buffer as a plain Uint8Array', () => {
    const out = validateRaftMessage({ ...sample('readIndex'), context: Buffer.from([1, 2]) });
    expect(Object.getPrototypeOf((out as { context: Uint8Array }).context)).toBe(Uint8Array.prototype);
  });

  it('validateRaftMessage() ignores fields inherited through a prototype', () => {
    const sneaky = Object.create({ preVote: true, granted: true }) as Record<string, unknown>;
    Object.assign(sneaky, { type: 'voteResp', from: A, to: B, term: 1 });
    expect(() => validateRaftMessage(sneaky)).toThrow(/voteResp\.preVote: expected a boolean, got nothing/);
  });

  const append = sample('append') as { entries: Array<Record<string, unknown>> };
  const withEntry = (patch: Record<string, unknown>): Record<string, unknown> => ({
    ...append,
    entries: [{ ...append.entries[0], ...patch }, ...append.entries.slice(1)],
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', 'vote', /message: expected an object, got "vote"/],
    ['an array', [sample('vote')], /message: expected an object, got an array of 1/],
    ['null', null, /message: expected an object, got null/],
    ['an unknown type', { ...sample('vote'), type: 'bogus' }, /message\.type: expected one of vote, voteResp/],
    ['a missing type', { from: A, to: B, term: 1 }, /message\.type: .* got nothing/],
    ['type from the prototype chain', { ...sample('vote'), type: 'constructor' }, /message\.type/],
    ['a missing from', { ...sample('vote'), from: undefined }, /vote\.from: expected a node id/],
    ['an empty to', { ...sample('vote'), to: '' }, /vote\.to: expected a node id/],
    ['an overlong from', { ...sample('vote'), from: 'x'.repeat(257) }, /vote\.from: expected a node id/],
    ['a negative term', { ...sample('vote'), term: -1 }, /vote\.term: expected an integer >= 0, got number -1/],
    ['a fractional term', { ...sample('vote'), term: 1.5 }, /vote\.term: expected an integer >= 0/],
    ['an unsafe integer', { ...sample('vote'), lastLogIndex: 2 ** 53 }, /vote\.lastLogIndex: expected an integer/],
    ['a bigint', { ...sample('vote'), lastLogTerm: 1n }, /vote\.lastLogTerm: expected an integer >= 0, got bigint 1/],
    ['a string number', { ...sample('vote'), term: '3' }, /vote\.term: expected an integer >= 0, got "3"/],
    ['a non-boolean preVote', { ...sample('vote'), preVote: 1 }, /vote\.preVote: expected a boolean/],
    [
      'a missing transfer',
      { ...sample('vote'), transfer: undefined },
      /vote\.transfer: expected a boolean, got nothing/,
    ],
    ['a missing granted', { ...sample('voteResp'), granted: undefined }, /voteResp\.granted/],
    ['entries not an array', { ...append, entries: {} }, /append\.entries: expected an array of entries/],
    ['an entry that is not an object', { ...append, entries: [7] }, /append\.entries\[0\]: expected an object/],
    [
      'entry data as a string',
      withEntry({ data: 'abc' }),
      /append\.entries\[0\]\.data: expected a Uint8Array, got "abc"/,
    ],
    ['entry data as numbers', withEntry({ data: [1, 2] }), /append\.entries\[0\]\.data: expected a Uint8Array/],
    [
      'entry data as another typed array',
      withEntry({ data: new Uint16Array(2) }),
      /entries\[0\]\.data: expected a Uint8Array/,
    ],
    [
      'an unknown entry type',
      withEntry({ type: 7 }),
      /append\.entries\[0\]\.type: expected one of 0, 1, 2, got number 7/,
    ],
    ['entry index 0', withEntry({ index: 0 }), /append\.entries\[0\]\.index: expected an integer >= 1/],
    [
      'a gap in entry indexes',
      withEntry({ index: 12 }),
      /append\.entries\[0\]\.index: expected 11 \(prevLogIndex \+ 1/,
    ],
    ['a missing commit', { ...append, commit: undefined }, /append\.commit/],
    [
      'a negative hintTerm',
      { ...sample('appendResp'), hintTerm: -2 },
      /appendResp\.hintTerm: expected an integer >= 0/,
    ],
    [
      'heartbeat context as a string',
      { ...sample('heartbeat'), context: 'c' },
      /heartbeat\.context: expected a Uint8Array/,
    ],
    [
      'heartbeatResp context null',
      { ...sample('heartbeatResp'), context: null },
      /heartbeatResp\.context: expected a Uint8Array, got null/,
    ],
    [
      'a snapshot without meta',
      { ...sample('snapshot'), meta: undefined },
      /snapshot\.meta: expected an object, got nothing/,
    ],
    [
      'a snapshot voter that is not a string',
      { ...sample('snapshot'), meta: { index: 1, term: 1, conf: { voters: [A, 5], learners: [] } } },
      /snapshot\.meta\.conf\.voters\[1\]: expected a node id/,
    ],
    [
      'snapshot learners missing',
      { ...sample('snapshot'), meta: { index: 1, term: 1, conf: { voters: [] } } },
      /snapshot\.meta\.conf\.learners: expected an array of node ids/,
    ],
    ['a snapshot chunk as a string', { ...sample('snapshot'), chunk: 'xyz' }, /snapshot\.chunk: expected a Uint8Array/],
    ['a negative snapshot offset', { ...sample('snapshot'), offset: -1 }, /snapshot\.offset/],
    ['snapshotResp meta.term missing', { ...sample('snapshotResp'), meta: { index: 3 } }, /snapshotResp\.meta\.term/],
    ['a non-boolean reject', { ...sample('snapshotResp'), reject: 'no' }, /snapshotResp\.reject: expected a boolean/],
    [
      'a readIndex without context',
      { ...sample('readIndex'), context: undefined },
      /readIndex\.context: expected a Uint8Array, got nothing/,
    ],
    [
      'a readIndexResp index below -1',
      { ...sample('readIndexResp'), index: -2 },
      /readIndexResp\.index: expected an integer >= -1/,
    ],
  ])('validateRaftMessage() rejects %s', (_name, input, message) => {
    let thrown: unknown;
    try {
      validateRaftMessage(input);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(MalformedFrameError);
    expect((thrown as Error).message).toMatch(/^Cannot accept raft message: /);
    expect((thrown as Error).message).toMatch(message);
  });
});
