/**
 * On the leader: services restored from a snapshot older than service addresses have no VIP
 * (state/service-vips.ts); this proposes `service.vips` once it sees one, and apply gives each
 * an address. New services get theirs in `stack.deploy` itself, so this runs once after an
 * upgrade and then only looks (at most once per change of the service map: O(services)).
 */
import type { Logger } from 'pino';
import type { CommandInput, IndexedState } from '../state/index.js';
import { servicesWithoutVip } from '../state/index.js';
import type { LeaderTask } from './leader-scope.js';

export interface VipAllocatorDeps {
  readonly state: { view(): IndexedState };
  readonly propose: (command: CommandInput, options: { signal?: AbortSignal }) => Promise<unknown>;
  readonly log: Logger;
}

export class VipAllocator implements LeaderTask {
  readonly #deps: VipAllocatorDeps;
  #active = false;
  #inFlight = false;
  /** The service map last found complete (identity: apply copies it on any change). */
  #checked: IndexedState['services'] | null = null;
  #abort = new AbortController();

  constructor(deps: VipAllocatorDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (this.#active) return;
    this.#active = true;
    this.#abort = new AbortController();
    this.#checked = null;
    this.stateChanged();
  }

  stop(): void {
    this.#active = false;
    this.#abort.abort();
  }

  /** The replicated state changed: propose `service.vips` if a service lacks an address. */
  stateChanged(): void {
    if (!this.#active || this.#inFlight) return;
    const services = this.#deps.state.view().services;
    if (services === this.#checked) return;
    const missing = servicesWithoutVip(services);
    if (missing.length === 0) {
      this.#checked = services;
      return;
    }
    this.#inFlight = true;
    this.#deps.log.info({ services: missing.slice(0, 10), count: missing.length }, 'giving services their addresses');
    this.#deps
      .propose({ type: 'service.vips' }, { signal: this.#abort.signal })
      .catch((err: unknown) => {
        if (this.#active) this.#deps.log.warn({ err }, 'cannot give services their addresses; will retry');
      })
      .finally(() => {
        this.#inFlight = false;
        // Looked at again on the next change; after a failure, on the next change too.
      });
  }
}
