/**
 * The Raft membership controller (leader only): keeps the control plane healing itself.
 *
 * reconcile(desired, observed) → at most one ConfChange per pass, because Raft applies
 * membership changes one at a time. Rules, in order:
 *
 * 1. A voter unreachable for longer than the grace period is demoted to learner when a healthy,
 *    caught-up learner can take its seat (it stays a member: if it returns it catches up and
 *    may be promoted again). Without a replacement it keeps its seat: dropping it would not make
 *    the cluster tolerate more failures.
 * 2. Fewer voters than wanted: promote the most caught-up healthy learner.
 * 3. More voters than wanted (nodes left, or an even count): demote one, unreachable ones first,
 *    never the leader itself.
 *
 * The wanted count is odd — an even number of voters tolerates no more failures than one fewer
 * and needs a larger quorum — and at most the target (3, or 5 from 5 members up). It is sized by
 * all members, not only the healthy ones, so a transient failure never shrinks the voter set.
 */
import type { ConfChange, NodeId } from '../raft/types.js';

export interface MemberHealth {
  readonly id: NodeId;
  readonly role: 'voter' | 'learner';
  /** Heard from within the last health interval. */
  readonly reachable: boolean;
  /** Milliseconds since last heard from (Infinity if never). */
  readonly silentForMs: number;
  /** Entries behind the leader's last index. */
  readonly lag: number;
}

export interface MembershipPolicy {
  /** 3, 5, or 'auto' (5 from 5 healthy nodes up, else 3). */
  readonly targetVoters: 3 | 5 | 'auto';
  /** How long a voter may be silent before its seat is given to a learner. */
  readonly voterReplaceGraceMs: number;
  /** A learner this many entries behind or fewer counts as caught up. */
  readonly maxCatchUpLag: number;
}

export interface MembershipObservation {
  readonly leader: NodeId;
  readonly members: readonly MemberHealth[];
}

export const DEFAULT_MEMBERSHIP_POLICY: MembershipPolicy = {
  targetVoters: 'auto',
  voterReplaceGraceMs: 30_000,
  maxCatchUpLag: 64,
};

/** The number of voters the cluster should have given how many members it has. */
export function wantedVoters(policy: MembershipPolicy, members: number): number {
  const target = policy.targetVoters === 'auto' ? (members >= 5 ? 5 : 3) : policy.targetVoters;
  const bounded = Math.max(1, Math.min(target, members));
  return bounded % 2 === 1 ? bounded : bounded - 1;
}

/** The next membership change to make, or null when the configuration is as it should be. */
export function reconcileMembership(policy: MembershipPolicy, observed: MembershipObservation): ConfChange | null {
  const healthy = (m: MemberHealth): boolean => m.id === observed.leader || m.reachable;
  const voters = observed.members.filter((m) => m.role === 'voter');
  const readyLearners = observed.members
    .filter((m) => m.role === 'learner' && healthy(m) && m.lag <= policy.maxCatchUpLag)
    .sort((a, b) => a.lag - b.lag || a.id.localeCompare(b.id));
  const wanted = wantedVoters(policy, observed.members.length);

  const deadVoters = voters
    .filter((m) => m.id !== observed.leader && !m.reachable && m.silentForMs >= policy.voterReplaceGraceMs)
    .sort((a, b) => b.silentForMs - a.silentForMs || a.id.localeCompare(b.id));
  const firstDead = deadVoters[0];
  if (firstDead && readyLearners.length > 0) return { type: 'demote', node: firstDead.id };

  const firstReady = readyLearners[0];
  if (voters.length < wanted && firstReady) return { type: 'promote', node: firstReady.id };

  if (voters.length > wanted) {
    const victim = voters
      .filter((m) => m.id !== observed.leader)
      .sort((a, b) => Number(a.reachable) - Number(b.reachable) || b.lag - a.lag || a.id.localeCompare(b.id))[0];
    if (victim) return { type: 'demote', node: victim.id };
  }
  return null;
}
