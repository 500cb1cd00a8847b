/**
 * Balancer: which task of a service takes the next connection. Pure (no I/O, no clock): the
 * agent tells it the service's endpoints, the proxy asks it for picks and releases them.
 *
 * A task is in rotation when it is healthy, not draining (replicated state: the whole cluster
 * stops sending it work) and not drained here (`drain()`: this node stops at once, without
 * waiting for the state to say so). A task that left the endpoint list while connections to it
 * are open stays counted until they end, so a drain sees them.
 */
import { OpenCounts } from './open-counts.js';

export interface Endpoint {
  readonly taskId: string;
  /** The node the task runs on. */
  readonly nodeId: string;
  /** Where this node reaches the task directly (its container IP; 127.0.0.1 for a host process), when local. */
  readonly address?: string;
  /** The port the task listens on, when not the service's own port (a host process given a port). */
  readonly port?: number;
  /** Passed its healthcheck (or running, without one). */
  readonly healthy: boolean;
  /** Leaving: no new connections, open ones finish. */
  readonly draining: boolean;
}

export type BalanceStrategy = 'round-robin' | 'least-connections';

/** A picked endpoint with a connection counted against it; `release()` (idempotent) when it ends. */
export interface Lease {
  readonly endpoint: Endpoint;
  release(): void;
}

export interface BalancerOptions {
  /** Default `least-connections`: a slow task gets fewer new connections. */
  readonly strategy?: BalanceStrategy;
}

/**
 * @example
 * const balancer = new Balancer();
 * balancer.setEndpoints([{ taskId: 't1', nodeId: 'n1', address: '172.18.0.4', healthy: true, draining: false }]);
 * const lease = balancer.pick();
 * // ...connect to lease.endpoint, and when the connection ends:
 * lease?.release();
 */
export class Balancer {
  readonly strategy: BalanceStrategy;
  readonly #open = new OpenCounts();
  readonly #drained = new Set<string>();
  readonly #listeners = new Set<() => void>();
  #endpoints: readonly Endpoint[] = [];
  #rotation: readonly Endpoint[] = [];
  #cursor = 0;

  constructor(options: BalancerOptions = {}) {
    this.strategy = options.strategy ?? 'least-connections';
  }

  /** Replace the endpoint list (level-triggered: the whole list each time). */
  setEndpoints(endpoints: readonly Endpoint[]): void {
    const ids = new Set<string>();
    for (const e of endpoints) {
      if (ids.has(e.taskId))
        throw new TypeError(`Cannot balance over task ${e.taskId} twice: endpoints must be unique`);
      ids.add(e.taskId);
    }
    // A local drain holds until the task is gone from the list.
    for (const id of this.#drained) if (!ids.has(id)) this.#drained.delete(id);
    this.#endpoints = [...endpoints];
    this.#update();
  }

  endpoints(): readonly Endpoint[] {
    return this.#endpoints;
  }

  /** Endpoints that may take a new connection now. */
  rotation(): readonly Endpoint[] {
    return this.#rotation;
  }

  /** Open connections counted against `taskId`. */
  openConnections(taskId: string): number {
    return this.#open.count(taskId);
  }

  /**
   * Pick an endpoint for a new connection, skipping `exclude` (tasks that already failed this
   * connection); null when none is in rotation.
   */
  pick(exclude: ReadonlySet<string> = new Set()): Lease | null {
    const candidates = exclude.size === 0 ? this.#rotation : this.#rotation.filter((e) => !exclude.has(e.taskId));
    if (candidates.length === 0) return null;
    const start = this.#cursor++ % candidates.length;
    let chosen = candidates[start]!;
    if (this.strategy === 'least-connections') {
      // Ties go to the round-robin order, so equal loads still spread.
      let least = this.#open.count(chosen.taskId);
      for (let i = 1; i < candidates.length && least > 0; i++) {
        const e = candidates[(start + i) % candidates.length]!;
        const open = this.#open.count(e.taskId);
        if (open < least) [chosen, least] = [e, open];
      }
    }
    return { endpoint: chosen, release: this.#open.open(chosen.taskId) };
  }

  /**
   * Take `taskId` out of rotation here and resolve once its connections through this node
   * have ended (at once if there are none). The task may be stopped after.
   */
  drain(taskId: string, options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    if (this.#endpoints.some((e) => e.taskId === taskId)) {
      this.#drained.add(taskId);
      this.#update();
    }
    return this.#open.whenIdle(taskId, options);
  }

  /** Put a locally drained task back in rotation (a cancelled stop). */
  undrain(taskId: string): void {
    if (this.#drained.delete(taskId)) this.#update();
  }

  /** Called whenever the rotation changes; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #update(): void {
    this.#rotation = this.#endpoints.filter((e) => e.healthy && !e.draining && !this.#drained.has(e.taskId));
    for (const listener of [...this.#listeners]) listener();
  }
}
