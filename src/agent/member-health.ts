/**
 * Members' health as the leader sees it: reachable (Raft's recent activity), how long each has
 * been silent, and how far its log lags. A leader-only part: the leader scope starts it when this
 * node takes the lead (forgetting what an earlier term saw) and stops it when leadership moves.
 */
import type { MemberHealth } from '../controllers/raft-membership.js';
import type { Clock } from '../raft/driver/index.js';
import type { RaftNode } from '../raft/driver/index.js';
import type { NodeId } from '../raft/types.js';

export interface MemberHealthDeps {
  readonly selfId: NodeId;
  readonly raft: () => RaftNode | null;
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

  constructor(deps: MemberHealthDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (this.#leading) return;
    this.#leading = true;
    this.#lastActive.clear();
  }

  stop(): void {
    this.#leading = false;
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
    const members: MemberHealth[] = [];
    for (const progress of status.progress ?? []) {
      const self = progress.id === status.id;
      if (self || progress.recentActive) this.#lastActive.set(progress.id, now);
      const last = this.#lastActive.get(progress.id) ?? this.#deps.since();
      members.push({
        id: progress.id,
        role: progress.voter ? 'voter' : 'learner',
        reachable: self || progress.recentActive,
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
