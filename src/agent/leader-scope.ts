/**
 * The one place that knows what runs only while this node leads. Every leader-only part (the
 * members' health view, the Raft membership loop, the workload controller loop) is started in
 * order when this node takes the lead and stopped in reverse order the moment it loses it (or
 * the agent stops), so no such loop ever outlives its term.
 */
import type { Logger } from 'pino';
import type { NodeId } from '../raft/types.js';

/** A part that runs only on the leader; `start` and `stop` are idempotent. */
export interface LeaderTask {
  start(): void;
  stop(): void;
}

/** Where leadership changes come from (the cluster store). */
export interface LeaderSource {
  on(event: 'leader:change', listener: (leader: NodeId | null, term: number) => void): unknown;
  off(event: 'leader:change', listener: (leader: NodeId | null, term: number) => void): unknown;
}

export interface LeaderScopeDeps {
  readonly selfId: NodeId;
  readonly leadership: LeaderSource;
  /** Started in this order, stopped in reverse. */
  readonly tasks: readonly LeaderTask[];
  readonly log: Logger;
}

export class LeaderScope {
  readonly #deps: LeaderScopeDeps;
  #leading = false;
  #listening = false;
  readonly #onChange = (leader: NodeId | null, term: number): void => {
    this.#deps.log.info(
      { leader, term },
      leader === this.#deps.selfId ? 'this node is now the leader' : 'leader changed',
    );
    if (leader === this.#deps.selfId) this.#enter();
    else this.#leave();
  };

  constructor(deps: LeaderScopeDeps) {
    this.#deps = deps;
  }

  /** Whether the leader-only parts run now. */
  get leading(): boolean {
    return this.#leading;
  }

  /** Follow leadership changes from now on. */
  start(): void {
    if (this.#listening) return;
    this.#listening = true;
    this.#deps.leadership.on('leader:change', this.#onChange);
  }

  /** Stop following and stop every leader-only part. */
  stop(): void {
    if (this.#listening) this.#deps.leadership.off('leader:change', this.#onChange);
    this.#listening = false;
    this.#leave();
  }

  #enter(): void {
    if (this.#leading) return;
    this.#leading = true;
    for (const task of this.#deps.tasks) task.start();
  }

  #leave(): void {
    if (!this.#leading) return;
    this.#leading = false;
    for (const task of [...this.#deps.tasks].reverse()) task.stop();
  }
}
