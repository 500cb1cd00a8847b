import { describe, expect, it } from '@jest/globals';
import { MemberHealthTracker, REACHABLE_GRACE_MS, SAMPLE_EVERY_MS } from '../../src/agent/member-health.js';
import type { PeerProgress, RaftStatus } from '../../src/raft/types.js';
import { ManualClock } from '../runtime/memory-driver.js';

/** A leader `a` with voters b and c, whose activity flags the test sets (as check-quorum would). */
function setup() {
  const clock = new ManualClock();
  const active = new Map([
    ['b', true],
    ['c', true],
  ]);
  const closed = new Map<string, number>();
  const peer = (id: string, recentActive: boolean): PeerProgress => ({
    id,
    voter: true,
    match: 10,
    next: 11,
    state: 'replicate',
    recentActive,
    inflight: 0,
  });
  const status = (): RaftStatus => ({
    id: 'a',
    term: 2,
    vote: 'a',
    role: 'leader',
    leader: 'a',
    commit: 10,
    applied: 10,
    firstIndex: 1,
    lastIndex: 10,
    conf: { voters: ['a', 'b', 'c'], learners: [] },
    progress: [peer('a', true), ...[...active].map(([id, on]) => peer(id, on))],
  });
  const tracker = new MemberHealthTracker({
    selfId: 'a',
    raft: () => ({ leader: 'a', status }),
    since: () => clock.now(),
    disconnectedAt: () => closed,
    clock,
  });
  const reachable = (id: string) => tracker.leaderView()!.find((m) => m.id === id)!.reachable;
  return { clock, active, closed, tracker, reachable };
}

describe('members’ reachability as the leader sees it', () => {
  it('a live peer stays reachable across the quorum check that clears its activity flag', () => {
    const { clock, active, tracker, reachable } = setup();
    tracker.start();
    clock.advance(SAMPLE_EVERY_MS);
    // check-quorum clears every flag; the peers' next answers have not come back yet
    active.set('b', false);
    active.set('c', false);
    expect(reachable('b')).toBe(true);
    expect(reachable('c')).toBe(true);
    tracker.stop();
  });

  it('a peer silent for longer than the grace is unreachable; one whose connection closed, at once', () => {
    const { clock, active, closed, tracker, reachable } = setup();
    tracker.start();
    clock.advance(SAMPLE_EVERY_MS);
    active.set('b', false);
    active.set('c', false);
    closed.set('c', clock.now() + 1);
    clock.advance(1);
    expect(reachable('c')).toBe(false);
    for (let t = 0; t < REACHABLE_GRACE_MS; t += SAMPLE_EVERY_MS) clock.advance(SAMPLE_EVERY_MS);
    expect(reachable('b')).toBe(false);
    active.set('b', true);
    expect(reachable('b')).toBe(true);
    tracker.stop();
  });

  it('a node that does not lead reports nothing', () => {
    const clock = new ManualClock();
    const tracker = new MemberHealthTracker({
      selfId: 'b',
      raft: () => ({ leader: 'a', status: () => setupStatusStub() }),
      since: () => clock.now(),
      disconnectedAt: () => new Map(),
      clock,
    });
    expect(tracker.leaderView()).toBeNull();
  });
});

function setupStatusStub(): RaftStatus {
  return {
    id: 'b',
    term: 2,
    vote: 'a',
    role: 'follower',
    leader: 'a',
    commit: 1,
    applied: 1,
    firstIndex: 1,
    lastIndex: 1,
    conf: { voters: ['a', 'b'], learners: [] },
  };
}
