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
 *
 * {@link nextMembershipChange} is the whole policy for a cluster where not every node is a Raft
 * member (issue 13, 100 nodes): the voters, a few standby learners ready to take a dead voter's
 * seat, and every other registered node an observer that follows the state feed (src/follow).
 * The leader sends every entry to every member, so members are kept few.
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
  /**
   * Learners kept beside the voters, caught up and ready to take a dead voter's seat, for
   * {@link nextMembershipChange}. Default {@link DEFAULT_STANDBY_LEARNERS}.
   */
  readonly standbyLearners?: number;
}

/** Standby learners kept when the policy does not say. */
export const DEFAULT_STANDBY_LEARNERS = 2;

export interface MembershipObservation {
  readonly leader: NodeId;
  readonly members: readonly MemberHealth[];
}

export const DEFAULT_MEMBERSHIP_POLICY: MembershipPolicy = {
  targetVoters: 'auto',
  voterReplaceGraceMs: 30_000,
  maxCatchUpLag: 64,
  standbyLearners: DEFAULT_STANDBY_LEARNERS,
};

/** The number of voters the cluster should have given how many members it has. */
export function wantedVoters(policy: MembershipPolicy, members: number): number {
  const target = policy.targetVoters === 'auto' ? (members >= 5 ? 5 : 3) : policy.targetVoters;
  const bounded = Math.max(1, Math.min(target, members));
  return bounded % 2 === 1 ? bounded : bounded - 1;
}

/** The next membership change to make, or null when the configuration is as it should be. */
export function reconcileMembership(policy: MembershipPolicy, observed: MembershipObservation): ConfChange | null {
  return reconcileVoters(policy, observed, wantedVoters(policy, observed.members.length));
}

function reconcileVoters(policy: MembershipPolicy, observed: MembershipObservation, wanted: number): ConfChange | null {
  const healthy = (m: MemberHealth): boolean => m.id === observed.leader || m.reachable;
  const voters = observed.members.filter((m) => m.role === 'voter');
  const readyLearners = observed.members
    .filter((m) => m.role === 'learner' && healthy(m) && m.lag <= policy.maxCatchUpLag)
    .sort((a, b) => a.lag - b.lag || a.id.localeCompare(b.id));

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

/** What the leader knows for {@link nextMembershipChange}. */
export interface ClusterMembershipObservation extends MembershipObservation {
  /** Registered nodes that are not revoked (members and observers alike). */
  readonly registered: readonly NodeId[];
  /** Nodes removed from the cluster: a member among them leaves the configuration. */
  readonly isRevoked: (id: NodeId) => boolean;
  /**
   * How long each observer has been silent on the presence protocol (src/follow/presence.ts),
   * in ms; an observer missing from the map has not been heard from yet.
   */
  readonly observerSilentForMs: ReadonlyMap<NodeId, number>;
}

/**
 * The next single configuration change for a cluster of voters, standby learners and
 * observers, or null. Rules, in order:
 *
 * 1. A revoked member is removed (never the leader: it hands over first).
 * 2. The voter rules of {@link reconcileMembership}, with the voter count sized by every
 *    registered node (observers included), not only by the members.
 * 3. Fewer healthy learners than wanted: add the observer heard from most recently as a learner.
 *    Wanted: `standbyLearners`, plus one per missing voter, plus one when a voter is dead past
 *    the grace and no learner is healthy (ready or catching up) to take its seat. Only observers
 *    heard from within the grace are added: a silent one would take a standby seat uselessly.
 * 4. More learners than wanted: remove one (back to observer), unreachable first, then the most
 *    silent, then the furthest behind. A dead voter demoted by rule 2 leaves this way.
 *
 * @example
 * nextMembershipChange(DEFAULT_MEMBERSHIP_POLICY, { leader, members, registered, isRevoked, observerSilentForMs });
 */
export function nextMembershipChange(
  policy: MembershipPolicy,
  observed: ClusterMembershipObservation,
): ConfChange | null {
  const { leader, members } = observed;
  const revokedMember = members.find((m) => m.id !== leader && observed.isRevoked(m.id));
  if (revokedMember) return { type: 'remove', node: revokedMember.id };

  const inConf = new Set(members.map((m) => m.id));
  const clusterSize = new Set([...observed.registered.filter((id) => !observed.isRevoked(id)), ...inConf]).size;
  const wanted = wantedVoters(policy, clusterSize);
  const voterChange = reconcileVoters(policy, observed, wanted);
  if (voterChange) return voterChange;

  const healthy = (m: MemberHealth): boolean => m.id === leader || m.reachable;
  const voters = members.filter((m) => m.role === 'voter');
  const learners = members.filter((m) => m.role === 'learner');
  const healthyLearners = learners.filter(healthy);
  const deadVoter = voters.some((m) => m.id !== leader && !m.reachable && m.silentForMs >= policy.voterReplaceGraceMs);
  const wantedLearners =
    (policy.standbyLearners ?? DEFAULT_STANDBY_LEARNERS) +
    Math.max(0, wanted - voters.length) +
    (deadVoter && healthyLearners.length === 0 ? 1 : 0);

  if (healthyLearners.length < wantedLearners) {
    const candidate = observed.registered
      .filter((id) => !inConf.has(id) && !observed.isRevoked(id))
      .map((id) => ({ id, silentForMs: observed.observerSilentForMs.get(id) ?? Infinity }))
      .filter((o) => o.silentForMs < policy.voterReplaceGraceMs)
      .sort((a, b) => a.silentForMs - b.silentForMs || a.id.localeCompare(b.id))[0];
    if (candidate) return { type: 'addLearner', node: candidate.id };
  }

  if (learners.length > wantedLearners) {
    const victim = [...learners].sort(
      (a, b) =>
        Number(a.reachable) - Number(b.reachable) ||
        b.silentForMs - a.silentForMs ||
        b.lag - a.lag ||
        a.id.localeCompare(b.id),
    )[0];
    if (victim) return { type: 'remove', node: victim.id };
  }
  return null;
}
