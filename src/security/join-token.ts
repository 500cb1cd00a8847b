/**
 * Join tokens: `SHOAL-1-<clusterId>-<secret>`.
 *
 * The cluster id (80 random bits) names the cluster so a joiner can tell it dialled the right
 * one; the secret (160 random bits) is what a joiner proves it knows. Only a key derived from
 * the secret ({@link tokenKey}) goes into the replicated state, never the secret itself, and a
 * joiner never sends either over the wire (see `join-proof.ts`).
 * @module
 */
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { BASE32_PATTERN, base32Encode } from './base32.js';
import { GET_CURRENT_TOKEN_ADVICE, InvalidJoinTokenError } from './errors.js';

/** The fixed first part of every token. */
export const JOIN_TOKEN_PREFIX = 'SHOAL';
/** The token format version this code reads and writes. */
export const JOIN_TOKEN_VERSION = 1;
/** Cluster ids are 16 base32 characters (80 bits). */
export const CLUSTER_ID_LENGTH = 16;
/** Secrets are 32 base32 characters (160 bits, above the 128-bit floor). */
export const SECRET_LENGTH = 32;
/** Matches a well-formed cluster id. Shared with the state validator. */
export const CLUSTER_ID_PATTERN = /^[a-z2-7]{16}$/;
/** Length in bytes of a {@link tokenKey}. */
export const TOKEN_KEY_BYTES = 32;
/** Length in hex characters of a {@link fingerprint}. */
export const FINGERPRINT_HEX_LENGTH = 16;

// Domain separation: these strings make a key derived here useless for any other purpose.
const TOKEN_KEY_SALT = 'shoal/join-token-key/v1';
const FINGERPRINT_DOMAIN = 'shoal/join-token-fingerprint/v1';

/** A parsed join token. `text` is the canonical form (lowercase body). */
export interface JoinToken {
  readonly clusterId: string;
  readonly secret: string;
  readonly text: string;
}

/**
 * A fresh random cluster id (16 lowercase base32 characters).
 * @example createClusterId() // "k3v7q2m7xa4bnc5d" (random)
 */
export function createClusterId(): string {
  return base32Encode(randomBytes(10));
}

/**
 * A fresh join token for `clusterId`, with a 160-bit secret from `node:crypto`.
 * @throws {RangeError} when `clusterId` is not a well-formed cluster id.
 * @example
 * const token = createJoinToken(createClusterId());
 * token.text // "SHOAL-1-<clusterId>-<secret>"
 */
export function createJoinToken(clusterId: string): JoinToken {
  if (!CLUSTER_ID_PATTERN.test(clusterId)) {
    throw new RangeError(
      `Cannot create a join token for cluster id ${JSON.stringify(clusterId)}: expected ${CLUSTER_ID_LENGTH} characters a-z, 2-7`,
    );
  }
  const secret = base32Encode(randomBytes(20));
  return { clusterId, secret, text: formatJoinToken(clusterId, secret) };
}

/** The text form of a token. */
export function formatJoinToken(clusterId: string, secret: string): string {
  return `${JOIN_TOKEN_PREFIX}-${JOIN_TOKEN_VERSION}-${clusterId}-${secret}`;
}

/**
 * Parse a join token as a person pasted it: surrounding whitespace is ignored and the cluster
 * id and secret are case-insensitive (base32 reads the same in either case).
 * @throws {InvalidJoinTokenError} saying which part is wrong; the secret is never echoed.
 * @example parseJoinToken(' SHOAL-1-aaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n').clusterId // "aaaaaaaaaaaaaaaa"
 */
export function parseJoinToken(text: string): JoinToken {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (trimmed === '') {
    throw new InvalidJoinTokenError('empty', `join token is empty: ${GET_CURRENT_TOKEN_ADVICE}`);
  }
  const parts = trimmed.split('-');
  if (parts[0]?.toUpperCase() !== JOIN_TOKEN_PREFIX) {
    // Show only the first few characters: whatever was pasted may be a secret of another kind.
    const head = JSON.stringify(trimmed.slice(0, 6));
    throw new InvalidJoinTokenError(
      'prefix',
      `join token must start with "${JOIN_TOKEN_PREFIX}-", got one starting with ${head}: ${GET_CURRENT_TOKEN_ADVICE}`,
    );
  }
  const version = parts[1] ?? '';
  if (version !== String(JOIN_TOKEN_VERSION)) {
    const shown = /^\d{1,6}$/.test(version) ? `version ${version}` : `version ${JSON.stringify(version.slice(0, 6))}`;
    throw new InvalidJoinTokenError(
      'version',
      `join token has ${shown}, but this shoal reads version ${JOIN_TOKEN_VERSION} only: ` +
        `upgrade shoal if the cluster runs a newer one, or ${GET_CURRENT_TOKEN_ADVICE}`,
    );
  }
  if (parts.length !== 4) {
    throw new InvalidJoinTokenError(
      'shape',
      `join token must have 4 parts separated by "-" (SHOAL-1-<cluster id>-<secret>), got ${parts.length}: ` +
        `was it cut off or joined with other text? ${GET_CURRENT_TOKEN_ADVICE}`,
    );
  }
  const clusterId = parts[2]!.toLowerCase();
  if (clusterId.length !== CLUSTER_ID_LENGTH || !BASE32_PATTERN.test(clusterId)) {
    throw new InvalidJoinTokenError(
      'clusterId',
      `join token cluster id ${JSON.stringify(parts[2])} is not ${CLUSTER_ID_LENGTH} characters a-z, 2-7: ${GET_CURRENT_TOKEN_ADVICE}`,
    );
  }
  const secret = parts[3]!.toLowerCase();
  if (secret.length !== SECRET_LENGTH) {
    throw new InvalidJoinTokenError(
      'secret',
      `join token secret has ${secret.length} characters, expected ${SECRET_LENGTH}: ` +
        `was it cut off when copied? ${GET_CURRENT_TOKEN_ADVICE}`,
    );
  }
  if (!BASE32_PATTERN.test(secret)) {
    throw new InvalidJoinTokenError(
      'secret',
      `join token secret may only contain characters a-z and 2-7: ${GET_CURRENT_TOKEN_ADVICE}`,
    );
  }
  return { clusterId, secret, text: formatJoinToken(clusterId, secret) };
}

/**
 * The key derived from a token secret (HKDF-SHA256, domain-separated). The replicated state
 * stores this key (hex) and members verify join proofs with it; the secret stays with people.
 * The secret has 160 random bits, so a fast KDF is enough: there is nothing to brute-force.
 * @example tokenKey(parseJoinToken(text).secret).length // 32
 */
export function tokenKey(secret: string): Uint8Array {
  if (typeof secret !== 'string' || secret.length !== SECRET_LENGTH || !BASE32_PATTERN.test(secret)) {
    throw new RangeError(`Cannot derive a token key: the secret must be ${SECRET_LENGTH} characters a-z, 2-7`);
  }
  return new Uint8Array(hkdfSync('sha256', Buffer.from(secret, 'utf8'), TOKEN_KEY_SALT, '', TOKEN_KEY_BYTES));
}

/** {@link tokenKey} as lowercase hex, the form the replicated state stores. */
export function tokenKeyHex(secret: string): string {
  return Buffer.from(tokenKey(secret)).toString('hex');
}

/**
 * The token fields of the `cluster.init` and `token.rotate` commands for a secret.
 * @example const command = { v: 1, type: 'token.rotate', ...tokenCommandFields(token.secret), at: Date.now() };
 */
export function tokenCommandFields(secret: string): { tokenKey: string; fingerprint: string } {
  const key = tokenKey(secret);
  return { tokenKey: Buffer.from(key).toString('hex'), fingerprint: fingerprint(key) };
}

/**
 * A short hex fingerprint of a token key for display (`shoal token show`, logs): enough to tell
 * two tokens apart. A hash, not a prefix, of the key, so showing it reveals nothing of the key.
 * @example fingerprint(tokenKey(secret)) // "3f9c0a1b22d4e5f6"
 */
export function fingerprint(key: Uint8Array | string): string {
  if (typeof key === 'string' && !/^(?:[0-9a-f]{2})+$/.test(key)) {
    throw new RangeError('Cannot fingerprint a token key: expected lowercase hex');
  }
  const bytes = typeof key === 'string' ? Buffer.from(key, 'hex') : key;
  return createHash('sha256').update(FINGERPRINT_DOMAIN).update(bytes).digest('hex').slice(0, FINGERPRINT_HEX_LENGTH);
}
