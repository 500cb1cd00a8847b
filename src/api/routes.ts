/**
 * The admin API's routes (v1), as a table over a {@link ClusterApi}. Every path is versioned so
 * an incompatible change gets a `/v2` next to it instead of breaking scripts.
 * @module
 */
import type { Route } from './router.js';
import type { ClusterApi, ReadConsistency } from './types.js';
import type { Schema } from './validate.js';

/** `?stale=1` selects a local read instead of a linearizable one. */
const READ_QUERY: Schema = { stale: { type: 'flag' } };

function consistency(query: Readonly<Record<string, unknown>>): ReadConsistency {
  return query.stale === true ? 'stale' : 'linearizable';
}

/** Long enough for any peer id or multiaddr; short enough that a typo'd paste of a file is refused early. */
const MAX_ID = 256;
const MAX_ADDRESS = 1024;

/**
 * The routes of the cluster admin API.
 * @example new Router(clusterRoutes(api)).match('GET', '/v1/status')
 */
export function clusterRoutes(api: ClusterApi): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/status',
      query: READ_QUERY,
      handle: ({ query, signal }) => api.status({ consistency: consistency(query), signal }),
    },
    {
      method: 'GET',
      path: '/v1/nodes',
      query: READ_QUERY,
      handle: ({ query, signal }) => api.listNodes({ consistency: consistency(query), signal }),
    },
    {
      method: 'DELETE',
      path: '/v1/nodes/:id',
      query: { force: { type: 'flag' } },
      handle: async ({ params, query, signal }) => {
        const id = params.id!;
        await api.removeNode(id, { force: query.force === true, signal });
        return { removed: id };
      },
    },
    {
      method: 'POST',
      path: '/v1/init',
      body: { clusterName: { type: 'string', optional: true, maxLength: 63, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ } },
      status: 201,
      handle: ({ body, signal }) => api.init({ clusterName: body.clusterName as string | undefined }, { signal }),
    },
    {
      method: 'POST',
      path: '/v1/join',
      body: {
        address: { type: 'string', maxLength: MAX_ADDRESS, pattern: /^\/.*\/p2p\/[^/]+$/ },
        token: { type: 'string', maxLength: MAX_ADDRESS },
      },
      handle: ({ body, signal }) =>
        api.join({ address: body.address as string, token: body.token as string }, { signal }),
    },
    {
      method: 'GET',
      path: '/v1/discovered',
      query: READ_QUERY,
      handle: ({ query, signal }) => api.discover({ consistency: consistency(query), signal }),
    },
    {
      method: 'GET',
      path: '/v1/token',
      query: READ_QUERY,
      handle: ({ query, signal }) => api.showToken({ consistency: consistency(query), signal }),
    },
    {
      method: 'POST',
      path: '/v1/token/rotate',
      body: {},
      handle: ({ signal }) => api.rotateToken({ signal }),
    },
    {
      method: 'POST',
      path: '/v1/leader/transfer',
      body: { to: { type: 'string', optional: true, maxLength: MAX_ID } },
      handle: ({ body, signal }) => api.transferLeader(body.to as string | undefined, { signal }),
    },
  ];
}
