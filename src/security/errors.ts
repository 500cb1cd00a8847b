/** Errors of the security domain: join tokens, join proofs, admin tokens. */

/** Advice appended to every join-token error: the one thing a person can do about it. */
export const GET_CURRENT_TOKEN_ADVICE = 'get a current token with `shoal token show` on any member';

/**
 * A join token could not be parsed. The message says which part is wrong and never echoes the
 * secret (error messages end up in logs and terminal scrollback).
 */
export class InvalidJoinTokenError extends Error {
  override readonly name = 'InvalidJoinTokenError';
  /** Which part of the token was wrong. */
  readonly part: 'empty' | 'prefix' | 'version' | 'shape' | 'clusterId' | 'secret';

  constructor(part: InvalidJoinTokenError['part'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.part = part;
  }
}
