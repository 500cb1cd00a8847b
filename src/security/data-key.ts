/**
 * The cluster data key: 32 random bytes every Raft member keeps in its data dir, with which
 * secret values are sealed (AES-256-GCM) before they enter the Raft log. The state records only
 * the key's id ({@link dataKeyId}), so a peer can tell whether the key it holds is the cluster's.
 * A sealed value is bound to its secret's name (the additional data), so one secret's ciphertext
 * cannot be passed off as another's.
 * @module
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

/** Length of a data key in bytes. */
export const DATA_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
// Domain separation: a value derived here is useless for any other purpose.
const KEY_ID_DOMAIN = 'shoal/data-key-id/v1';
const SEAL_DOMAIN = 'shoal/secret-seal/v1';
const DIGEST_DOMAIN = 'shoal/secret-digest/v1';

/** A sealed value could not be opened: another key, another name, or damaged bytes. */
export class SecretSealError extends Error {
  override readonly name = 'SecretSealError';
}

/**
 * A fresh data key.
 * @example const key = createDataKey(); key.length // 32
 */
export function createDataKey(): Uint8Array {
  return new Uint8Array(randomBytes(DATA_KEY_BYTES));
}

/**
 * The key's public id: 32 hex digits of an HMAC under the key, so the id reveals nothing of it.
 * @example dataKeyId(key) // "3f9c…" (32 hex digits)
 */
export function dataKeyId(key: Uint8Array): string {
  checkKey(key);
  return createHmac('sha256', key).update(KEY_ID_DOMAIN).digest('hex').slice(0, 32);
}

/**
 * Seal `value` of secret `name`: base64 of nonce, ciphertext and tag.
 * @example const data = sealSecret(key, 'db_password', Buffer.from('hunter2'));
 */
export function sealSecret(key: Uint8Array, name: string, value: Uint8Array): string {
  checkKey(key);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(`${SEAL_DOMAIN}\0${name}`));
  const body = Buffer.concat([cipher.update(value), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
}

/**
 * Open what {@link sealSecret} sealed for `name`.
 * @throws {SecretSealError} when the key or the name is not the one it was sealed with, or the bytes are damaged.
 */
export function openSecret(key: Uint8Array, name: string, data: string): Buffer {
  checkKey(key);
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length < NONCE_BYTES + TAG_BYTES)
    throw new SecretSealError(`Cannot open secret ${name}: the sealed value is too short`);
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, NONCE_BYTES));
  decipher.setAAD(Buffer.from(`${SEAL_DOMAIN}\0${name}`));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
  } catch (error) {
    throw new SecretSealError(`Cannot open secret ${name}: sealed with another data key, or damaged`, { cause: error });
  }
}

/**
 * What tells a redeployed secret's value from a changed one without the plaintext: an HMAC under
 * the data key (a plain hash of a short password could be guessed from the log).
 */
export function secretDigest(key: Uint8Array, name: string, value: Uint8Array): string {
  checkKey(key);
  return createHmac('sha256', key).update(`${DIGEST_DOMAIN}\0${name}\0`).update(value).digest('hex');
}

/** A config's digest: SHA-256 of its content (configs are not secret). */
export function configDigest(value: Uint8Array): string {
  return createHash('sha256').update(value).digest('hex');
}

function checkKey(key: Uint8Array): void {
  if (key.length !== DATA_KEY_BYTES)
    throw new RangeError(`Cannot use a data key of ${key.length} bytes: expected ${DATA_KEY_BYTES}`);
}
