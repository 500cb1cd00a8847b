/**
 * What the two ways of calling the agent share (client.ts over node:http, commands/fast-post.ts
 * over a raw socket): the reason a connection failed, and the error code of an HTTP status.
 * Kept apart from client.ts so the fast path does not load node:http.
 * @module
 */
import type { ApiErrorCode } from '../api/types.js';
import type { AgentAddress } from './address.js';
import { NotShoalAgentError } from './errors.js';

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

/**
 * The body of an answer from the admin API, parsed; throws {@link NotShoalAgentError} when the
 * answer cannot be from a shoal agent: text that is not JSON, or an error status without the
 * agent's `{ "error": { "code", "message" } }` body (docker's socket answers 404 with JSON of its own).
 * @example parseAgentAnswer(404, '{"error":{"code":"not_found","message":"No node x"}}', 'unix:///s.sock')
 */
export function parseAgentAnswer(status: number, text: string, where: string): unknown {
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? undefined : JSON.parse(text);
  } catch {
    throw new NotShoalAgentError(where, `it answered HTTP ${status} with something that is not JSON`);
  }
  if (status >= 300) {
    const error = (parsed as { error?: { message?: unknown } } | null | undefined)?.error;
    if (typeof error?.message !== 'string')
      throw new NotShoalAgentError(where, `it answered HTTP ${status} without a shoal error body`);
  }
  return parsed;
}

function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
}

/**
 * What to say when the agent refused a request as too large (HTTP 413, whose own message is
 * "body: larger than the limit of N bytes"): what was too large, the limit in MB, and what to do.
 * @example tooLargeMessage('body: larger than the limit of 4194304 bytes', { what: 'the Compose file compose.yml with its env files', size: 5_000_000 })
 * // 'the Compose file compose.yml with its env files is too large to send: 4.8 MB, and the agent accepts at most 4 MB; …'
 */
export function tooLargeMessage(agentMessage: string, options: { what?: string; size?: number } = {}): string {
  const limit = /(\d+) bytes/.exec(agentMessage);
  const what = options.what ?? 'the request';
  const size = options.size === undefined ? '' : `: ${megabytes(options.size)}`;
  const most = limit ? `, and the agent accepts at most ${megabytes(Number(limit[1]))}` : '';
  return (
    `${what} is too large to send${size}${most}; ` +
    'keep large data out of it (bind-mount files or use a volume instead of inlining them in the request)'
  );
}
