/**
 * The secret and config routes (v1), as a table over a {@link SecretApi}:
 * `/v1/secrets[/:name]` and `/v1/configs[/:name]`. The agent judges names and sizes; a value is
 * never echoed in an error (validate.ts describes long strings by their length only, and the
 * `data` field has no pattern whose failure would print it).
 * @module
 */
import type { Route } from './router.js';
import type { FileObjectKind, SecretApi } from './secret-types.js';
import type { ReadConsistency } from './types.js';
import type { Schema } from './validate.js';

/** Base64 of at most 500 KB, with room for padding. */
const MAX_DATA_CHARS = 700_000;

const CREATE_BODY: Schema = {
  name: { type: 'string', maxLength: 256 },
  data: { type: 'string', maxLength: MAX_DATA_CHARS },
};
const READ_QUERY: Schema = { stale: { type: 'flag' } };

function consistency(query: Readonly<Record<string, unknown>>): ReadConsistency {
  return query.stale === true ? 'stale' : 'linearizable';
}

/** Whether `api` serves the secret routes. */
export function isSecretApi(api: object): api is SecretApi {
  return typeof (api as Record<string, unknown>).createFileObject === 'function';
}

function routesOf(api: SecretApi, kind: FileObjectKind): Route[] {
  const base = `/v1/${kind}s`;
  return [
    {
      method: 'POST',
      path: base,
      body: CREATE_BODY,
      status: 201,
      handle: ({ body, signal }) =>
        api.createFileObject(kind, { name: body.name as string, data: body.data as string }, { signal }),
    },
    {
      method: 'GET',
      path: base,
      query: READ_QUERY,
      handle: ({ query, signal }) => api.listFileObjects(kind, { consistency: consistency(query), signal }),
    },
    {
      method: 'GET',
      path: `${base}/:name`,
      query: READ_QUERY,
      handle: ({ params, query, signal }) =>
        api.inspectFileObject(kind, params.name!, { consistency: consistency(query), signal }),
    },
    {
      method: 'DELETE',
      path: `${base}/:name`,
      handle: ({ params, signal }) => api.removeFileObject(kind, params.name!, { signal }),
    },
  ];
}

/** The routes of secrets and configs. */
export function secretRoutes(api: SecretApi): Route[] {
  return [...routesOf(api, 'secret'), ...routesOf(api, 'config')];
}
