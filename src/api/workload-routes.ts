/**
 * The workload routes (v1): stacks, services, their tasks and logs, and node operations, as a
 * table over a {@link WorkloadApi}. Validation here is about the request's shape; the agent
 * judges the content (a Compose file's errors come back from it as one `bad_request`).
 * @module
 */
import type { Route } from './router.js';
import type { ReadConsistency, WorkloadApi } from './types.js';
import type { Schema } from './validate.js';

/** A Compose file with its env files fits easily; a mistaken upload of something big does not. */
export const MAX_STACK_BODY_BYTES = 4 * 1024 * 1024;

/** Long enough for a stack, service or node reference; short enough to refuse a pasted file. */
const MAX_NAME = 256;
/** Compose's project-name rule, which shoal's stack names follow. */
const STACK_NAME = /^[a-z0-9][a-z0-9_-]*$/;
/** A generous bound on replicas: far above what a 100-node cluster runs, far below a typo like 1e9. */
export const MAX_REPLICAS = 100_000;
/** Docker's label key/value limits are looser; these keep one request small. */
const MAX_LABELS = 256;
const MAX_LABEL_TEXT = 4096;

const AVAILABILITIES = ['active', 'drain', 'pause'] as const;

/** `?stale=1` selects a local read; `?all=1` adds finished tasks. */
const READ_QUERY: Schema = { stale: { type: 'flag' } };
const TASKS_QUERY: Schema = { stale: { type: 'flag' }, all: { type: 'flag' } };

function consistency(query: Readonly<Record<string, unknown>>): ReadConsistency {
  return query.stale === true ? 'stale' : 'linearizable';
}

const WORKLOAD_METHODS: readonly (keyof WorkloadApi)[] = [
  'deployStack',
  'listStacks',
  'removeStack',
  'stackTasks',
  'listServices',
  'inspectService',
  'serviceTasks',
  'scaleService',
  'serviceLogs',
  'setNodeAvailability',
  'updateNodeLabels',
];

/**
 * Whether `api` implements every {@link WorkloadApi} method (an agent before the services
 * milestone does not, and then serves the cluster routes alone).
 * @example if (isWorkloadApi(api)) router.add(...workloadRoutes(api))
 */
export function isWorkloadApi(api: object): api is WorkloadApi {
  return WORKLOAD_METHODS.every((name) => typeof (api as Record<string, unknown>)[name] === 'function');
}

/**
 * The routes of the workload API.
 * @example new Router(workloadRoutes(api)).match('GET', '/v1/services/web_api/tasks')
 */
export function workloadRoutes(api: WorkloadApi): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/stacks',
      maxBodyBytes: MAX_STACK_BODY_BYTES,
      body: {
        name: { type: 'string', maxLength: 63, pattern: STACK_NAME },
        compose: { type: 'string', maxLength: MAX_STACK_BODY_BYTES },
        file: { type: 'string', maxLength: 1024 },
        env: { type: 'stringMap', optional: true },
        files: { type: 'stringMap', optional: true },
        registryAuth: { type: 'stringMap', optional: true },
      },
      handle: ({ body, signal }) =>
        api.deployStack(
          {
            name: body.name as string,
            compose: body.compose as string,
            file: body.file as string,
            env: body.env as Record<string, string> | undefined,
            files: body.files as Record<string, string> | undefined,
            ...(body.registryAuth === undefined ? {} : { registryAuth: body.registryAuth as Record<string, string> }),
          },
          { signal },
        ),
    },
    {
      method: 'GET',
      path: '/v1/stacks',
      query: READ_QUERY,
      handle: ({ query, signal }) => api.listStacks({ consistency: consistency(query), signal }),
    },
    {
      method: 'DELETE',
      path: '/v1/stacks/:name',
      // `wait=N`: answer once the stack's tasks have ended, or after N seconds with those left.
      query: { wait: { type: 'integer', optional: true, min: 0, max: 3600 } },
      handle: ({ params, query, signal }) =>
        api.removeStack(params.name!, {
          signal,
          ...(typeof query.wait === 'number' ? { waitMs: query.wait * 1000 } : {}),
        }),
    },
    {
      method: 'GET',
      path: '/v1/stacks/:name/tasks',
      query: TASKS_QUERY,
      handle: ({ params, query, signal }) =>
        api.stackTasks(params.name!, { consistency: consistency(query), all: query.all === true, signal }),
    },
    {
      method: 'GET',
      path: '/v1/services',
      query: { ...READ_QUERY, stack: { type: 'string', optional: true, maxLength: MAX_NAME } },
      handle: ({ query, signal }) =>
        api.listServices({
          consistency: consistency(query),
          ...(query.stack === undefined ? {} : { stack: query.stack as string }),
          signal,
        }),
    },
    {
      method: 'GET',
      path: '/v1/services/:id',
      query: READ_QUERY,
      handle: ({ params, query, signal }) =>
        api.inspectService(params.id!, { consistency: consistency(query), signal }),
    },
    {
      method: 'GET',
      path: '/v1/services/:id/tasks',
      query: TASKS_QUERY,
      handle: ({ params, query, signal }) =>
        api.serviceTasks(params.id!, { consistency: consistency(query), all: query.all === true, signal }),
    },
    {
      method: 'POST',
      path: '/v1/services/:id/scale',
      body: { replicas: { type: 'integer', min: 0, max: MAX_REPLICAS } },
      handle: ({ params, body, signal }) => api.scaleService(params.id!, body.replicas as number, { signal }),
    },
    {
      method: 'GET',
      path: '/v1/services/:id/logs',
      stream: true,
      query: {
        follow: { type: 'flag' },
        tail: { type: 'integer', optional: true, min: 0 },
        since: { type: 'integer', optional: true, min: 0 },
      },
      handle: async ({ params, query, signal }) => {
        // Once streaming starts the status is sent: look the service up first so an unknown one
        // is a plain 404. A local read, so logs still work when the cluster has lost its quorum.
        await api.inspectService(params.id!, { consistency: 'stale', signal });
        return api.serviceLogs(
          {
            service: params.id!,
            follow: query.follow === true,
            ...(query.tail === undefined ? {} : { tail: query.tail as number }),
            ...(query.since === undefined ? {} : { since: query.since as number }),
          },
          { signal },
        );
      },
    },
    {
      method: 'POST',
      path: '/v1/nodes/:id/availability',
      body: { availability: { type: 'string', values: AVAILABILITIES } },
      handle: ({ params, body, signal }) =>
        api.setNodeAvailability(params.id!, body.availability as (typeof AVAILABILITIES)[number], { signal }),
    },
    {
      method: 'POST',
      path: '/v1/nodes/:id/labels',
      body: {
        add: { type: 'stringMap', optional: true, maxEntries: MAX_LABELS, maxLength: MAX_LABEL_TEXT },
        remove: { type: 'stringList', optional: true, maxEntries: MAX_LABELS, maxLength: MAX_LABEL_TEXT },
      },
      handle: ({ params, body, signal }) =>
        api.updateNodeLabels(
          params.id!,
          {
            ...(body.add === undefined ? {} : { add: body.add as Record<string, string> }),
            ...(body.remove === undefined ? {} : { remove: body.remove as string[] }),
          },
          { signal },
        ),
    },
  ];
}
