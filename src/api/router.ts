/**
 * A table-driven router: a route is a method, a path pattern with `:name` segments, the schemas
 * of its query and body, and a handler. Later milestones add stacks, services and jobs by adding
 * rows, not branches.
 * @module
 */
import type { Schema } from './validate.js';

/** HTTP methods the admin API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a handler receives: validated, typed by the route's schemas. */
export interface RouteRequest {
  /** Path parameters, URL-decoded (`/v1/nodes/:id` → `{ id }`). */
  readonly params: Readonly<Record<string, string>>;
  /** The query, validated by the route's `query` schema (flags default to false). */
  readonly query: Readonly<Record<string, unknown>>;
  /** The JSON body, validated by the route's `body` schema (`{}` when the route takes none). */
  readonly body: Readonly<Record<string, unknown>>;
  /** Aborted when the client goes away before the answer is sent. */
  readonly signal: AbortSignal;
}

/** One row of the routing table. */
export interface Route {
  readonly method: HttpMethod;
  /** e.g. `/v1/nodes/:id`. */
  readonly path: string;
  readonly query?: Schema;
  /** When absent the route takes no body: a non-empty one is refused. */
  readonly body?: Schema;
  /** HTTP status of a successful answer (default 200). */
  readonly status?: number;
  /** Largest accepted body (default `MAX_BODY_BYTES`, 1 MiB); a Compose file may need more. */
  readonly maxBodyBytes?: number;
  /**
   * When true, `handle` resolves to an `AsyncIterable` whose items are sent as newline-delimited
   * JSON as they come (`application/x-ndjson`, chunked) until it ends or the client goes away.
   */
  readonly stream?: boolean;
  /** When set, `handle` resolves to a string sent as is with this content type (`/metrics`). */
  readonly contentType?: string;
  /** Returns the JSON to send back (or, for a `stream` route, the iterable of JSON lines). */
  handle(request: RouteRequest): Promise<unknown>;
}

/** The outcome of {@link Router.match}. */
export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route; readonly params: Record<string, string> }
  /** The path exists, but not with this method. */
  | { readonly kind: 'method'; readonly allowed: readonly HttpMethod[] }
  | { readonly kind: 'none' };

interface CompiledRoute {
  readonly route: Route;
  readonly segments: readonly string[];
  /** Positions of the `:name` segments, and their names. */
  readonly params: readonly (readonly [at: number, name: string])[];
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment.length > 0);
}

/** Matches paths to routes. */
export class Router {
  readonly #routes: CompiledRoute[] = [];
  /** The routes by their number of segments (in the order added): a request is compared only with those. */
  readonly #byLength = new Map<number, CompiledRoute[]>();

  constructor(routes: Iterable<Route> = []) {
    for (const route of routes) this.add(route);
  }

  /** Add a route; a second route with the same method and pattern is a programming error. */
  add(route: Route): void {
    const segments = splitPath(route.path);
    const shape = (s: readonly string[]) => s.map((x) => (x.startsWith(':') ? ':' : x)).join('/');
    for (const existing of this.#routes) {
      if (existing.route.method === route.method && shape(existing.segments) === shape(segments)) {
        throw new TypeError(
          `Cannot add route ${route.method} ${route.path}: ${existing.route.path} already matches it`,
        );
      }
    }
    const params = segments.flatMap((s, at) => (s.startsWith(':') ? [[at, s.slice(1)] as const] : []));
    const compiled: CompiledRoute = { route, segments, params };
    this.#routes.push(compiled);
    const sameLength = this.#byLength.get(segments.length) ?? [];
    sameLength.push(compiled);
    this.#byLength.set(segments.length, sameLength);
  }

  /**
   * Find the route for `method` and `pathname` (already stripped of its query).
   * @example router.match('DELETE', '/v1/nodes/12D3KooW') // { kind: 'found', params: { id: '12D3KooW' }, … }
   */
  match(method: string, pathname: string): RouteMatch {
    const parts = splitPath(pathname);
    const allowed: HttpMethod[] = [];
    for (const compiled of this.#byLength.get(parts.length) ?? []) {
      const params = matchSegments(compiled, parts);
      if (!params) continue;
      if (compiled.route.method === method) return { kind: 'found', route: compiled.route, params };
      allowed.push(compiled.route.method);
    }
    return allowed.length > 0 ? { kind: 'method', allowed } : { kind: 'none' };
  }
}

/** The literal segments are compared first, so a path that does not match costs no decoding. */
function matchSegments(compiled: CompiledRoute, parts: readonly string[]): Record<string, string> | undefined {
  const { segments } = compiled;
  for (let i = 0; i < segments.length; i++) {
    const expected = segments[i]!;
    if (expected !== parts[i] && !expected.startsWith(':')) return undefined;
  }
  const params: Record<string, string> = {};
  for (const [at, name] of compiled.params) {
    try {
      params[name] = decodeURIComponent(parts[at]!);
    } catch {
      return undefined; // a malformed escape is not a match; the caller answers 404
    }
  }
  return params;
}
