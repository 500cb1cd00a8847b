/**
 * ServiceProxy: listens on each service address and port (VIP:port) and hands every accepted
 * connection to a task the service's Balancer picks: a task on this node directly
 * (`connectLocal(containerIp, port)`), a task elsewhere through `dialRemote` (the mesh stream).
 * A task that refuses or does not answer is skipped for the next one, before any byte of the
 * client's was sent. With no task in rotation the connection is held (bounded in time and
 * number, per listener: a cold start holds longer) until one enters it, and `onHold` is told: a
 * service scaled to zero wakes on its first connection. A refusal (held too long, too many held)
 * resets the connection and is logged at warn. Per service it counts connections open and
 * requests (for autoscaling: a connection, plus each further HTTP/1.x keep-alive request, see
 * request-count.ts).
 */
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { Balancer, Endpoint, Lease } from './balancer.js';
import { MeshRefusedError } from './errors.js';
import { countKeepAliveRequests } from './request-count.js';
import { splice } from './splice.js';
import { connectTcp } from './tcp.js';
import type { ConnectTcp } from './tcp.js';

export interface ProxyListener {
  /** The service (its Balancer's key). */
  readonly service: string;
  /** The service's VIP (must be on a local link: see VipInterface). */
  readonly address: string;
  readonly port: number;
  /** The port the tasks listen on; default `port`. */
  readonly targetPort?: number;
  /** How long a connection may wait for a task in rotation; default the proxy's `holdMs` (a cold start waits longer). */
  readonly holdMs?: number;
  /** Connections waiting at once for this service; default the proxy's `maxHeld`. */
  readonly maxHeld?: number;
}

/** Open a byte stream to a task on another node (MeshService.dial). */
export type DialRemote = (
  nodeId: string,
  taskId: string,
  port: number,
  options: { readonly signal?: AbortSignal },
) => Promise<Duplex>;

export interface ServiceProxyOptions {
  /** This node's id: endpoints with it are dialed directly. */
  readonly localNodeId: string;
  /** The balancer of each service (a Map will do). */
  readonly balancers: { get(service: string): Balancer | undefined };
  readonly dialRemote: DialRemote;
  /** Default {@link connectTcp}. */
  readonly connectLocal?: ConnectTcp;
  /** How long a connection may wait for a task in rotation. Default 5 000 ms. */
  readonly holdMs?: number;
  /** Connections waiting at once per service; more are reset. Default 256. */
  readonly maxHeld?: number;
  /** Default 5 000 ms. */
  readonly connectTimeoutMs?: number;
  /** Tasks tried per connection. Default 3. */
  readonly maxAttempts?: number;
  /** A connection waits for `service`, which has no task in rotation (a service at zero wakes on it). */
  readonly onHold?: (service: string) => void;
  readonly logger?: Logger;
}

/** A listener that could not be opened (its VIP is not on a local link yet, the port is taken). */
export interface ListenFailure {
  readonly listener: ProxyListener;
  readonly error: Error;
}

interface Entry {
  config: ProxyListener;
  readonly server: Server;
}

const keyOf = (l: ProxyListener): string => `${l.address}:${l.port}`;

/** How soon a starting task is asked again. */
const RETRY_MS = 200;

/** A task that refused because it is starting: its node does not route to it yet, or nothing listens yet. */
function notReadyYet(err: unknown): boolean {
  if (err instanceof MeshRefusedError) return err.code === 'not-ready' || err.code === 'unreachable';
  return (err as NodeJS.ErrnoException | null)?.code === 'ECONNREFUSED';
}

/** Why a connection got no task: it waited too long, too many waited, or the client left. */
type Refusal = 'timeout' | 'queue-full' | 'closed';

/**
 * @example
 * const proxy = new ServiceProxy({ localNodeId, balancers, dialRemote: (n, t, p, o) => mesh.dial(n, t, p, o) });
 * const { failed } = await proxy.setListeners([{ service: 'shop_web', address: '10.253.0.7', port: 80 }]);
 */
export class ServiceProxy {
  readonly #options: ServiceProxyOptions;
  readonly #log: Logger;
  readonly #connect: ConnectTcp;
  readonly #entries = new Map<string, Entry>();
  readonly #clients = new Set<Socket>();
  readonly #held = new Map<string, number>();
  /**
   * Per service: connections open through this proxy, when the last was accepted
   * (performance.now()), and requests so far (a monotonic count: the leader turns it into a rate).
   */
  readonly #activity = new Map<string, { open: number; lastAcceptAt: number; requests: number }>();
  #queue: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(options: ServiceProxyOptions) {
    this.#options = options;
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'mesh-proxy' });
    this.#connect = options.connectLocal ?? connectTcp;
  }

  /** Client connections open now (held or piped). */
  get connections(): number {
    return this.#clients.size;
  }

  /** Client connections waiting for a task of `service`. */
  held(service: string): number {
    return this.#held.get(service) ?? 0;
  }

  /**
   * Per service with connections so far: how many are open, how long ago the last was accepted,
   * and the requests counted since this proxy first saw the service (it only grows while the
   * service is kept; see {@link retainActivity}).
   */
  activity(): { serviceId: string; open: number; lastAcceptAgoMs: number; requests: number }[] {
    const now = performance.now();
    return [...this.#activity].map(([serviceId, a]) => ({
      serviceId,
      open: a.open,
      lastAcceptAgoMs: Math.max(0, Math.round(now - a.lastAcceptAt)),
      requests: a.requests,
    }));
  }

  /** Forget the activity of services this proxy no longer listens for (and that have none open). */
  retainActivity(services: ReadonlySet<string>): void {
    for (const [id, a] of this.#activity) if (a.open === 0 && !services.has(id)) this.#activity.delete(id);
  }

  /**
   * Listen on exactly `listeners` (idempotent): new ones are opened, gone ones closed (their open
   * connections go on), changed targets apply to new connections. Failed ones are retried by the
   * next call.
   */
  setListeners(listeners: readonly ProxyListener[]): Promise<{ failed: ListenFailure[] }> {
    const run = async (): Promise<{ failed: ListenFailure[] }> => {
      if (this.#stopped) throw new Error('Cannot set listeners as the proxy is stopped');
      const wanted = new Map(listeners.map((l) => [keyOf(l), l]));
      for (const [key, entry] of this.#entries) {
        if (wanted.has(key)) continue;
        this.#entries.delete(key);
        entry.server.close();
      }
      const failed: ListenFailure[] = [];
      for (const [key, config] of wanted) {
        const entry = this.#entries.get(key);
        if (entry !== undefined) {
          entry.config = config;
          continue;
        }
        try {
          this.#entries.set(key, await this.#listen(config));
        } catch (err) {
          failed.push({ listener: config, error: err instanceof Error ? err : new Error(String(err)) });
        }
      }
      if (failed.length > 0)
        this.#log.warn(
          { failed: failed.map((f) => `${keyOf(f.listener)}: ${f.error.message}`) },
          'some service listeners could not be opened',
        );
      return { failed };
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Close every listener and connection. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const servers = [...this.#entries.values()].map((e) => e.server);
    this.#entries.clear();
    for (const socket of this.#clients) socket.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  #listen(config: ProxyListener): Promise<Entry> {
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    const entry: Entry = { config, server };
    server.on('connection', (socket) => void this.#accept(socket, entry.config));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.address, () => {
        server.off('error', reject);
        server.on('error', (err) => this.#log.warn({ err, listener: keyOf(entry.config) }, 'service listener error'));
        resolve(entry);
      });
    });
  }

  async #accept(socket: Socket, listener: ProxyListener): Promise<void> {
    this.#clients.add(socket);
    const activity = this.#activity.get(listener.service) ?? { open: 0, lastAcceptAt: 0, requests: 0 };
    this.#activity.set(listener.service, activity);
    activity.open++;
    activity.requests++;
    activity.lastAcceptAt = performance.now();
    const gone = new AbortController();
    socket.once('close', () => {
      this.#clients.delete(socket);
      activity.open--;
      gone.abort(new Error('client closed'));
    });
    socket.on('error', () => undefined); // a reset client ends with 'close'; splice reports errors
    const balancer = this.#options.balancers.get(listener.service);
    if (balancer === undefined) {
      this.#log.warn({ service: listener.service }, 'no balancer for a listened service; connection reset');
      return void socket.resetAndDestroy();
    }
    const port = listener.targetPort ?? listener.port;
    const holdMs = listener.holdMs ?? this.#options.holdMs ?? 5_000;
    const holdUntil = performance.now() + holdMs;
    const tried = new Set<string>();
    let refused: Refusal | null = null;
    let notReady: string | null = null;
    for (let attempt = 0; attempt < (this.#options.maxAttempts ?? 3); attempt++) {
      const lease = await this.#acquire(balancer, listener, tried, holdUntil, gone.signal);
      if (typeof lease === 'string') {
        refused = lease;
        break;
      }
      tried.add(lease.endpoint.taskId);
      let upstream: Duplex;
      try {
        upstream = await this.#open(lease.endpoint, port, gone.signal);
      } catch (err) {
        lease.release();
        if (gone.signal.aborted) return;
        const others = balancer.rotation().some((e) => !tried.has(e.taskId));
        if (!others && notReadyYet(err) && performance.now() + RETRY_MS < holdUntil) {
          // The only task just started (a cold start): its node has not applied that yet, or its
          // process does not listen yet. Ask it again shortly, within the hold.
          notReady = lease.endpoint.taskId;
          tried.delete(notReady);
          attempt--;
          this.#log.debug({ service: listener.service, task: notReady, err }, 'task not ready yet; asking again');
          await delay(RETRY_MS, undefined, { signal: gone.signal }).catch(() => undefined);
          if (gone.signal.aborted) return;
          continue;
        }
        this.#log.info(
          { service: listener.service, task: lease.endpoint.taskId, err },
          'task did not take a connection; trying another',
        );
        continue;
      }
      if (socket.destroyed) {
        upstream.destroy();
        return lease.release();
      }
      splice(socket, upstream, () => lease.release());
      // Only now: the pipe is attached, so observing the client's chunks loses none.
      return countKeepAliveRequests(socket, () => activity.requests++);
    }
    if (socket.destroyed) return;
    if (refused !== null && (tried.size === 0 || notReady !== null)) {
      // Nothing came in rotation to take it: a refusal the operator should see (a cold start too slow, a flood).
      const limit = listener.maxHeld ?? this.#options.maxHeld ?? 256;
      this.#log.warn(
        { service: listener.service, listener: keyOf(listener), refused, holdMs, maxHeld: limit },
        refused === 'queue-full'
          ? `connection to service ${listener.service} refused: its queue of ${limit} held connections is full`
          : `connection to service ${listener.service} refused: no task came in rotation within ${holdMs} ms${
              notReady === null ? '' : ` (task ${notReady} was in rotation but did not take connections)`
            }`,
      );
    } else this.#log.info({ service: listener.service, tried: tried.size }, 'no task took the connection; reset');
    socket.resetAndDestroy();
  }

  /** A lease now, or once a task enters rotation before `holdUntil`; else why none came. */
  async #acquire(
    balancer: Balancer,
    listener: ProxyListener,
    tried: ReadonlySet<string>,
    holdUntil: number,
    signal: AbortSignal,
  ): Promise<Lease | Refusal> {
    const { service } = listener;
    const now = balancer.pick(tried);
    if (now !== null) return now;
    if (signal.aborted) return 'closed';
    const wait = holdUntil - performance.now();
    const held = this.held(service);
    if (wait <= 0) return 'timeout';
    if (held >= (listener.maxHeld ?? this.#options.maxHeld ?? 256)) return 'queue-full';
    this.#held.set(service, held + 1);
    // Until it is answered, the client's first bytes wait unread in its socket: none is lost.
    if (balancer.rotation().length === 0) this.#options.onHold?.(service);
    try {
      return await new Promise<Lease | Refusal>((resolve) => {
        const done = (lease: Lease | Refusal): void => {
          clearTimeout(timer);
          unsubscribe();
          signal.removeEventListener('abort', onAbort);
          resolve(lease);
        };
        const onAbort = (): void => done('closed');
        const timer = setTimeout(() => done('timeout'), wait);
        const unsubscribe = balancer.onChange(() => {
          const lease = balancer.pick(tried);
          if (lease !== null) done(lease);
        });
        signal.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      const left = this.held(service) - 1;
      if (left > 0) this.#held.set(service, left);
      else this.#held.delete(service);
    }
  }

  #open(endpoint: Endpoint, port: number, signal: AbortSignal): Promise<Duplex> {
    if (endpoint.nodeId !== this.#options.localNodeId) {
      return this.#options.dialRemote(endpoint.nodeId, endpoint.taskId, port, { signal });
    }
    if (endpoint.address === undefined) {
      return Promise.reject(new Error(`local task ${endpoint.taskId} has no address to connect to`));
    }
    return this.#connect(endpoint.address, endpoint.port ?? port, {
      signal,
      timeoutMs: this.#options.connectTimeoutMs ?? 5_000,
    });
  }
}
