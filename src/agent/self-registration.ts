/**
 * After a restart this node's record may be out of date (a new port or IP, GPUs added or
 * removed, a platform an earlier version did not record): update it through the leader, retrying
 * once a second for up to 10 minutes. It also finishes an `init` that was interrupted before its
 * first commands, once this node leads. Runs on every node from the moment it joins; stopped with
 * the agent.
 */
import type { Logger } from 'pino';
import type { Clock } from '../raft/driver/index.js';
import type { ClusterStore } from './cluster-store.js';
import type { NodeFactsSource } from './node-facts.js';

const ATTEMPTS = 600;

export interface SelfRegistrationDeps {
  readonly selfId: string;
  readonly store: Pick<ClusterStore, 'state' | 'joined' | 'membership' | 'isLeader' | 'propose'>;
  readonly facts: NodeFactsSource;
  /** Finish an interrupted `init` (cluster-init.ts). */
  readonly completeInit: (name: string) => Promise<unknown>;
  readonly clock: Clock;
  readonly log: Logger;
}

export class SelfRegistration {
  readonly #deps: SelfRegistrationDeps;
  #stop: AbortController | null = null;

  constructor(deps: SelfRegistrationDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (this.#stop) return;
    const stop = new AbortController();
    this.#stop = stop;
    void this.#run(stop.signal);
  }

  stop(): void {
    this.#stop?.abort();
    this.#stop = null;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { store, selfId, log } = this.#deps;
    for (let attempt = 0; attempt < ATTEMPTS && !signal.aborted; attempt++) {
      await this.#sleep(attempt === 0 ? 200 : 1000, signal);
      if (signal.aborted || !store.joined()) return;
      try {
        // An init cut short before its cluster.init, or between it and this node's registration.
        if (store.membership()?.origin === 'init' && (!store.state.cluster() || !store.state.node(selfId))) {
          if (!store.isLeader()) continue;
          await this.#deps.completeInit('shoal');
          return;
        }
        const record = store.state.node(selfId);
        if (!record) continue;
        const { addresses, resources, platform } = await this.#deps.facts();
        const change = {
          ...(record.addresses.join(' ') === addresses.join(' ') ? {} : { addresses }),
          ...(JSON.stringify(record.resources) === JSON.stringify(resources) ? {} : { resources }),
          // nodes registered before shoal recorded platforms learn theirs on their next start
          ...(platform === undefined || JSON.stringify(record.platform) === JSON.stringify(platform)
            ? {}
            : { platform }),
        };
        if (Object.keys(change).length === 0) return;
        await store.propose({ type: 'node.update', id: selfId, ...change }, { deadlineMs: 5_000, signal });
        log.info(change, "updated this node's record");
        return;
      } catch (error) {
        log.debug({ err: error }, 'self record update failed; retrying');
      }
    }
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#deps.clock.clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.#deps.clock.setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
