import {
  DEFAULT_MEMBERSHIP_POLICY,
  nextMembershipChange,
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

describe('nextMembershipChange()', () => {
  const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  /** Observers heard from `silentForMs` ago (default: just now). */
  const heard = (list: readonly string[], silentForMs = 0): Map<string, number> =>
    new Map(list.map((id) => [id, silentForMs]));
  const none = (): boolean => false;

  it('adds observers as learners until there are standby learners, heard-from first', () => {
    const change = nextMembershipChange(policy, {
      leader: 'a',
      members: [voter('a'), voter('b'), voter('c'), voter('d'), voter('e'), learner('f')],
      registered: ['a', 'b', 'c', 'd', 'e', 'f', 'o1', 'o2', 'o3'],
      isRevoked: none,
      observerSilentForMs: new Map([
        ['o1', 900],
        ['o2', 100],
      ]),
    });
    expect(change).toEqual({ type: 'addLearner', node: 'o2' });
  });

  it('leaves a 100-node cluster of 5 voters and 2 learners alone: the rest are observers', () => {
    const observers = ids('o', 93);
    const change = nextMembershipChange(policy, {
      leader: 'a',
      members: [voter('a'), voter('b'), voter('c'), voter('d'), voter('e'), learner('f'), learner('g')],
      registered: ['a', 'b', 'c', 'd', 'e', 'f', 'g', ...observers],
      isRevoked: none,
      observerSilentForMs: heard(observers),
    });
    expect(change).toBeNull();
  });

  it('sizes the voter set by every registered node, observers included', () => {
    const change = nextMembershipChange(policy, {
      leader: 'a',
      members: [voter('a'), voter('b'), voter('c'), learner('d'), learner('e', { lag: 500 })],
      registered: ['a', 'b', 'c', 'd', 'e', 'o1', 'o2'],
      isRevoked: none,
      observerSilentForMs: heard(['o1', 'o2']),
    });
    expect(change).toEqual({ type: 'promote', node: 'd' });
  });

  it('removes a learner beyond the standby count, unreachable first (back to observer)', () => {
    const change = nextMembershipChange(policy, {
      leader: 'a',
      members: [
        voter('a'),
        voter('b'),
        voter('c'),
        voter('d'),
        voter('e'),
        learner('f'),
        learner('g', { reachable: false, silentForMs: 40_000 }),
        learner('h', { lag: 50 }),
      ],
      registered: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
      isRevoked: none,
      observerSilentForMs: new Map(),
    });
    expect(change).toEqual({ type: 'remove', node: 'g' });
  });

  it('removes the most lagging learner when all extra learners are healthy', () => {
    const change = nextMembershipChange(policy, {
      leader: 'a',
      members: [voter('a'), voter('b'), voter('c'), learner('d'), learner('e', { lag: 9 }), learner('f', { lag: 2 })],
      registered: ['a', 'b', 'c', 'd', 'e', 'f'],
      isRevoked: none,
      observerSilentForMs: new Map(),
    });
    // 6 nodes want 5 voters: the policy promotes before it trims.
    expect(change).toEqual({ type: 'promote', node: 'd' });
    const trimmed = nextMembershipChange(
      { ...policy, targetVoters: 3 },
      {
        leader: 'a',
        members: [voter('a'), voter('b'), voter('c'), learner('d'), learner('e', { lag: 9 }), learner('f', { lag: 2 })],
        registered: ['a', 'b', 'c', 'd', 'e', 'f'],
        isRevoked: none,
        observerSilentForMs: new Map(),
      },
    );
    expect(trimmed).toEqual({ type: 'remove', node: 'e' });
  });

  it('adds an extra learner when a voter is dead and no learner is healthy to take its seat', () => {
    const change = nextMembershipChange(
      { ...policy, targetVoters: 3, standbyLearners: 0 },
      {
        leader: 'a',
        members: [voter('a'), voter('b'), voter('c', { reachable: false, silentForMs: 60_000 })],
        registered: ['a', 'b', 'c', 'o1'],
        isRevoked: none,
        observerSilentForMs: heard(['o1']),
      },
    );
    expect(change).toEqual({ type: 'addLearner', node: 'o1' });
  });

  it('gives a dead voter seat to a ready learner, then replaces the dead one with an observer', () => {
    const base = {
      leader: 'a',
      registered: ['a', 'b', 'c', 'd', 'e', 'o1'],
      isRevoked: none,
      observerSilentForMs: heard(['o1']),
    };
    const p3 = { ...policy, targetVoters: 3 as const };
    const dead = { reachable: false, silentForMs: 60_000 };
    expect(
      nextMembershipChange(p3, {
        ...base,
        members: [voter('a'), voter('b'), voter('c', dead), learner('d'), learner('e')],
      }),
    ).toEqual({ type: 'demote', node: 'c' });
    expect(
      nextMembershipChange(p3, {
        ...base,
        members: [voter('a'), voter('b'), learner('c', dead), learner('d'), learner('e')],
      }),
    ).toEqual({ type: 'promote', node: 'd' });
    expect(
      nextMembershipChange(p3, {
        ...base,
        members: [voter('a'), voter('b'), voter('d'), learner('c', dead), learner('e')],
      }),
    ).toEqual({ type: 'addLearner', node: 'o1' });
    expect(
      nextMembershipChange(p3, {
        ...base,
        members: [voter('a'), voter('b'), voter('d'), learner('c', dead), learner('e'), learner('o1', { lag: 300 })],
      }),
    ).toEqual({ type: 'remove', node: 'c' });
  });

  it('does not add an observer that was never heard from or is silent past the grace', () => {
    const change = nextMembershipChange(policy, {
      leader: 'a',
      members: [voter('a'), voter('b'), voter('c'), voter('d'), voter('e')],
      registered: ['a', 'b', 'c', 'd', 'e', 'o1', 'o2'],
      isRevoked: none,
      observerSilentForMs: new Map([['o2', 10_000]]),
    });
    expect(change).toBeNull();
  });

  it('removes a revoked member, never the leader, and never adds a revoked observer', () => {
    const revoked = new Set(['a', 'c', 'o1']);
    const isRevoked = (id: string): boolean => revoked.has(id);
    const change = nextMembershipChange(policy, {
      leader: 'a',
      members: [voter('a'), voter('b'), learner('c')],
      registered: ['a', 'b', 'c', 'o1'],
      isRevoked,
      observerSilentForMs: heard(['o1']),
    });
    expect(change).toEqual({ type: 'remove', node: 'c' });
    const next = nextMembershipChange(
      { ...policy, standbyLearners: 0 },
      {
        leader: 'a',
        members: [voter('a'), voter('b'), voter('d')],
        registered: ['a', 'b', 'd', 'o1'],
        isRevoked,
        observerSilentForMs: heard(['o1']),
      },
    );
    expect(next).toBeNull();
  });

  it('brings a 1-node cluster up to 3 voters through learners', () => {
    const p = { ...policy, standbyLearners: 0 };
    const input = { leader: 'a', registered: ['a', 'b', 'c'], isRevoked: none, observerSilentForMs: heard(['b', 'c']) };
    expect(nextMembershipChange(p, { ...input, members: [voter('a')] })).toEqual({ type: 'addLearner', node: 'b' });
    expect(nextMembershipChange(p, { ...input, members: [voter('a'), learner('b')] })).toEqual({
      type: 'promote',
      node: 'b',
    });
    expect(nextMembershipChange(p, { ...input, members: [voter('a'), voter('b')] })).toEqual({
      type: 'addLearner',
      node: 'c',
    });
  });
});
