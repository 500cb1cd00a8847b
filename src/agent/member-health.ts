/**
 * Members' health as the leader sees it: reachable (Raft's recent activity), how long each has
 * been silent, and how far its log lags. A leader-only part: the leader scope starts it when this
 * node takes the lead (forgetting what an earlier term saw) and stops it when leadership moves.
 *
 * Raft's activity flag is cleared for every peer at each quorum check (once an election timeout)
 * and set again by the peer's next answer, so read alone it says "unreachable" for a live peer
 * for a heartbeat or so each second (`node rm` of an up node went through without --force). The
 * tracker samples the flag while leading and counts a peer reachable until it has been silent
 * for {@link REACHABLE_GRACE_MS}, or its connection closed after it was last active.
 */
import type { MemberHealth } from '../controllers/raft-membership.js';
import type { Clock, TimerHandle } from '../raft/driver/index.js';
import type { RaftNode } from '../raft/driver/index.js';
import type { NodeId } from '../raft/types.js';

/** Silence after which a member counts unreachable: above the quorum check's period (1–2 s). */
export const REACHABLE_GRACE_MS = 2_500;
/** How often the leader samples Raft's activity flags: well under the quorum check's period. */
export const SAMPLE_EVERY_MS = 200;

export interface MemberHealthDeps {
  readonly selfId: NodeId;
  readonly raft: () => Pick<RaftNode, 'leader' | 'status'> | null;
  /** Since when, on this clock, silence of a member never heard from counts (the Raft node's start). */
  readonly since: () => number;
  /** Peers with no open connection, since when: silence counts from there. */
  readonly disconnectedAt: () => ReadonlyMap<string, number>;
  readonly clock: Clock;
}

export class MemberHealthTracker {
  readonly #deps: MemberHealthDeps;
  /** When each member was last seen active, in this leader's clock. */
  readonly #lastActive = new Map<string, number>();
  #leading = false;
  #sampler: TimerHandle | null = null;

  constructor(deps: MemberHealthDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (this.#leading) return;
    this.#leading = true;
    this.#lastActive.clear();
    this.#sampler = this.#deps.clock.setInterval(() => this.health(), SAMPLE_EVERY_MS);
  }

  stop(): void {
    this.#leading = false;
    if (this.#sampler !== null) this.#deps.clock.clearInterval(this.#sampler);
    this.#sampler = null;
  }

  /** Members' health while this node leads; null when it does not. */
  leaderView(): MemberHealth[] | null {
    const raft = this.#deps.raft();
    if (!raft || raft.leader !== this.#deps.selfId) return null;
    return this.health();
  }

  /** Members' health as the leader sees it: reachability, silence and lag. */
  health(): MemberHealth[] {
    const raft = this.#deps.raft();
    if (!raft) return [];
    const status = raft.status();
    const now = this.#deps.clock.now();
    const closed = this.#deps.disconnectedAt();
    const members: MemberHealth[] = [];
    for (const progress of status.progress ?? []) {
      const self = progress.id === status.id;
      if (self || progress.recentActive) this.#lastActive.set(progress.id, now);
      const active = this.#lastActive.get(progress.id);
      const last = active ?? this.#deps.since();
      const closedAt = closed.get(progress.id);
      const recently =
        active !== undefined && now - active < REACHABLE_GRACE_MS && (closedAt === undefined || closedAt < active);
      members.push({
        id: progress.id,
        role: progress.voter ? 'voter' : 'learner',
        reachable: self || progress.recentActive || recently,
        silentForMs: now - last,
        lag: Math.max(0, status.lastIndex - progress.match),
      });
    }
    return members;
  }

  /**
   * When the leader last heard from each member. Raft's activity flag lags a dead peer by up to
   * an election timeout; a closed connection is known at once, so silence counts from it.
   */
  lastHeard(): ReadonlyMap<string, number> {
    this.health();
    const heard = new Map(this.#lastActive);
    for (const [peer, at] of this.#deps.disconnectedAt()) {
      const last = heard.get(peer);
      if (last !== undefined && at < last) heard.set(peer, at);
    }
    return heard;
  }
}
