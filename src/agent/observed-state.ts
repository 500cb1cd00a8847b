/**
 * The state machine as the Raft node and the state feed drive it: each applied entry or restored
 * snapshot advances the applied index (writes wait on it) and says once per burst, in a
 * microtask, that the state changed.
 *
 * Entries and snapshots at or below the applied index are skipped. A Raft node never sends
 * them, except right after an observer became a learner: its state is then ahead of its new,
 * empty Raft node, which replays from the leader's snapshot. The state at an index is the same
 * on every node, so keeping it and skipping the replay up to there is exact, and the API and
 * the runtime never see the state go back.
 */
import type { StateMachine } from '../raft/interfaces.js';
import type { Entry } from '../raft/types.js';
import type { ApplyResult, ClusterStateMachine } from '../state/index.js';
import type { AppliedIndex } from './applied-index.js';

export class ObservedStateMachine implements StateMachine<ApplyResult> {
  readonly #state: ClusterStateMachine;
  readonly #applied: AppliedIndex;
  readonly #changed: () => void;
  #queued = false;

  constructor(state: ClusterStateMachine, applied: AppliedIndex, changed: () => void) {
    this.#state = state;
    this.#applied = applied;
    this.#changed = changed;
  }

  apply(entry: Entry): ApplyResult {
    if (entry.index <= this.#applied.index) return { ok: true, index: entry.index, type: null };
    const result = this.#state.apply(entry);
    this.#applied.advance(entry.index);
    this.#queueChange();
    return result;
  }

  snapshot(): Uint8Array {
    return this.#state.snapshot();
  }

  restore(data: Uint8Array, index: number): void {
    if (index <= this.#applied.index) return;
    this.#state.restore(data, index);
    this.#applied.advance(index);
    this.#queueChange();
  }

  #queueChange(): void {
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      this.#changed();
    });
  }
}
