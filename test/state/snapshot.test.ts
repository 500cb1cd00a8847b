import { decode, encode } from 'cbor-x';
import {
  ClusterStateMachine,
  InvalidSnapshotError,
  decodeState,
  emptyState,
  encodeState,
} from '../../src/state/index.js';
import { entries, init, peerId, register } from './helpers.js';

function started(): ClusterStateMachine {
  const machine = new ClusterStateMachine();
  for (const entry of entries([init(), register(1), register(2)])) machine.apply(entry);
  return machine;
}

/** A decoded snapshot envelope, typed loosely so a test can break any part of it. */
interface Envelope {
  [key: string]: unknown;
  state: {
    [key: string]: unknown;
    nodes: Record<string, { id: string; labels: Record<string, unknown> }>;
    revoked: Record<string, unknown>;
    token: { fingerprint: string };
  };
}

/** A valid snapshot envelope, decoded so a test can break one part of it. */
function envelope(): Envelope {
  return decode(started().snapshot());
}

describe('encodeState() and decodeState()', () => {
  it('round-trip the state and applied index', () => {
    const machine = started();
    expect(decodeState(machine.snapshot(), 3)).toMatchObject({ state: machine.state(), appliedIndex: 3 });
  });

  it('round-trip the empty state', () => {
    expect(decodeState(encodeState(emptyState(), 0))).toMatchObject({ state: emptyState(), appliedIndex: 0 });
  });

  it('decodeState() accepts a state older than the Raft snapshot index (Noop entries after the last command)', () => {
    const machine = new ClusterStateMachine();
    expect(decodeState(encodeState(machine.state(), 2), 5)).toMatchObject({ state: machine.state(), appliedIndex: 5 });
  });

  it.each<[string, (e: Envelope) => unknown, RegExp]>([
    ['not CBOR', () => new Uint8Array([0xff, 0xfe]), /^state snapshot: not valid CBOR/],
    ['another kind of file', () => encode({ hello: 'world' }), /^state snapshot: not a shoal state snapshot/],
    [
      'a newer version',
      (e) => encode({ ...e, version: 2 }),
      /^state snapshot: version: this shoal reads state version 1, the snapshot has version 2: upgrade this node/,
    ],
    [
      'a state newer than the snapshot index',
      (e) => encode({ ...e, appliedIndex: 9 }),
      /^state snapshot: appliedIndex: the snapshot holds state up to index 9, newer than the index 3 it is being restored as$/,
    ],
    [
      'a node with a bad label',
      (e) => {
        e.state.nodes[peerId(1)]!.labels.zone = 3;
        return encode(e);
      },
      /^state snapshot: state\.nodes\.12D3KooW0001\w+\.labels\.zone: expected a string, got 3$/,
    ],
    [
      'a node filed under another id',
      (e) => {
        e.state.nodes[peerId(1)]!.id = peerId(5);
        return encode(e);
      },
      /state\.nodes\.12D3KooW0001\w+\.id: does not match the key it is filed under/,
    ],
    [
      'a node both member and revoked',
      (e) => {
        e.state.revoked[peerId(1)] = { id: peerId(1), hostname: 'h', revokedAt: 1 };
        return encode(e);
      },
      /is both a member and revoked/,
    ],
    [
      'a missing token',
      (e) => encode({ ...e, state: { ...e.state, token: null } }),
      /state\.token: a cluster and its token come together/,
    ],
    [
      'a token with a wrong fingerprint',
      (e) => {
        e.state.token.fingerprint = '0'.repeat(16);
        return encode(e);
      },
      /state\.token\.fingerprint: does not match the key/,
    ],
    ['an unknown field', (e) => encode({ ...e, state: { ...e.state, extra: 1 } }), /state\.extra: unknown field/],
    [
      'workloads that are not a map',
      (e) => encode({ ...e, state: { ...e.state, tasks: [] } }),
      /state\.tasks: expected an object, got a list/,
    ],
  ])('refuse %s', (_what, make, message) => {
    const bytes = make(envelope()) as Uint8Array;
    expect(() => decodeState(bytes, 3)).toThrow(InvalidSnapshotError);
    expect(() => decodeState(bytes, 3)).toThrow(message);
  });
});

describe('ClusterStateMachine.restore()', () => {
  it('keeps the current state when the snapshot is invalid', () => {
    const machine = started();
    const before = machine.snapshot();
    const other = started();
    other.apply(entries([register(3)], 4)[0]!);
    expect(() => machine.restore(other.snapshot(), 3)).toThrow(/holds state up to index 4, newer than the index 3/);
    expect(machine.snapshot()).toEqual(before);
    expect(machine.appliedIndex).toBe(3);
  });

  it('replaces state and applied index', () => {
    const machine = new ClusterStateMachine();
    const source = started();
    machine.restore(source.snapshot(), 3);
    expect(machine.appliedIndex).toBe(3);
    expect(machine.nodes()).toEqual(source.nodes());
    expect(machine.apply(entries([register(2)], 3)[0]!)).toMatchObject({ ok: false, reason: 'stale' });
  });
});
