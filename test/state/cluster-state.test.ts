import { encode } from 'cbor-x';
import { EntryType } from '../../src/raft/types.js';
import { ClusterStateMachine, encodeCommand, type Command } from '../../src/state/index.js';
import { CLUSTER_ID, T0, entries, init, peerId, register, tokenFields } from './helpers.js';

/** A machine with the cluster initialized and nodes 1 and 2 registered (applied index 3). */
function started(): ClusterStateMachine {
  const machine = new ClusterStateMachine();
  for (const entry of entries([init(), register(1), register(2)])) expect(machine.apply(entry).ok).toBe(true);
  return machine;
}

/** Apply one command as the next entry. */
function applyNext(machine: ClusterStateMachine, command: Command | Uint8Array) {
  return machine.apply(entries([command], machine.appliedIndex + 1)[0]!);
}

describe('ClusterStateMachine.apply()', () => {
  it('initializes the cluster with its token and default settings', () => {
    const machine = new ClusterStateMachine();
    expect(applyNext(machine, init())).toEqual({ ok: true, index: 1, type: 'cluster.init' });
    expect(machine.cluster()).toEqual({ id: CLUSTER_ID, name: 'lab', createdAt: T0 });
    expect(machine.tokenKey()).toEqual({
      key: tokenFields(0).tokenKey,
      fingerprint: tokenFields(0).fingerprint,
      rotatedAt: T0,
    });
    expect(machine.settings()).toEqual({ targetVoters: 3, nodeDownGraceMs: 5_000, voterReplaceGraceMs: 300_000 });
    expect(machine.appliedIndex).toBe(1);
  });

  it('registers nodes as active members, listed by id', () => {
    const machine = started();
    expect(machine.nodes().map((n) => n.id)).toEqual([peerId(1), peerId(2)]);
    expect(machine.isMember(peerId(1))).toBe(true);
    expect(machine.isMember(peerId(3))).toBe(false);
    expect(machine.node(peerId(1))).toMatchObject({
      hostname: 'node-1',
      availability: 'active',
      registeredAt: T0 + 1,
      updatedAt: T0 + 1,
    });
  });

  it('keeps availability and registration time when a member registers again', () => {
    const machine = started();
    applyNext(machine, { v: 1, type: 'node.setAvailability', id: peerId(1), availability: 'drain', at: T0 + 10 });
    expect(applyNext(machine, register(1, T0 + 20, { addresses: ['/ip4/10.9.9.9/tcp/1'] })).ok).toBe(true);
    expect(machine.node(peerId(1))).toMatchObject({
      availability: 'drain',
      registeredAt: T0 + 1,
      updatedAt: T0 + 20,
      addresses: ['/ip4/10.9.9.9/tcp/1'],
    });
  });

  it('updates only the given facts of a node', () => {
    const machine = started();
    const resources = {
      cpus: 4,
      memoryBytes: 1024,
      gpus: [{ index: 0, uuid: 'GPU-1', name: 'L4', memoryBytes: 2048 }],
    };
    applyNext(machine, { v: 1, type: 'node.update', id: peerId(1), resources, at: T0 + 5 });
    expect(machine.node(peerId(1))).toMatchObject({
      resources,
      labels: { zone: 'b' },
      hostname: 'node-1',
      updatedAt: T0 + 5,
    });
  });

  it('adds and removes labels', () => {
    const machine = started();
    applyNext(machine, {
      v: 1,
      type: 'node.labels',
      id: peerId(1),
      add: { gpu: 'h100', rack: '4' },
      remove: ['zone', 'absent'],
      at: T0 + 5,
    });
    expect(machine.node(peerId(1))?.labels).toEqual({ gpu: 'h100', rack: '4' });
  });

  it('removes a node into the revoked set and refuses its registration afterwards', () => {
    const machine = started();
    expect(applyNext(machine, { v: 1, type: 'node.remove', id: peerId(2), at: T0 + 9 })).toMatchObject({
      ok: true,
      type: 'node.remove',
    });
    expect(machine.isMember(peerId(2))).toBe(false);
    expect(machine.isRevoked(peerId(2))).toBe(true);
    expect(machine.revoked()).toEqual([{ id: peerId(2), hostname: 'node-2', revokedAt: T0 + 9 }]);
    expect(applyNext(machine, register(2))).toMatchObject({
      ok: false,
      reason: 'refused',
      error: expect.stringMatching(/was removed from the cluster and cannot register again/),
    });
    expect(applyNext(machine, { v: 1, type: 'node.remove', id: peerId(2), at: T0 })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/was removed/),
    });
  });

  it('rotates the token key', () => {
    const machine = started();
    expect(applyNext(machine, { v: 1, type: 'token.rotate', ...tokenFields(1), at: T0 + 50 }).ok).toBe(true);
    expect(machine.tokenKey()).toEqual({
      key: tokenFields(1).tokenKey,
      fingerprint: tokenFields(1).fingerprint,
      rotatedAt: T0 + 50,
    });
  });

  it('changes settings partially', () => {
    const machine = started();
    applyNext(machine, { v: 1, type: 'settings.set', targetVoters: 5, voterReplaceGraceMs: 600_000, at: T0 });
    expect(machine.settings()).toEqual({ targetVoters: 5, nodeDownGraceMs: 5_000, voterReplaceGraceMs: 600_000 });
  });

  it('skips Noop and ConfChange entries but counts their index', () => {
    const machine = started();
    expect(machine.apply({ index: 4, term: 2, type: EntryType.Noop, data: new Uint8Array() })).toEqual({
      ok: true,
      index: 4,
      type: null,
    });
    expect(machine.apply({ index: 6, term: 2, type: EntryType.ConfChange, data: new Uint8Array([1]) })).toEqual({
      ok: true,
      index: 6,
      type: null,
    });
    expect(machine.appliedIndex).toBe(6);
  });

  it('tolerates gaps in indexes (entries applied elsewhere) but refuses an index already applied', () => {
    const machine = started();
    expect(machine.apply(entries([register(3)], 10)[0]!).ok).toBe(true);
    const before = machine.snapshot();
    expect(machine.apply(entries([register(4)], 10)[0]!)).toMatchObject({ ok: false, reason: 'stale', index: 10 });
    expect(machine.apply(entries([register(4)], 2)[0]!)).toMatchObject({ ok: false, reason: 'stale' });
    expect(machine.snapshot()).toEqual(before);
    expect(machine.isMember(peerId(4))).toBe(false);
  });

  it('hands out a frozen state that later commands do not change', () => {
    const machine = started();
    const view = machine.state();
    applyNext(machine, { v: 1, type: 'node.remove', id: peerId(1), at: T0 });
    expect(view.nodes[peerId(1)]).toBeDefined();
    expect(machine.state().nodes[peerId(1)]).toBeUndefined();
    expect(Object.isFrozen(view.nodes[peerId(2)]!.labels)).toBe(true);
    expect(() => {
      (view.nodes[peerId(2)]!.labels as Record<string, string>).zone = 'x';
    }).toThrow(TypeError);
  });
});

describe('ClusterStateMachine.apply() on bad or inapplicable entries', () => {
  const cases: Array<[string, (m: ClusterStateMachine) => Command | Uint8Array, 'invalid' | 'refused', RegExp]> = [
    ['bytes that are not CBOR', () => new Uint8Array([0xff, 0x00, 0x13]), 'invalid', /^command: not valid CBOR/],
    [
      'an invalid command',
      () => new Uint8Array(encode({ ...register(3), labels: { zone: 3 } })),
      'invalid',
      /^node.register: labels.zone: expected a string, got 3$/,
    ],
    [
      'a command of a newer format',
      () => new Uint8Array(encode({ ...register(3), v: 2 })),
      'invalid',
      /^node.register: v: expected command format version 1/,
    ],
    [
      'a second cluster.init',
      () => init(T0 + 1),
      'refused',
      /^cluster.init: the cluster is already initialized as lab/,
    ],
    [
      'an update of an unknown node',
      () => ({ v: 1, type: 'node.update', id: peerId(9), version: '2', at: T0 }),
      'refused',
      /^node.update: node 12D3KooW0009\w+ is not a member of the cluster/,
    ],
    [
      'a drain of an unknown node',
      () => ({ v: 1, type: 'node.setAvailability', id: peerId(9), availability: 'drain', at: T0 }),
      'refused',
      /is not a member/,
    ],
    [
      'a label change of an unknown node',
      () => ({ v: 1, type: 'node.labels', id: peerId(9), add: { a: 'b' }, at: T0 }),
      'refused',
      /is not a member/,
    ],
    [
      'a removal of an unknown node',
      () => ({ v: 1, type: 'node.remove', id: peerId(9), at: T0 }),
      'refused',
      /is not a member/,
    ],
    [
      'a rotation to the current token',
      () => ({ v: 1, type: 'token.rotate', ...tokenFields(0), at: T0 }),
      'refused',
      /^token.rotate: the new token is the current one/,
    ],
    [
      'settings where voters are replaced before their node is down',
      () => ({ v: 1, type: 'settings.set', voterReplaceGraceMs: 1_000, at: T0 }),
      'refused',
      /^settings.set: voterReplaceGraceMs: must be >= nodeDownGraceMs \(5000\), got 1000/,
    ],
  ];

  it.each(cases)('refuses %s and changes nothing but the applied index', (_what, make, reason, error) => {
    const machine = started();
    const state = machine.state();
    const before = machine.snapshot();
    const result = applyNext(machine, make(machine));
    expect(result).toMatchObject({ ok: false, index: 4, reason });
    if (!result.ok) expect(result.error).toMatch(error);
    expect(machine.state()).toBe(state);
    expect(machine.appliedIndex).toBe(4);
    // The snapshot differs only by the applied index it records.
    const reference = started();
    reference.apply({ index: 4, term: 1, type: EntryType.Noop, data: new Uint8Array() });
    expect(machine.snapshot()).toEqual(reference.snapshot());
    expect(machine.snapshot()).not.toEqual(before);
  });

  it('refuses every command before cluster.init', () => {
    const machine = new ClusterStateMachine();
    expect(applyNext(machine, register(1))).toMatchObject({
      ok: false,
      reason: 'refused',
      error: expect.stringMatching(/not initialized yet: the first command must be cluster.init/),
    });
    expect(machine.nodes()).toEqual([]);
  });

  it('refuses the same way on every peer (the error is part of the deterministic result)', () => {
    const bytes = encodeCommand({ v: 1, type: 'node.remove', id: peerId(7), at: T0 });
    const results = [started(), started()].map((m) => applyNext(m, bytes));
    expect(results[0]).toEqual(results[1]);
  });
});
