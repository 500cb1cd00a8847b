/**
 * Turns what the state machine applies into events in the window: derived from each command on
 * every agent (the same events at the same indexes everywhere), plus this agent's own
 * observations of leader changes.
 * @module
 */
import type { AppliedCommand, AppliedObserver } from '../state/cluster-state.js';
import { DERIVERS, deriveEvents, type Deriver } from './derive/index.js';
import type { ClusterEvent } from './types.js';
import type { EventWindow } from './window.js';

export interface EventRecorderDeps {
  readonly window: EventWindow;
  /** Default: every kind ({@link DERIVERS}). */
  readonly derivers?: readonly Deriver[];
  /** Wall clock, ms, for local observations. */
  readonly now: () => number;
  readonly log: { error(object: object, message: string): void };
  /** Told of each event recorded (metrics count some of them). */
  readonly onEvent?: (event: ClusterEvent) => void;
}

/**
 * The state machine's observer that fills the window.
 * @example state.observeApplied(new EventRecorder({ window, now: Date.now, log }));
 */
export class EventRecorder implements AppliedObserver {
  readonly #deps: EventRecorderDeps;
  #lastLeader: string | null | undefined = undefined;

  constructor(deps: EventRecorderDeps) {
    this.#deps = deps;
  }

  applied(change: AppliedCommand): void {
    try {
      const drafts = deriveEvents(change, this.#deps.derivers ?? DERIVERS);
      drafts.forEach((draft, sub) => this.#record({ index: change.index, sub, time: change.command.at, ...draft }));
    } catch (error) {
      // A bug in a deriver must never stop apply: the event is lost, the state is not.
      this.#deps.log.error({ err: error, index: change.index, type: change.command.type }, 'cannot derive events');
    }
  }

  restored(index: number): void {
    this.#deps.window.markRestored(index);
  }

  /**
   * This agent saw the leader change (a local observation: each agent sees it at its own
   * moment, so it is numbered after the events of `appliedIndex` here, and marked `local`).
   */
  leaderChanged(leader: string | null, leaderName: string | null, term: number, appliedIndex: number): void {
    if (leader === this.#lastLeader) return;
    this.#lastLeader = leader;
    const name = leaderName ?? leader?.slice(0, 12) ?? '';
    const message =
      leader === null
        ? 'no leader: an election is under way'
        : `${name} is the leader${term > 0 ? ` (term ${term})` : ''}`;
    const event = this.#deps.window.appendLocal(
      {
        type: 'leader',
        action: leader === null ? 'lost' : 'elected',
        name,
        ...(leader ? { node: leader } : {}),
        message,
      },
      this.#deps.now(),
      appliedIndex,
    );
    this.#deps.onEvent?.(event);
  }

  #record(event: ClusterEvent): void {
    this.#deps.window.append(event);
    this.#deps.onEvent?.(event);
  }
}
