/**
 * What the two ways of calling the agent share (client.ts over node:http, commands/fast-post.ts
 * over a raw socket): the reason a connection failed, and the error code of an HTTP status.
 * Kept apart from client.ts so the fast path does not load node:http.
 * @module
 */
import type { ApiErrorCode } from '../api/types.js';
import type { AgentAddress } from './address.js';

/** Why a connection to the agent failed, in words that say what to check. */
export function describeConnectError(error: NodeJS.ErrnoException, address: AgentAddress): string {
  switch (error.code) {
    case 'ENOENT':
      return address.kind === 'unix' ? `no socket at ${address.path} (is \`shoal agent\` running?)` : error.message;
    case 'ECONNREFUSED':
      return 'connection refused (is `shoal agent` running?)';
    case 'EACCES':
      return `permission denied on ${address.kind === 'unix' ? address.path : 'the address'} (run as the agent's user, e.g. with sudo)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve host ${address.kind === 'tcp' ? address.host : ''}`.trim();
    default:
      return error.message;
  }
}

/** The API error code of an HTTP status, for answers that carry no error body of their own. */
export function codeForStatus(status: number): ApiErrorCode {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 503) return 'unavailable';
  if (status === 504) return 'timeout';
  return status >= 500 ? 'internal' : 'bad_request';
}
