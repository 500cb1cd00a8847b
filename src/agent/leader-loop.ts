/**
 * What the leader does on its own, once a second: keep the Raft membership healthy (promote
 * caught-up learners, give a dead voter's seat to a learner), add registered nodes missing from
 * the configuration, drop revoked ones. It stops the moment leadership moves; the next leader
 * starts from the replicated state, so a crash at any point converges on the next pass.
 */
import { reconcileMembership, type MemberHealth, type MembershipPolicy } from '../controllers/raft-membership.js';
import type { ConfChange } from '../raft/types.js';
import type { AgentContext } from './agent.js';
import type { CommandWriter } from './writes.js';

const INTERVAL_MS = 500;

export class LeaderLoop {
  readonly #agent: AgentContext;
  readonly #writer: CommandWriter;
  #timer: ReturnType<typeof setInterval> | null = null;
  #busy = false;
  /** When each member was last seen active, in this leader's clock. */
  readonly #lastActive = new Map<string, number>();

  get lastActive(): ReadonlyMap<string, number> {
    this.health();
    return this.#lastActive;
  }
  readonly #startedAt = Date.now();

  constructor(agent: AgentContext, writer: CommandWriter) {
    this.#agent = agent;
    this.#writer = writer;
  }

  start(): void {
    if (this.#timer) return;
    this.#lastActive.clear();
    this.#timer = setInterval(() => void this.#pass(), INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Members' health as the leader sees it: reachability, silence and lag. */
  health(): MemberHealth[] {
    const raft = this.#agent.raft();
    if (!raft) return [];
    const status = raft.status();
    const now = Date.now();
    const members: MemberHealth[] = [];
    for (const progress of status.progress ?? []) {
      const self = progress.id === status.id;
      if (self || progress.recentActive) this.#lastActive.set(progress.id, now);
      const last = this.#lastActive.get(progress.id) ?? this.#startedAt;
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

  async #pass(): Promise<void> {
    const raft = this.#agent.raft();
    if (this.#busy || !raft || raft.leader !== this.#agent.host.peerId) return;
    this.#busy = true;
    try {
      const change = this.#nextChange();
      if (change) {
        this.#agent.log.info({ change }, 'membership change');
        await this.#writer.changeMembership(change, { deadlineMs: 5_000 });
      }
    } catch (error) {
      this.#agent.log.warn({ err: error }, 'membership change failed; retrying on the next pass');
    } finally {
      this.#busy = false;
    }
  }

  #nextChange(): ConfChange | null {
    const raft = this.#agent.raft()!;
    const state = this.#agent.state;
    const conf = raft.status().conf;
    const inConf = new Set([...conf.voters, ...conf.learners]);
    for (const id of inConf) {
      if (state.isRevoked(id)) return { type: 'remove', node: id };
    }
    for (const node of state.nodes()) {
      if (!inConf.has(node.id)) return { type: 'addLearner', node: node.id };
    }
    const settings = state.settings();
    const policy: MembershipPolicy = {
      targetVoters:
        this.#agent.config.targetVoters === 'auto'
          ? 'auto'
          : (settings.targetVoters ?? this.#agent.config.targetVoters),
      voterReplaceGraceMs: this.#agent.config.voterReplaceGraceMs,
      maxCatchUpLag: 64,
    };
    return reconcileMembership(policy, { leader: this.#agent.host.peerId, members: this.health() });
  }
}
