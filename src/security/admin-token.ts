/**
 * The admin API bearer token, required when the admin API listens beyond the unix socket or
 * loopback. The agent keeps only {@link hashAdminToken}'s digest on disk; the CLI keeps the
 * token. Comparison is constant-time over fixed-length digests, so neither the content nor the
 * length of the expected token leaks through timing.
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { base32Encode } from './base32.js';

/** Every admin token starts with this, so a leaked one is recognisable (and grep-able in logs). */
export const ADMIN_TOKEN_PREFIX = 'shoal-admin-';
const ADMIN_TOKEN_PATTERN = /^shoal-admin-[a-z2-7]{52}$/;
const HASH_DOMAIN = 'shoal/admin-token/v1';

/**
 * A fresh admin token: the prefix and 256 random bits in base32.
 * @example createAdminToken() // "shoal-admin-…" (64 characters)
 */
export function createAdminToken(): string {
  return ADMIN_TOKEN_PREFIX + base32Encode(randomBytes(32));
}

/** Whether `text` has the shape of an admin token (it says nothing about whether it is valid). */
export function isAdminTokenShape(text: string): boolean {
  return typeof text === 'string' && ADMIN_TOKEN_PATTERN.test(text);
}

/** The digest to store instead of the token (hex SHA-256, domain-separated). */
export function hashAdminToken(token: string): string {
  return createHash('sha256').update(HASH_DOMAIN).update('\0').update(token, 'utf8').digest('hex');
}

/**
 * Whether `presented` is the admin token whose digest is `expectedHash`, compared in constant
 * time. An absent or malformed token is simply refused.
 * @example verifyAdminToken(bearerToken(req.headers.authorization), config.adminTokenHash)
 */
export function verifyAdminToken(presented: string | undefined | null, expectedHash: string): boolean {
  if (typeof presented !== 'string' || !/^[0-9a-f]{64}$/.test(expectedHash)) return false;
  const a = Buffer.from(hashAdminToken(presented), 'hex');
  const b = Buffer.from(expectedHash, 'hex');
  // Compare first and check the shape after, so a malformed token takes the same time.
  return timingSafeEqual(a, b) && isAdminTokenShape(presented);
}

/**
 * The token of an `Authorization: Bearer <token>` header, or undefined when there is none.
 * @example bearerToken('Bearer shoal-admin-abc') // "shoal-admin-abc"
 */
export function bearerToken(header: string | undefined | null): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}
