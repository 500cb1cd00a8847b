/**
 * Who may call the admin API. The unix socket (mode 0600) and loopback TCP are trusted like the
 * local root account; any wider listener requires the admin token as a bearer token, compared in
 * constant time.
 * @module
 */
import { isIP } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { bearerToken, hashAdminToken } from '../security/admin-token.js';

/**
 * Whether `host` names only this machine: `localhost`, 127.0.0.0/8, `::1`, or an IPv4-mapped
 * loopback. A wildcard (`0.0.0.0`, `::`) or any other name is not loopback.
 * @example isLoopbackHost('127.0.0.1') // true
 * @example isLoopbackHost('0.0.0.0') // false
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost') return true;
  const family = isIP(bare);
  if (family === 4) return bare.startsWith('127.');
  if (family === 6) {
    const lower = bare.toLowerCase();
    if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    return mapped !== null && mapped[1]!.startsWith('127.');
  }
  return false;
}

/** Checks bearer tokens against one admin token. */
export interface TokenCheck {
  /** Whether the `Authorization` header carries the admin token. */
  accepts(authorization: string | undefined): boolean;
}

/**
 * A {@link TokenCheck} for `token` (plain) or `tokenHash` (its {@link hashAdminToken} digest, what
 * the agent keeps on disk). Both sides are hashed first so the comparison is over equal-length
 * digests and leaks neither content nor length.
 */
export function createTokenCheck(options: { readonly token?: string; readonly tokenHash?: string }): TokenCheck {
  const expectedHex = options.tokenHash ?? (options.token !== undefined ? hashAdminToken(options.token) : undefined);
  if (expectedHex === undefined || !/^[0-9a-f]{64}$/.test(expectedHex)) {
    throw new TypeError('Cannot check admin tokens without a token: give adminToken or a 64-hex-digit adminTokenHash');
  }
  const expected = Buffer.from(expectedHex, 'hex');
  return {
    accepts(authorization) {
      const presented = bearerToken(authorization);
      const digest = Buffer.from(hashAdminToken(presented ?? ''), 'hex');
      // Compare even when there is no token, so a missing header takes the same time as a wrong one.
      return timingSafeEqual(digest, expected) && presented !== undefined;
    },
  };
}
