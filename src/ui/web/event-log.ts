/**
 * The events this page has seen, newest last, at most {@link EVENT_LOG_SIZE}; the events page
 * shows them and adds each new one as it comes.
 * @module
 */
import type { LiveMode, UiEvent } from './live.js';

export const EVENT_LOG_SIZE = 1_000;

export class EventLog {
  readonly #events: UiEvent[] = [];
  readonly #listeners = new Set<(event: UiEvent) => void>();
  #mode: LiveMode = { kind: 'connecting' };
  readonly #modeListeners = new Set<(mode: LiveMode) => void>();

  add(event: UiEvent): void {
    this.#events.push(event);
    if (this.#events.length > EVENT_LOG_SIZE) this.#events.splice(0, this.#events.length - EVENT_LOG_SIZE);
    for (const listener of this.#listeners) listener(event);
  }

  all(): readonly UiEvent[] {
    return this.#events;
  }

  get mode(): LiveMode {
    return this.#mode;
  }

  setMode(mode: LiveMode): void {
    this.#mode = mode;
    for (const listener of this.#modeListeners) listener(mode);
  }

  /** Call `listener` on each new event; returns how to stop. */
  subscribe(listener: (event: UiEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onMode(listener: (mode: LiveMode) => void): () => void {
    this.#modeListeners.add(listener);
    return () => this.#modeListeners.delete(listener);
  }
}
