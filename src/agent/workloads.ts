/**
 * Workloads inside the agent, the leader's half of the loop in DESIGN.md: the controllers
 * (orchestrators, scheduler, node health, GC) turn the replicated state into commands, twice a
 * second and soon after each change. A leader-only part: the leader scope starts it when this
 * node takes the lead and stops it when leadership moves. (The other half, each node's runtime,
 * is node-workloads.ts.)
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { nextWakeAt, reconcileWorkloads, type WorkloadCommandInput } from '../controllers/index.js';
import type { Clock, RaftNode, TimerHandle } from '../raft/driver/index.js';
import type { ClusterStateMachine } from '../state/index.js';
import { isTerminal } from '../state/workloads.js';
import type { AgentConfig } from './config.js';
import type { CommandWriter } from './writes.js';

const LEADER_PASS_MS = 500;

/** What the controller loop reads of this agent: each member is used by the pass. */
export interface ControllerLoopAgent {
  raft(): RaftNode | null;
  readonly host: { readonly peerId: string };
  readonly state: ClusterStateMachine;
  /** When the leader last heard from each member (member-health.ts). */
  lastHeard(): ReadonlyMap<string, number>;
  readonly config: Pick<AgentConfig, 'nodeDownGraceMs'>;
  readonly log: Logger;
}

export class ControllerLoop {
  readonly #agent: ControllerLoopAgent;
  readonly #writer: Pick<CommandWriter, 'submit'>;
  readonly #clock: Clock;
  #leaderTimer: TimerHandle | null = null;
  /** A full pass at the next time-driven decision (a job's begin time, a back-off's end). */
  #wakeTimer: TimerHandle | null = null;
  #leaderSince = 0;
  #passRunning = false;
  #passAgain = false;
  #stateDirty = false;

  constructor(agent: ControllerLoopAgent, writer: Pick<CommandWriter, 'submit'>, clock: Clock) {
    this.#agent = agent;
    this.#writer = writer;
    this.#clock = clock;
  }

  /** This node took the lead: pass on a timer from now on. */
  start(): void {
    if (this.#leaderTimer) return;
    this.#leaderSince = Date.now();
    this.#leaderTimer = this.#clock.setInterval(() => void this.#leaderPass(), LEADER_PASS_MS);
  }

  /** Leadership moved (or the agent stops): no more passes. */
  stop(): void {
    if (this.#leaderTimer) this.#clock.clearInterval(this.#leaderTimer);
    if (this.#wakeTimer) this.#clock.clearTimeout(this.#wakeTimer);
    this.#leaderTimer = null;
    this.#wakeTimer = null;
  }

  /** The replicated state changed (once per burst of applied entries): pass soon. */
  stateChanged(): void {
    if (this.#leaderTimer) {
      this.#stateDirty = true;
      void this.#leaderPass();
    }
  }

  /**
   * A member's connection closed: if it stays silent, it is declared down when its grace period
   * ends. Run a controller pass right then rather than at the next tick of the timer.
   */
  memberDisconnected(): void {
    if (!this.#leaderTimer) return;
    const grace = this.#agent.config.nodeDownGraceMs ?? this.#agent.state.settings().nodeDownGraceMs;
    this.#clock.setTimeout(() => void this.#leaderPass(), grace + 20);
  }

  /** One controller pass on the leader: reconcile, then propose the commands in order. */
  async #leaderPass(): Promise<void> {
    if (this.#passRunning) {
      this.#passAgain = true;
      return;
    }
    this.#passRunning = true;
    try {
      // A few passes back to back while the state keeps changing, then wait for the timer.
      for (let round = 0; round < 10; round++) {
        this.#passAgain = false;
        this.#stateDirty = false;
        const raft = this.#agent.raft();
        if (!raft || raft.leader !== this.#agent.host.peerId || !this.#agent.state.cluster()) return;
        const settings = this.#agent.state.settings();
        // Scoped to what changed since the last pass; full every 5 s and on the first pass in office.
        const changes = this.#agent.state.takeChanges({
          now: Date.now(),
          fullEveryMs: 5_000,
          fullIfBefore: this.#leaderSince,
        });
        const commands = reconcileWorkloads({
          state: this.#agent.state.view(),
          changes,
          now: Date.now(),
          // Hex: a task id must start with a letter or digit (base64url may start with - or _).
          newId: () => randomBytes(8).toString('hex'),
          health: {
            lastHeartbeat: this.#agent.lastHeard(),
            leaderSince: this.#leaderSince,
            graceMs: this.#agent.config.nodeDownGraceMs ?? settings.nodeDownGraceMs,
            selfId: this.#agent.host.peerId,
          },
        });
        if (commands[0]?.type === 'node.setStatus') this.#agent.state.resetChanges(); // acted on nothing else
        for (const command of commands) {
          if (command.type === 'node.setStatus') this.#logNodeStatus(command.id, command.status);
          if (command.type === 'service.rollout' || command.type === 'service.rollback') this.#logRollout(command);
          const result = await this.#writer.submit(command, { deadlineMs: 5_000 }).catch((error: unknown) => {
            this.#agent.log.warn({ err: error, type: command.type }, 'controller command refused');
            return null;
          });
          if (!result) {
            this.#agent.state.resetChanges(); // the rest of this pass was not proposed: reconsider all
            break;
          }
        }
        if (commands.length === 0 || !(this.#passAgain || this.#stateDirty)) break;
      }
      this.#scheduleWake();
    } catch (error) {
      this.#agent.log.warn({ err: error }, 'controller pass failed; retrying on the next pass');
    } finally {
      this.#passRunning = false;
    }
  }

  /**
   * A scoped pass reacts to commands, not to time: wake for the next time-driven decision with a
   * full pass, instead of leaving it to the periodic full pass (up to 5 s late).
   */
  #scheduleWake(): void {
    if (!this.#leaderTimer) return;
    if (this.#wakeTimer) this.#clock.clearTimeout(this.#wakeTimer);
    this.#wakeTimer = null;
    const now = Date.now();
    const wake = nextWakeAt(this.#agent.state.view(), now);
    // Already due yet not acted on (say, nowhere to place it): the periodic full pass retries it,
    // rather than a loop of full passes.
    if (wake === null || wake <= now) return;
    this.#wakeTimer = this.#clock.setTimeout(
      () => {
        this.#wakeTimer = null;
        this.#agent.state.resetChanges();
        void this.#leaderPass();
      },
      wake - now + 1,
    );
  }

  /** A rollout's transitions and automatic rollbacks, at info level: an operator wants to see them. */
  #logRollout(command: Extract<WorkloadCommandInput, { type: 'service.rollout' | 'service.rollback' }>): void {
    if (command.type === 'service.rollback') {
      const { serviceId, to, reason } = command;
      this.#agent.log.warn({ service: serviceId, to, reason }, `rolling ${serviceId} back to version ${to}: ${reason}`);
      return;
    }
    const { serviceId, version, state, reason, updated, failed, total } = command;
    const fields = { service: serviceId, version, state, reason, updated, failed, total };
    this.#agent.log.info(fields, `rollout of ${serviceId} version ${version}: ${state}${reason ? ` (${reason})` : ''}`);
  }

  /** Marking a node down moves its replicas: that is worth a line at info level (warn), with why. */
  #logNodeStatus(nodeId: string, status: string): void {
    const node = this.#agent.state.node(nodeId);
    const tasks = this.#agent.state.tasksOnNode(nodeId).filter((t) => !isTerminal(t.state)).length;
    const heard = this.#agent.lastHeard().get(nodeId);
    const silentMs = heard === undefined ? null : Date.now() - heard;
    const fields = { node: nodeId, hostname: node?.hostname, status, tasks, silentMs };
    if (status === 'down')
      this.#agent.log.warn(
        fields,
        `marking node ${node?.hostname ?? nodeId} down: silent past the node grace; its ${tasks} live tasks will be placed elsewhere`,
      );
    else this.#agent.log.info(fields, `node ${node?.hostname ?? nodeId} is ${status} again`);
  }
}
