/**
 * `GET /v1/events`: the cluster's events as newline-delimited JSON, from an index (Nomad's
 * `/v1/event/stream` resumes the same way), optionally followed. The contract is in
 * src/events/types.ts and docs/ARCHITECTURE.md ("Metrics and events").
 * @module
 */
import { EVENT_TYPES, type EventLine, type EventQuery, type EventType } from '../events/types.js';
import type { Route } from './router.js';
import { ApiError } from './types.js';

/** What the agent offers for the events route. */
export interface EventsApi {
  /** The lines of one request; ends when the window is read (or, following, when `signal` aborts). */
  events(query: EventQuery, options: { readonly signal?: AbortSignal }): AsyncIterable<EventLine>;
}

export function isEventsApi(api: object): api is EventsApi {
  return typeof (api as Record<string, unknown>).events === 'function';
}

const MAX_LIST = 64;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,255}$/;

/**
 * `?type=service,task` and `?name=web,beta`: comma-separated lists.
 * @example parseList('type', 'service,task', (v) => v) // ['service', 'task']
 */
function parseList<T extends string>(field: string, text: unknown, check: (item: string) => T): T[] | undefined {
  if (typeof text !== 'string') return undefined;
  const items = text.split(',').filter((item) => item !== '');
  if (items.length > MAX_LIST)
    throw new ApiError(400, 'bad_request', `query.${field}: expected at most ${MAX_LIST} values, got ${items.length}`);
  return items.map(check);
}

function checkType(item: string): EventType {
  const found = EVENT_TYPES.find((type) => type === item);
  if (found === undefined)
    throw new ApiError(
      400,
      'bad_request',
      `query.type: expected one of ${EVENT_TYPES.join(', ')}, got ${JSON.stringify(item)}`,
    );
  return found;
}

function checkName(item: string): string {
  if (!NAME.test(item))
    throw new ApiError(
      400,
      'bad_request',
      `query.name: expected a node, stack, service, task or job name, got ${JSON.stringify(item.slice(0, 80))}`,
    );
  return item;
}

export function eventRoutes(api: EventsApi): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/events',
      stream: true,
      query: {
        index: { type: 'integer', optional: true, min: 0 },
        since: { type: 'integer', optional: true, min: 0 },
        follow: { type: 'flag' },
        type: { type: 'string', optional: true, maxLength: 1024 },
        name: { type: 'string', optional: true, maxLength: 16_384 },
      },
      handle: async ({ query, signal }) => {
        const types = parseList('type', query.type, checkType);
        const names = parseList('name', query.name, checkName);
        const request: EventQuery = {
          follow: query.follow === true,
          ...(query.index !== undefined ? { index: query.index as number } : {}),
          ...(query.since !== undefined ? { since: query.since as number } : {}),
          ...(types !== undefined ? { types } : {}),
          ...(names !== undefined ? { names } : {}),
        };
        return api.events(request, { signal });
      },
    },
  ];
}
