/**
 * The admin HTTP API server: JSON over HTTP on a unix socket and/or TCP, around a
 * {@link ClusterApi} and, when the api has them, the {@link WorkloadApi} routes. Every agent
 * serves it; writes are forwarded to the leader by the api, not here.
 * @module
 */
import { chmod, unlink } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { createTokenCheck, isLoopbackHost, type TokenCheck } from './auth.js';
import { browserRefusal } from './browser-guard.js';
import { readJsonBody, sendError, sendJson, sendNdjson, sendText } from './http-io.js';
import { Router, type Route } from './router.js';
import { CLIENT_REQUEST_ID, REQUEST_ID_HEADER, withRequestId } from './request-scope.js';
import { clusterRoutes } from './routes.js';
import { ApiError, type ClusterApi, type WorkloadApi } from './types.js';
import { clearStaleSocket } from './unix-socket.js';
import { validateBody, validateQuery } from './validate.js';
import { isWorkloadApi, workloadRoutes } from './workload-routes.js';
import { isRolloutApi, rolloutRoutes } from './rollout-routes.js';
import { isBatchApi, jobRoutes } from './job-routes.js';
import { eventRoutes, isEventsApi } from './event-routes.js';
import { isSecretApi, secretRoutes } from './secret-routes.js';
import { isMetricsApi, metricsRoutes } from './metrics-routes.js';
import { createStaticSite, type StaticFiles } from './static-files.js';

/** A TCP address to listen on. */
export interface ApiListenAddress {
  readonly host: string;
  /** 0 picks a free port; {@link ApiServer.addresses} tells which. */
  readonly port: number;
  /**
   * Require the admin token on this listener even when it is loopback (always required on any
   * other address). Useful on shared machines where other local users can reach loopback.
   */
  readonly requireToken?: boolean;
}

/** The subset of a pino logger the server uses. */
export interface ApiLogger {
  error(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  info(object: object, message?: string): void;
  debug(object: object, message?: string): void;
  /** pino's: when it says debug is off, requests are not timed for the debug line. */
  isLevelEnabled?(level: string): boolean;
}

/** Options of {@link createApiServer}. */
export interface ApiServerOptions {
  /** Unix socket path (created with mode 0600). */
  readonly socketPath?: string;
  readonly listen?: readonly ApiListenAddress[];
  /** The admin token; required when any TCP listener is not loopback. */
  readonly adminToken?: string;
  /** Instead of {@link adminToken}: its `hashAdminToken` digest, which is what the agent stores. */
  readonly adminTokenHash?: string;
  /** Serve TCP listeners over TLS (the unix socket stays plain: TLS adds nothing there). */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly logger?: ApiLogger;
  /** More routes next to the cluster routes (stacks, services, jobs in later milestones). */
  readonly routes?: readonly Route[];
  /** The web UI's files, served at `/ui` (static-files.ts); none: no UI. */
  readonly ui?: StaticFiles;
}

/** A running (or startable) admin API server. */
export interface ApiServer {
  /** Listen on every configured address. Idempotent. Rejects with a message naming the address that failed. */
  start(): Promise<void>;
  /** Stop listening, cut open connections (aborting their requests) and remove the socket file. Idempotent. */
  stop(): Promise<void>;
  /** Where it listens, as the CLI's `--addr` takes them: `unix:///path`, `http://127.0.0.1:7900`. */
  addresses(): string[];
}

/** The server was configured in a way it refuses to start with. */
export class ApiServerConfigError extends Error {
  override readonly name = 'ApiServerConfigError';
}

interface Listener {
  readonly server: Server;
  readonly label: string;
  readonly listen: () => Promise<void>;
  url?: string;
}

function isApiError(error: unknown): error is ApiError {
  // Duck-typed too, so an ApiError from another copy of the module (a bundle) still maps.
  return (
    error instanceof ApiError ||
    (error instanceof Error && error.name === 'ApiError' && typeof (error as ApiError).status === 'number')
  );
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Create the admin API server. Nothing listens until {@link ApiServer.start}. The workload
 * routes (stacks, services, node operations) are served when `api` implements every
 * {@link WorkloadApi} method; otherwise those paths answer 404.
 * @example
 * const server = createApiServer(agent.api, { socketPath: '/var/lib/shoal/shoal.sock', listen: [{ host: '127.0.0.1', port: 7900 }] });
 * await server.start();
 */
export function createApiServer(api: ClusterApi & Partial<WorkloadApi>, options: ApiServerOptions = {}): ApiServer {
  const logger: ApiLogger = options.logger ?? pino({ name: 'shoal-api' });
  const router = new Router([
    ...clusterRoutes(api),
    ...(isWorkloadApi(api) ? workloadRoutes(api) : []),
    ...(isRolloutApi(api) ? rolloutRoutes(api) : []),
    ...(isBatchApi(api) ? jobRoutes(api) : []),
    ...(isSecretApi(api) ? secretRoutes(api) : []),
    ...(isEventsApi(api) ? eventRoutes(api) : []),
    ...(isMetricsApi(api) ? metricsRoutes(api) : []),
    ...(options.routes ?? []),
  ]);
  const hasToken = options.adminToken !== undefined || options.adminTokenHash !== undefined;
  const listens = options.listen ?? [];
  if (options.socketPath === undefined && listens.length === 0) {
    throw new ApiServerConfigError('Cannot create the admin API server: give a socketPath, a listen address, or both');
  }
  for (const address of listens) {
    if (!isLoopbackHost(address.host) && !hasToken) {
      throw new ApiServerConfigError(
        `Cannot listen on ${formatHost(address.host)}:${address.port} without an admin token: anyone who can reach it could run the cluster. ` +
          'Set an admin token, or listen on 127.0.0.1 / the unix socket only',
      );
    }
  }
  const site = options.ui === undefined ? undefined : createStaticSite(options.ui);
  const tokenCheck: TokenCheck | undefined = hasToken
    ? createTokenCheck({ token: options.adminToken, tokenHash: options.adminTokenHash })
    : undefined;

  /** Any failure as the ApiError to send: unexpected ones are logged and become a 500. */
  const toApiError = (error: unknown, method: string, url: string | undefined): ApiError => {
    if (isApiError(error)) {
      if (error.status >= 500) logger.warn({ method, url, code: error.code }, error.message);
      return error;
    }
    logger.error({ err: error, method, url }, 'admin API request failed');
    const message = error instanceof Error ? error.message : String(error);
    return new ApiError(500, 'internal', `internal error: ${message} (details in the agent's log)`);
  };

  /** `tcp`: the listener is reachable by browsers (browser-guard.ts); the unix socket is not. */
  const handle = async (req: IncomingMessage, res: ServerResponse, requireToken: boolean, tcp: boolean) => {
    const controller = new AbortController();
    // 'close' before the answer is finished means the client went away: stop the work it asked for.
    res.once('close', () => {
      if (!res.writableFinished) controller.abort(new Error('the admin API client disconnected'));
    });
    const method = req.method ?? 'GET';
    if (logger.isLevelEnabled?.('debug') !== false) {
      const started = performance.now();
      res.once('finish', () => {
        const ms = Math.round((performance.now() - started) * 10) / 10;
        logger.debug({ method, url: req.url, status: res.statusCode, ms }, 'admin API request');
      });
    }
    try {
      const url = parseTarget(req.url ?? '/');
      if (site?.serve(method, url.pathname, res)) return;
      const refusal = tcp ? browserRefusal(req.headers, { tokenRequired: requireToken }) : undefined;
      if (refusal !== undefined) throw new ApiError(403, 'unauthorized', refusal);
      if (requireToken && !tokenCheck!.accepts(req.headers.authorization)) {
        const message =
          'admin token missing or wrong: send "Authorization: Bearer <token>" (the CLI reads SHOAL_TOKEN or --token-file)';
        sendError(res, new ApiError(401, 'unauthorized', message), { 'www-authenticate': 'Bearer realm="shoal"' });
        return;
      }
      const match = router.match(method, url.pathname);
      if (match.kind === 'none') throw new ApiError(404, 'not_found', `no such endpoint: ${method} ${url.pathname}`);
      if (match.kind === 'method') {
        const allowed = match.allowed.join(', ');
        sendError(
          res,
          new ApiError(405, 'bad_request', `${method} is not allowed on ${url.pathname}; use ${allowed}`),
          {
            allow: allowed,
          },
        );
        return;
      }
      const { route, params } = match;
      const query = validateQuery(url.searchParams, route.query ?? {});
      const raw = await readJsonBody(req, route.maxBodyBytes);
      if (route.body === undefined && raw !== undefined) {
        throw new ApiError(400, 'bad_request', `body: ${method} ${url.pathname} takes no body`);
      }
      const body = route.body === undefined ? {} : validateBody(raw, route.body);
      const requestId = readRequestId(req.headers[REQUEST_ID_HEADER]);
      const run = () => route.handle({ params, query, body, signal: controller.signal });
      const result = await (requestId === undefined ? run() : withRequestId(requestId, run));
      if (route.stream === true) {
        const lines = result as AsyncIterable<unknown>;
        await sendNdjson(res, route.status ?? 200, lines, controller.signal, (e) => toApiError(e, method, req.url));
        return;
      }
      if (route.contentType !== undefined) {
        sendText(res, route.status ?? 200, String(result), route.contentType);
        return;
      }
      sendJson(res, route.status ?? 200, result);
    } catch (error) {
      if (controller.signal.aborted) {
        logger.debug({ method, url: req.url }, 'admin API client went away before the answer');
        return;
      }
      const apiError = toApiError(error, method, req.url);
      // A refused oversized body was not read to its end: close rather than reuse the connection.
      sendError(res, apiError, apiError.status === 413 ? { connection: 'close' } : {});
    }
  };

  const makeServer = (tls: boolean, requireToken: boolean, tcp: boolean): Server | HttpsServer => {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => void handle(req, res, requireToken, tcp);
    return tls && options.tls
      ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest)
      : createHttpServer(onRequest);
  };

  const listenOn = (
    server: Server | HttpsServer,
    label: string,
    target: { path: string } | { host: string; port: number },
  ) =>
    new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        const why = error.code === 'EADDRINUSE' ? 'the address is in use (another agent?)' : error.message;
        reject(new Error(`Cannot listen on ${label}: ${why}`, { cause: error }));
      };
      server.once('error', onError);
      server.listen(target, () => {
        server.off('error', onError);
        resolve();
      });
    });

  const listeners: Listener[] = [];
  const socketPath = options.socketPath;
  if (socketPath !== undefined) {
    const server = makeServer(false, false, false);
    // The socket file is created with the process umask and only then narrowed to 0600: a
    // connection accepted in between would outlive the chmod, so it is cut.
    let secured = false;
    server.on('connection', (socket) => {
      if (!secured) socket.destroy();
    });
    const listener: Listener = {
      server,
      label: socketPath,
      listen: async () => {
        secured = false;
        await clearStaleSocket(socketPath);
        await listenOn(server, socketPath, { path: socketPath });
        await chmod(socketPath, 0o600);
        secured = true;
        listener.url = `unix://${socketPath}`;
      },
    };
    listeners.push(listener);
  }
  for (const address of listens) {
    const requireToken = address.requireToken === true || !isLoopbackHost(address.host);
    if (requireToken && !tokenCheck) {
      throw new ApiServerConfigError(`Cannot require a token on ${address.host}:${address.port}: no admin token given`);
    }
    const server = makeServer(options.tls !== undefined, requireToken, true);
    const label = `${formatHost(address.host)}:${address.port}`;
    const listener: Listener = {
      server,
      label,
      listen: async () => {
        await listenOn(server, label, { host: address.host, port: address.port });
        const bound = server.address();
        const port = typeof bound === 'object' && bound ? bound.port : address.port;
        listener.url = `${options.tls ? 'https' : 'http'}://${formatHost(address.host)}:${port}`;
      },
    };
    listeners.push(listener);
  }

  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  const closeAll = async () => {
    await Promise.all(
      listeners.map(
        (listener) =>
          new Promise<void>((resolve) => {
            if (!listener.server.listening) return resolve();
            listener.server.close(() => resolve());
            listener.server.closeAllConnections();
          }),
      ),
    );
    if (socketPath !== undefined && listeners[0]?.url !== undefined) {
      await unlink(socketPath).catch(() => undefined); // already gone is fine
    }
    for (const listener of listeners) listener.url = undefined;
  };

  return {
    start() {
      starting ??= (async () => {
        try {
          for (const listener of listeners) await listener.listen();
        } catch (error) {
          await closeAll();
          starting = undefined;
          throw error;
        }
        logger.info({ addresses: listeners.map((l) => l.url) }, 'admin API listening');
      })();
      return starting;
    },
    stop() {
      if (!starting) return Promise.resolve();
      stopping ??= (async () => {
        await starting?.catch(() => undefined);
        await closeAll();
        starting = undefined;
        stopping = undefined;
      })();
      return stopping;
    },
    addresses() {
      return listeners.flatMap((listener) => (listener.url ? [listener.url] : []));
    },
  };
}

/** A plain path (what the CLI sends): WHATWG URL parsing would leave it as it is. */
const PLAIN_PATH = /^\/[A-Za-z0-9\-_~/%:@!$&'()*+,;=]*$/;
const NO_QUERY = new URLSearchParams();

/**
 * The request target's path and query. A plain path is split as is (a URL object per request
 * cost 1.5% of a follower's CPU at 2,000 writes/s); anything else (dot segments, backslashes,
 * characters URL would escape, a fragment) goes through `new URL`, which normalises it.
 */
function parseTarget(target: string): { pathname: string; searchParams: URLSearchParams } {
  const q = target.indexOf('?');
  const pathname = q < 0 ? target : target.slice(0, q);
  if (PLAIN_PATH.test(pathname) && !target.includes('#')) {
    return { pathname, searchParams: q < 0 ? NO_QUERY : new URLSearchParams(target.slice(q + 1)) };
  }
  return new URL(target, 'http://admin.invalid');
}

/** The client's request id, if it sent one; a malformed one is refused, never ignored. */
function readRequestId(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !CLIENT_REQUEST_ID.test(value)) {
    throw new ApiError(
      400,
      'bad_request',
      `header ${REQUEST_ID_HEADER}: expected 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit, got ${JSON.stringify(String(value).slice(0, 80))}`,
    );
  }
  return value;
}
