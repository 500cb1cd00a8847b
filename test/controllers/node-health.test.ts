import { reconcileNodeHealth } from '../../src/controllers/index.js';
import { nid, nodeRecord } from './support/world.js';

const GRACE = 5000;

function stateOf(statuses: Record<string, 'ready' | 'down'>) {
  return {
    nodes: Object.fromEntries(Object.entries(statuses).map(([id, status]) => [id, nodeRecord(id, { status })])),
  };
}

describe('reconcileNodeHealth()', () => {
  it.each([
    // status, last heartbeat (undefined: never), now, leaderSince, expected
    ['ready', 99_000, 100_000, 0, []],
    ['ready', 95_000, 100_000, 0, []], // exactly the grace: still ready
    ['ready', 94_999, 100_000, 0, ['down']],
    ['ready', undefined, 100_000, 0, ['down']],
    ['ready', undefined, 100_000, 96_000, []], // new leader still collecting heartbeats
    ['ready', undefined, 101_000, 96_000, ['down']], // collected for one grace period: down
    ['ready', 50_000, 100_000, 99_000, []], // old observation, but a new leader waits first
    ['down', 99_500, 100_000, 0, ['ready']],
    ['down', 90_000, 100_000, 0, []],
    ['down', undefined, 100_000, 0, []],
  ] as const)('a %s node last heard at %s, at %i, leader since %i → %j', (status, last, now, leaderSince, expected) => {
    const id = nid(1);
    const commands = reconcileNodeHealth({
      state: stateOf({ [id]: status }),
      lastHeartbeat: new Map(last === undefined ? [] : [[id, last]]),
      now,
      graceMs: GRACE,
      leaderSince,
    });
    expect(commands).toEqual(expected.map((s) => ({ type: 'node.setStatus', id, status: s })));
  });

  it('never marks the leader itself down', () => {
    const commands = reconcileNodeHealth({
      state: stateOf({ [nid(1)]: 'ready', [nid(2)]: 'ready' }),
      lastHeartbeat: new Map(),
      now: 100_000,
      graceMs: GRACE,
      leaderSince: 0,
      selfId: nid(1),
    });
    expect(commands).toEqual([{ type: 'node.setStatus', id: nid(2), status: 'down' }]);
  });

  it('honours a configured grace period', () => {
    const input = {
      state: stateOf({ [nid(1)]: 'ready' }),
      lastHeartbeat: new Map([[nid(1), 80_000]]),
      now: 100_000,
      leaderSince: 0,
    };
    expect(reconcileNodeHealth({ ...input, graceMs: 30_000 })).toEqual([]);
    expect(reconcileNodeHealth({ ...input, graceMs: 10_000 })).toHaveLength(1);
  });

  it('refuses a grace period that is not positive', () => {
    expect(() =>
      reconcileNodeHealth({ state: stateOf({}), lastHeartbeat: new Map(), now: 0, graceMs: 0, leaderSince: 0 }),
    ).toThrow(/graceMs=0/);
  });
});
