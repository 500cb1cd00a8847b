/**
 * What the leader does on its own, twice a second: keep the Raft membership as the policy wants
 * it (src/controllers/raft-membership.ts, `nextMembershipChange`): drop revoked members, keep the
 * voters (3 or 5) and a few standby learners, promote a caught-up learner to a dead voter's seat,
 * add a live observer as a learner when one is missing, and send surplus learners back to
 * observing. Every other registered node is an observer, not in the Raft configuration. A
 * leader-only part: the leader scope stops it the moment leadership moves; the next leader starts
 * from the replicated state, so a crash at any point converges on the next pass.
 */
import type { Logger } from 'pino';
import {
  DEFAULT_STANDBY_LEARNERS,
  nextMembershipChange,
  type MembershipPolicy,
} from '../controllers/raft-membership.js';
import type { Clock, RaftNode, TimerHandle } from '../raft/driver/index.js';
import type { ConfChange, NodeId } from '../raft/types.js';
import type { ClusterStateMachine } from '../state/index.js';
import type { AgentConfig } from './config.js';
import type { MemberHealthTracker } from './member-health.js';
import type { ProposeOptions } from './cluster-store.js';

const INTERVAL_MS = 500;

export interface MembershipLoopDeps {
  readonly selfId: NodeId;
  readonly raft: () => RaftNode | null;
  readonly state: Pick<ClusterStateMachine, 'nodes' | 'isRevoked' | 'settings'>;
  readonly config: Pick<
    AgentConfig,
    'targetVoters' | 'voterReplaceGraceMs' | 'standbyLearners' | 'membershipIntervalMs'
  >;
  readonly health: Pick<MemberHealthTracker, 'health'>;
  /** When this node last heard each observer's presence (src/follow/presence.ts), on `clock`. */
  readonly presence: () => ReadonlyMap<NodeId, number>;
  readonly changeMembership: (change: ConfChange, options: ProposeOptions) => Promise<void>;
  readonly clock: Clock;
  readonly log: Logger;
}

export class MembershipLoop {
  readonly #deps: MembershipLoopDeps;
  #timer: TimerHandle | null = null;
  #busy = false;

  constructor(deps: MembershipLoopDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = this.#deps.clock.setInterval(
      () => void this.pass(),
      this.#deps.config.membershipIntervalMs ?? INTERVAL_MS,
    );
  }

  stop(): void {
    if (this.#timer) this.#deps.clock.clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One pass (the timer calls it; tests may too): at most one membership change. */
  async pass(): Promise<void> {
    const raft = this.#deps.raft();
    if (this.#busy || !raft || raft.leader !== this.#deps.selfId) return;
    this.#busy = true;
    try {
      const change = this.#nextChange();
      if (change) {
        this.#deps.log.info({ change }, 'membership change');
        await this.#deps.changeMembership(change, { deadlineMs: 5_000 });
      }
    } catch (error) {
      this.#deps.log.warn({ err: error }, 'membership change failed; retrying on the next pass');
    } finally {
      this.#busy = false;
    }
  }

  #nextChange(): ConfChange | null {
    const { state, config } = this.#deps;
    const settings = state.settings();
    const policy: MembershipPolicy = {
      targetVoters: config.targetVoters === 'auto' ? 'auto' : (settings.targetVoters ?? config.targetVoters),
      voterReplaceGraceMs: config.voterReplaceGraceMs,
      maxCatchUpLag: 64,
      standbyLearners: config.standbyLearners ?? DEFAULT_STANDBY_LEARNERS,
    };
    const now = this.#deps.clock.now();
    const silentFor = new Map<NodeId, number>();
    for (const [id, at] of this.#deps.presence()) silentFor.set(id, now - at);
    return nextMembershipChange(policy, {
      leader: this.#deps.selfId,
      members: this.#deps.health.health(),
      registered: state.nodes().map((n) => n.id),
      isRevoked: (id) => state.isRevoked(id),
      observerSilentForMs: silentFor,
    });
  }
}
