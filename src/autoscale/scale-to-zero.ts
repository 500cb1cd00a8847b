/**
 * Scale to zero (issue 16), the leader's pure half: when a `min: 0` service has been idle long
 * enough to go to zero, what it remembers of the connections the nodes' mesh proxies report, and
 * the single flight that turns many woken connections into one scale-up. No clock: time comes in
 * as `now` (the leader's clock, which stamps every report, so nodes' clocks never compare).
 *
 * @module
 */
import type { AutoscalePolicy } from './policy.js';

/** How long a node's last activity report vouches that it runs the mesh. */
export const MESH_REPORT_STALE_MS = 30_000;

export interface IdleInput {
  readonly now: number;
  readonly policy: Pick<AutoscalePolicy, 'min' | 'idleMs'>;
  /** The service's desired replicas now. */
  readonly current: number;
  /** The last connection through any node's proxy, or the last wake (see {@link ActivityBook}). */
  readonly lastActivityAt: number;
  /** Whether some node's mesh reported lately: without one, nobody could wake the service. */
  readonly meshReporting: boolean;
}

/** What scale to zero says: `replicas` with its reason, or null to let the HPA decide (at least 1). */
export type IdleDecision = { readonly replicas: number; readonly reason: string } | null;

/**
 * @example
 * ```ts
 * idleDecision({ now, policy, current: 2, lastActivityAt: now - 301_000, meshReporting: true });
 * // { replicas: 0, reason: 'idle: no connection through the service mesh for 5 min → 0' }
 * ```
 */
export function idleDecision(input: IdleInput): IdleDecision {
  const { now, policy, current } = input;
  if (policy.min !== 0) return null;
  if (current === 0) return { replicas: 0, reason: 'scaled to zero: the next connection wakes it' };
  if (!input.meshReporting) return null;
  const idleFor = now - input.lastActivityAt;
  if (idleFor < policy.idleMs) return null;
  return { replicas: 0, reason: `idle: no connection through the service mesh for ${span(idleFor)} → 0` };
}

/** One service's connections on one node, as the node reports them. */
export interface ServiceActivity {
  readonly serviceId: string;
  /** Connections open (piped or held) through this node's proxy now. */
  readonly open: number;
  /** How long ago (node's clock, a duration) the last connection was accepted; null: none yet. */
  readonly lastAcceptAgoMs: number | null;
  /**
   * Requests through this node's proxy since it first saw the service: a cumulative count (it
   * restarts from 0 with the agent). Absent from agents older than the `rps` target.
   */
  readonly requests?: number;
}

/**
 * The leader's memory of connection activity (not replicated: a new leader starts each service's
 * idle time afresh, so it never scales down sooner than a whole `idle` after taking over).
 */
export class ActivityBook {
  readonly #last = new Map<string, number>();
  readonly #reporters = new Map<string, number>();

  /** A node's report at `now`: open connections count as activity now. */
  report(nodeId: string, now: number, services: readonly ServiceActivity[]): void {
    this.#reporters.set(nodeId, now);
    for (const s of services) {
      const at = s.open > 0 ? now : s.lastAcceptAgoMs === null ? null : now - s.lastAcceptAgoMs;
      if (at !== null) this.touch(s.serviceId, at);
    }
  }

  /** Activity at `at` (a connection, a wake, the service coming back from zero). Never moves back. */
  touch(serviceId: string, at: number): void {
    const last = this.#last.get(serviceId);
    if (last === undefined || at > last) this.#last.set(serviceId, at);
  }

  /** The last activity; a service seen for the first time is active `now` (its idle time starts). */
  lastActivity(serviceId: string, now: number): number {
    const last = this.#last.get(serviceId);
    if (last !== undefined) return last;
    this.#last.set(serviceId, now);
    return now;
  }

  /** Whether any node reported within {@link MESH_REPORT_STALE_MS}. */
  meshReporting(now: number): boolean {
    for (const at of this.#reporters.values()) if (now - at <= MESH_REPORT_STALE_MS) return true;
    return false;
  }

  /** Forget services that are gone (or no longer scale to zero). */
  retain(serviceIds: ReadonlySet<string>): void {
    for (const id of [...this.#last.keys()]) if (!serviceIds.has(id)) this.#last.delete(id);
  }

  clear(): void {
    this.#last.clear();
    this.#reporters.clear();
  }
}

/**
 * At most one call in flight per key: a caller that comes while one runs shares its result. Many
 * held connections, on one node or several, become one wake RPC per node and one scale-up.
 *
 * @example
 * ```ts
 * const wakes = new SingleFlight<string, number>();
 * await Promise.all([wakes.run('web', wake), wakes.run('web', wake)]); // wake ran once
 * ```
 */
export class SingleFlight<K, V> {
  readonly #inFlight = new Map<K, Promise<V>>();

  run(key: K, call: () => Promise<V>): Promise<V> {
    const running = this.#inFlight.get(key);
    if (running !== undefined) return running;
    const started = call().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, started);
    return started;
  }

  has(key: K): boolean {
    return this.#inFlight.has(key);
  }
}

function span(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}
