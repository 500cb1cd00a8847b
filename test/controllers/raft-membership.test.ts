import {
  DEFAULT_MEMBERSHIP_POLICY,
  reconcileMembership,
  wantedVoters,
  type MemberHealth,
} from '../../src/controllers/raft-membership.js';

const policy = { ...DEFAULT_MEMBERSHIP_POLICY, voterReplaceGraceMs: 10_000, maxCatchUpLag: 10 };

function voter(id: string, extra: Partial<MemberHealth> = {}): MemberHealth {
  return { id, role: 'voter', reachable: true, silentForMs: 0, lag: 0, ...extra };
}
function learner(id: string, extra: Partial<MemberHealth> = {}): MemberHealth {
  return { id, role: 'learner', reachable: true, silentForMs: 0, lag: 0, ...extra };
}

describe('wantedVoters()', () => {
  it.each([
    [1, 1],
    [2, 1],
    [3, 3],
    [4, 3],
    [5, 5],
    [9, 5],
  ])('with auto target and %i members wants %i voters', (healthy, wanted) => {
    expect(wantedVoters(policy, healthy)).toBe(wanted);
  });

  it('keeps 3 voters with a fixed target of 3 even with many members', () => {
    expect(wantedVoters({ ...policy, targetVoters: 3 }, 20)).toBe(3);
  });
});

describe('reconcileMembership()', () => {
  it('promotes a caught-up learner when voters are below target', () => {
    const change = reconcileMembership(policy, {
      leader: 'a',
      members: [voter('a'), learner('b'), learner('c', { lag: 3 })],
    });
    expect(change).toEqual({ type: 'promote', node: 'b' });
  });

  it('does not promote a learner that is still catching up', () => {
    const change = reconcileMembership(policy, {
      leader: 'a',
      members: [voter('a'), learner('b', { lag: 500 }), learner('c', { lag: 400 })],
    });
    expect(change).toBeNull();
  });

  it('does not promote an unreachable learner', () => {
    const change = reconcileMembership(policy, {
      leader: 'a',
      members: [
        voter('a'),
        learner('b', { reachable: false, silentForMs: 60_000 }),
        learner('c', { reachable: false, silentForMs: 1 }),
      ],
    });
    expect(change).toBeNull();
  });

  it('demotes a voter silent past the grace period when a learner can replace it', () => {
    const change = reconcileMembership(policy, {
      leader: 'a',
      members: [voter('a'), voter('b'), voter('c', { reachable: false, silentForMs: 12_000 }), learner('d')],
    });
    expect(change).toEqual({ type: 'demote', node: 'c' });
  });

  it('keeps a dead voter within the grace period', () => {
    const change = reconcileMembership(policy, {
      leader: 'a',
      members: [voter('a'), voter('b'), voter('c', { reachable: false, silentForMs: 5_000 }), learner('d')],
    });
    expect(change).toBeNull();
  });

  it('keeps a dead voter when no learner could take its seat', () => {
    const change = reconcileMembership(policy, {
      leader: 'a',
      members: [voter('a'), voter('b'), voter('c', { reachable: false, silentForMs: 60_000 })],
    });
    expect(change).toBeNull();
  });

  it('after a dead voter is demoted, promotes the replacement learner', () => {
    const change = reconcileMembership(policy, {
      leader: 'a',
      members: [voter('a'), voter('b'), learner('c', { reachable: false, silentForMs: 60_000 }), learner('d')],
    });
    expect(change).toEqual({ type: 'promote', node: 'd' });
  });

  it('demotes a voter when the count is even, never the leader', () => {
    const change = reconcileMembership(policy, {
      leader: 'a',
      members: [voter('a'), voter('b', { lag: 5 }), voter('c'), voter('d')],
    });
    expect(change).toEqual({ type: 'demote', node: 'b' });
  });

  it('grows to 5 voters once 5 members are healthy', () => {
    const change = reconcileMembership(policy, {
      leader: 'a',
      members: [voter('a'), voter('b'), voter('c'), learner('d'), learner('e')],
    });
    expect(change).toEqual({ type: 'promote', node: 'd' });
  });

  it('leaves a healthy 3-voter cluster with learners alone under a fixed target of 3', () => {
    const change = reconcileMembership(
      { ...policy, targetVoters: 3 },
      {
        leader: 'a',
        members: [voter('a'), voter('b'), voter('c'), learner('d'), learner('e')],
      },
    );
    expect(change).toBeNull();
  });
});
