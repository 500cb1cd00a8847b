/**
 * Client request ids: the state machine applies a command with a given request id at most once,
 * remembers the first outcome for retries, forgets ids by leader time, and keeps them in the
 * snapshot so a restored peer deduplicates the same way.
 */
import { ClusterStateMachine, type Command, type NodeLabelsCommand } from '../../src/state/index.js';
import { MAX_REQUESTS, REQUEST_TTL_MS, RequestLedger } from '../../src/state/request-ledger.js';
import { jobSubmit } from '../controllers/batch/sim.js';
import { T0, entries, init, peerId, register } from './helpers.js';

function started(): ClusterStateMachine {
  const machine = new ClusterStateMachine();
  for (const entry of entries([init(), register(1)])) expect(machine.apply(entry).ok).toBe(true);
  return machine;
}

function applyNext(machine: ClusterStateMachine, command: Command) {
  return machine.apply(entries([command], machine.appliedIndex + 1)[0]!);
}

const label = (value: string, rid?: string, at = T0 + 10): NodeLabelsCommand => ({
  v: 1,
  type: 'node.labels',
  id: peerId(1),
  add: { zone: value },
  at,
  ...(rid !== undefined ? { rid } : {}),
});

describe('ClusterStateMachine.apply() with request ids', () => {
  it('applies a request id once: a retry gets the first outcome and changes nothing', () => {
    const machine = started();
    const first = applyNext(machine, label('a', 'req-1:1'));
    expect(first).toEqual({ ok: true, index: 3, type: 'node.labels' });
    applyNext(machine, label('b'));
    // the retry of req-1:1 comes after another write: applying it again would undo that one
    const retry = applyNext(machine, label('a', 'req-1:1'));
    expect(retry).toEqual({ ok: true, index: 3, type: 'node.labels', duplicate: true });
    expect(machine.node(peerId(1))?.labels).toEqual({ zone: 'b' });
  });

  it('gives a retried job submission the job id of the first', () => {
    const machine = started();
    const submit = (rid: string): Command => ({ ...jobSubmit(), v: 1, rid, at: T0 + 20 });
    const first = applyNext(machine, submit('sub-1:1'));
    const again = applyNext(machine, submit('sub-1:1'));
    const other = applyNext(machine, submit('sub-2:1'));
    expect(first.ok && again.ok && other.ok).toBe(true);
    if (!first.ok || !again.ok || !other.ok) return;
    expect(again.jobId).toBe(first.jobId);
    expect(other.jobId).not.toBe(first.jobId);
  });

  it('remembers a refusal too: a retry is refused the same way', () => {
    const machine = started();
    const bad: NodeLabelsCommand = { ...label('a', 'r-9:1'), id: peerId(7) };
    const first = applyNext(machine, bad);
    expect(first.ok).toBe(false);
    expect(applyNext(machine, bad)).toMatchObject({ ok: false, index: first.index, reason: 'refused' });
  });

  it('forgets an id after its time to live (leader time), so it applies again', () => {
    const machine = started();
    applyNext(machine, label('a', 'old:1'));
    applyNext(machine, label('b', 'new:1', T0 + 10 + REQUEST_TTL_MS + 1));
    expect(applyNext(machine, label('a', 'old:1', T0 + 10 + REQUEST_TTL_MS + 2)).ok).toBe(true);
    expect(machine.node(peerId(1))?.labels).toEqual({ zone: 'a' });
  });

  it('keeps the ids in the snapshot: a restored peer deduplicates the same way', () => {
    const machine = started();
    applyNext(machine, label('a', 'snap:1'));
    applyNext(machine, label('b'));
    const restored = new ClusterStateMachine();
    restored.restore(machine.snapshot(), machine.appliedIndex);
    expect(restored.snapshot()).toEqual(machine.snapshot());
    const retry = restored.apply(entries([label('a', 'snap:1')], restored.appliedIndex + 1)[0]!);
    expect(retry).toMatchObject({ ok: true, duplicate: true });
    expect(restored.node(peerId(1))?.labels).toEqual({ zone: 'b' });
  });
});

describe('RequestLedger', () => {
  it('record() keeps at most MAX_REQUESTS ids, forgetting the oldest', () => {
    const ledger = new RequestLedger();
    for (let i = 0; i <= MAX_REQUESTS; i++) ledger.record(`r${i}`, T0, { ok: true, index: i + 1, type: 'x' });
    expect(ledger.size).toBe(MAX_REQUESTS);
    expect(ledger.lookup('r0')).toBeUndefined();
    expect(ledger.lookup(`r${MAX_REQUESTS}`)).toBeDefined();
  });

  it.each([
    ['not a list', { a: 1 }],
    ['a bad id', [['bad id!', 1, { ok: true, index: 1, type: 'x' }]]],
    ['a bad outcome', [['r1', 1, { ok: 'yes', index: 1 }]]],
  ])('fromSnapshot() refuses %s, naming where', (_name, value) => {
    expect(() => RequestLedger.fromSnapshot(value, 'requests')).toThrow(/requests/);
  });
});
