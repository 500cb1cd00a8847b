/**
 * The batch routes (v1): jobs, the queue, history, logs and quotas, as a table over a
 * {@link BatchApi}. Shapes are checked here; the agent judges the content (a bad `--array` comes
 * back from it as a 400 naming the flag).
 * @module
 */
import type { BatchApi, QuotaSetRequest } from './job-types.js';
import type { Route } from './router.js';
import { ApiError, type ReadConsistency } from './types.js';
import { assertParsed, type Schema } from './validate.js';

const JOB_ID = /^[1-9][0-9]{0,15}(_[0-9]{1,8})?$/;
const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const TEXT = { type: 'string', optional: true, maxLength: 256 } as const;

const SUBMIT_BODY = {
  name: TEXT,
  owner: { type: 'string', maxLength: 63 },
  namespace: { type: 'string', optional: true, maxLength: 63, pattern: NAMESPACE },
  priority: { type: 'integer', optional: true, min: 0, max: 1000 },
  runtime: { type: 'string', optional: true, values: ['docker', 'process'] },
  image: { type: 'string', optional: true, maxLength: 1024 },
  command: { type: 'stringList', maxEntries: 4096, maxLength: 65_536 },
  env: { type: 'stringMap', optional: true, maxEntries: 1024, maxLength: 65_536 },
  workingDir: { type: 'string', optional: true, maxLength: 4096 },
  cpus: { type: 'number', optional: true, min: 0, max: 1_000_000 },
  memory: TEXT,
  gpus: { type: 'integer', optional: true, min: 0, max: 1024 },
  time: TEXT,
  array: { type: 'string', optional: true, maxLength: 4096 },
  dependency: { type: 'string', optional: true, maxLength: 4096 },
  beginAt: { type: 'integer', optional: true, min: 0 },
  retries: { type: 'integer', optional: true, min: 0, max: 1000 },
  gang: { type: 'boolean', optional: true },
  requeue: { type: 'boolean', optional: true },
} as const satisfies Schema;

function consistency(query: Readonly<Record<string, unknown>>): ReadConsistency {
  return query.stale === true ? 'stale' : 'linearizable';
}

/** Whether `api` serves the batch routes. */
export function isBatchApi(api: object): api is BatchApi {
  return typeof (api as Record<string, unknown>).submitJob === 'function';
}

/** Drop absent fields (exactOptionalPropertyTypes-friendly). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function jobRoutes(api: BatchApi): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/jobs',
      maxBodyBytes: 1024 * 1024,
      body: SUBMIT_BODY,
      handle: ({ body, signal }) => {
        assertParsed(SUBMIT_BODY, body);
        return api.submitJob(body, { signal });
      },
    },
    {
      method: 'GET',
      path: '/v1/queue',
      query: { stale: { type: 'flag' }, all: { type: 'flag' }, owner: TEXT },
      handle: ({ query, signal }) =>
        api.queue(
          defined({
            consistency: consistency(query),
            all: query.all === true,
            owner: query.owner as string | undefined,
            signal,
          }),
        ),
    },
    {
      method: 'POST',
      path: '/v1/jobs/cancel',
      body: { jobIds: { type: 'stringList', maxEntries: 10_000, maxLength: 32 } },
      handle: ({ body, signal }) => {
        const ids = body.jobIds as string[];
        const bad = ids.find((id) => !JOB_ID.test(id));
        if (bad !== undefined) throw new ApiError(400, 'bad_request', `jobIds: "${bad}" is not a job id (such as 17)`);
        return api.cancelJobs(ids, { signal });
      },
    },
    {
      method: 'GET',
      path: '/v1/jobs/history',
      query: {
        stale: { type: 'flag' },
        job: { type: 'string', optional: true, pattern: JOB_ID },
        owner: TEXT,
        limit: { type: 'integer', optional: true, min: 1, max: 100_000 },
      },
      handle: ({ query, signal }) =>
        api.history(
          defined({
            consistency: consistency(query),
            jobId: query.job as string | undefined,
            owner: query.owner as string | undefined,
            limit: query.limit as number | undefined,
            signal,
          }),
        ),
    },
    {
      method: 'GET',
      path: '/v1/jobs/:id',
      query: { stale: { type: 'flag' } },
      handle: ({ params, query, signal }) => api.inspectJob(params.id!, { consistency: consistency(query), signal }),
    },
    {
      method: 'GET',
      path: '/v1/jobs/:id/logs',
      stream: true,
      query: {
        index: { type: 'integer', optional: true, min: 0 },
        follow: { type: 'flag' },
        tail: { type: 'integer', optional: true, min: 0 },
      },
      handle: async ({ params, query, signal }) => {
        await api.inspectJob(params.id!, { consistency: 'stale', signal }); // 404 before streaming starts
        return api.jobLogs(
          defined({
            jobId: params.id!,
            index: query.index as number | undefined,
            follow: query.follow === true,
            tail: query.tail as number | undefined,
          }),
          { signal },
        );
      },
    },
    {
      method: 'GET',
      path: '/v1/quotas',
      query: { stale: { type: 'flag' } },
      handle: ({ query, signal }) => api.listQuotas({ consistency: consistency(query), signal }),
    },
    {
      method: 'PUT',
      path: '/v1/quotas/:namespace',
      body: {
        cpus: { type: 'number', optional: true, min: 0 },
        memory: TEXT,
        gpus: { type: 'integer', optional: true, min: 0 },
        runningJobs: { type: 'integer', optional: true, min: 0 },
      },
      handle: ({ params, body, signal }) =>
        api.setQuota(namespaceParam(params.namespace!), defined(body) as QuotaSetRequest, { signal }),
    },
    {
      method: 'DELETE',
      path: '/v1/quotas/:namespace',
      handle: ({ params, signal }) => api.setQuota(namespaceParam(params.namespace!), null, { signal }),
    },
  ];
}

function namespaceParam(ns: string): string {
  if (!NAMESPACE.test(ns))
    throw new ApiError(400, 'bad_request', `"${ns}" is not a namespace: lowercase letters, digits and dashes`);
  return ns;
}
