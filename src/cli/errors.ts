/**
 * The CLI's exit codes and the errors that carry them. Scripts branch on the exit code, so each
 * one has a single meaning (listed by `shoal help`).
 * @module
 */
import type { ApiErrorCode } from '../api/types.js';

/** What a `shoal` exit status means. */
export const ExitCode = {
  /** The command did what it was asked. */
  ok: 0,
  /** The agent refused or failed the request (API error). */
  failed: 1,
  /** The command line is wrong: unknown command or flag, missing or extra argument. */
  usage: 2,
  /** The agent could not be reached at the address tried. */
  unreachable: 3,
  /** The thing named (a node, …) does not exist. */
  notFound: 4,
  /** The cluster has no leader or no quorum right now, or did not answer in time: retry. */
  unavailable: 5,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The command line is wrong. `usage` is the usage line to show under the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** The agent answered with an error (`{ error: { code, message } }`). */
export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Nothing answered at the address (refused, no such socket, DNS, TLS handshake failed, …). */
export class AgentUnreachableError extends Error {
  override readonly name: string = 'AgentUnreachableError';
  constructor(
    /** The address as the user would write it for `--addr`. */
    readonly address: string,
    /** Why: e.g. "connect ECONNREFUSED 127.0.0.1:7900". */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach the shoal agent at ${address}: ${reason}`, options);
  }
}

/**
 * Something answered at the address, but not as a shoal agent does (HTML, another program's
 * JSON, not HTTP at all): the address is wrong, so it counts as unreachable (exit 3), not as a
 * "not found" from the agent.
 */
export class NotShoalAgentError extends AgentUnreachableError {
  override readonly name = 'NotShoalAgentError';
  constructor(address: string, what: string) {
    super(address, `${what}, which is not how a shoal agent's admin API answers (is --addr the agent's address?)`);
  }
}

/** The agent did not answer within the timeout. */
export class AgentTimeoutError extends Error {
  override readonly name = 'AgentTimeoutError';
  constructor(
    readonly address: string,
    readonly timeoutMs: number,
    /** Whether a connection was made (then the agent is there but slow, e.g. waiting for a quorum). */
    readonly connected: boolean,
  ) {
    super(
      connected
        ? `the shoal agent at ${address} did not answer within ${timeoutMs} ms (no quorum? retry, or raise --timeout)`
        : `cannot reach the shoal agent at ${address}: no connection within ${timeoutMs} ms`,
    );
  }
}

/** The exit code for an API error code. */
export function exitCodeForApiError(code: ApiErrorCode): ExitCode {
  switch (code) {
    case 'not_found':
      return ExitCode.notFound;
    case 'unavailable':
    case 'outcome_unknown':
    case 'timeout':
      return ExitCode.unavailable;
    default:
      return ExitCode.failed;
  }
}
