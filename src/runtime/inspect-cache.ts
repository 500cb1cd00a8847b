/**
 * The Docker driver's memory of what it last inspected. `list()` runs on every runtime pass (each
 * engine event asks for one), and inspecting every container of the node each time floods the
 * engine while it is busiest: creating containers. A container is inspected again only when its
 * list summary says something changed, an engine event or an action of ours touched it, or its
 * view is older than `maxAgeMs` (a bound on staleness should an event be lost).
 *
 * @module
 */
import type { ObservedContainer } from './types.js';

/** The fields of a list summary that tell a container changed (dockerode's `ContainerInfo`). */
export interface ContainerSummary {
  readonly Id: string;
  readonly State?: string;
  readonly Status?: string;
}

/**
 * What of a summary must stay the same for a cached view to stand: the state, the health shown
 * in the status text, and the exit code of an exited container (`Up 3 minutes (healthy)`,
 * `Exited (137) 2 seconds ago`). The rest of the status text is a clock and changes every second.
 */
export function summaryKey(s: ContainerSummary): string {
  const status = s.Status ?? '';
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(status)?.[1] ?? '';
  const code = /^(?:Exited|Restarting) \((-?\d+)\)/.exec(status)?.[1] ?? '';
  return `${s.State ?? ''}|${health}|${code}`;
}

/**
 * Views by container id, each with the summary key it was taken under.
 *
 * @example
 * ```ts
 * const epoch = cache.epoch(summary.Id);
 * const view = cache.get(summary) ?? cache.set(summary, observedFrom(await inspect(summary.Id)), epoch);
 * ```
 */
export class InspectCache {
  readonly #views = new Map<string, { key: string; at: number; view: ObservedContainer }>();
  /** forget() calls per container: an inspection begun before one is not kept. */
  readonly #forgets = new Map<string, number>();
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(options: { maxAgeMs?: number; now?: () => number } = {}) {
    this.#maxAgeMs = options.maxAgeMs ?? 2_000;
    this.#now = options.now ?? Date.now;
  }

  /** The cached view, if the summary matches and it is fresh enough. */
  get(summary: ContainerSummary): ObservedContainer | undefined {
    const entry = this.#views.get(summary.Id);
    if (!entry || entry.key !== summaryKey(summary) || this.#now() - entry.at > this.#maxAgeMs) return undefined;
    return entry.view;
  }

  /** Taken before inspecting a container, handed to set(). */
  epoch(id: string): number {
    return this.#forgets.get(id) ?? 0;
  }

  /** Keeps a view, unless something happened to the container since `epoch` (the view may predate it). */
  set(summary: ContainerSummary, view: ObservedContainer, epoch: number): ObservedContainer {
    if (epoch === this.epoch(summary.Id))
      this.#views.set(summary.Id, { key: summaryKey(summary), at: this.#now(), view });
    return view;
  }

  /** Something happened to this container: inspect it on the next list. */
  forget(id: string): void {
    this.#forgets.set(id, this.epoch(id) + 1);
    this.#views.delete(id);
  }

  /** Drops the views of containers no longer listed. */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.#views.keys()) if (!ids.has(id)) this.#views.delete(id);
    for (const id of this.#forgets.keys()) if (!ids.has(id)) this.#forgets.delete(id);
  }
}
