/**
 * The rollout routes (v1, issue 15): a service's version history, rollback, canary promotion,
 * and `service update` (a new version from the current spec with another image, environment
 * changes, or `force`).
 * @module
 */
import type { Route } from './router.js';
import type { ReadOptions, ServiceView, WriteOptions } from './types.js';

/** One version of a service, as `shoal service history` shows it. */
export interface ServiceVersionView {
  readonly version: number;
  readonly image: string;
  readonly createdAt: number;
  /** Its rollout completed: every task was healthy. */
  readonly stable: boolean;
  /** The version this one rolled back to, when it is a rollback. */
  readonly rollbackOf: number | null;
  /** `service update --force` count: same spec, new tasks. */
  readonly force: number;
  readonly current: boolean;
}

export interface ServiceHistoryView {
  readonly service: string;
  readonly version: number;
  /** Oldest first. */
  readonly versions: readonly ServiceVersionView[];
}

/** `POST /v1/services/:id/update`. */
export interface ServiceUpdateRequest {
  readonly image?: string;
  /** `KEY=VALUE` entries set (or replaced). */
  readonly envAdd?: Readonly<Record<string, string>>;
  /** Keys removed. */
  readonly envRm?: readonly string[];
  /** A new version even when nothing else changed: every task is replaced. */
  readonly force?: boolean;
}

export interface RolloutApi {
  serviceHistory(idOrName: string, options?: ReadOptions): Promise<ServiceHistoryView>;
  rollbackService(idOrName: string, request: { readonly to?: number }, options?: WriteOptions): Promise<ServiceView>;
  promoteService(idOrName: string, options?: WriteOptions): Promise<ServiceView>;
  updateService(idOrName: string, request: ServiceUpdateRequest, options?: WriteOptions): Promise<ServiceView>;
}

const METHODS: readonly (keyof RolloutApi)[] = ['serviceHistory', 'rollbackService', 'promoteService', 'updateService'];

/** Whether `api` serves rollouts. */
export function isRolloutApi(api: object): api is RolloutApi {
  return METHODS.every((name) => typeof (api as Record<string, unknown>)[name] === 'function');
}

const MAX_ENV = 256;
const MAX_ENV_TEXT = 32 * 1024;

/**
 * The routes of the rollout API.
 * @example new Router(rolloutRoutes(api)).match('POST', '/v1/services/web_api/rollback')
 */
export function rolloutRoutes(api: RolloutApi): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/services/:id/history',
      query: { stale: { type: 'flag' } },
      handle: ({ params, query, signal }) =>
        api.serviceHistory(params.id!, { consistency: query.stale === true ? 'stale' : 'linearizable', signal }),
    },
    {
      method: 'POST',
      path: '/v1/services/:id/rollback',
      body: { to: { type: 'integer', optional: true, min: 1 } },
      handle: ({ params, body, signal }) =>
        api.rollbackService(params.id!, body.to === undefined ? {} : { to: body.to as number }, { signal }),
    },
    {
      method: 'POST',
      path: '/v1/services/:id/promote',
      handle: ({ params, signal }) => api.promoteService(params.id!, { signal }),
    },
    {
      method: 'POST',
      path: '/v1/services/:id/update',
      body: {
        image: { type: 'string', optional: true, maxLength: 1024 },
        envAdd: { type: 'stringMap', optional: true, maxEntries: MAX_ENV, maxLength: MAX_ENV_TEXT },
        envRm: { type: 'stringList', optional: true, maxEntries: MAX_ENV, maxLength: 1024 },
        force: { type: 'boolean', optional: true },
      },
      handle: ({ params, body, signal }) =>
        api.updateService(
          params.id!,
          {
            ...(body.image === undefined ? {} : { image: body.image as string }),
            ...(body.envAdd === undefined ? {} : { envAdd: body.envAdd as Record<string, string> }),
            ...(body.envRm === undefined ? {} : { envRm: body.envRm as string[] }),
            ...(body.force === undefined ? {} : { force: body.force as boolean }),
          },
          { signal },
        ),
    },
  ];
}
