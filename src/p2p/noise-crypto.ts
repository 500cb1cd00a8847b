/**
 * Noise's crypto with the ChaCha20-Poly1305 session key imported once instead of per message.
 *
 * @chainsafe/libp2p-noise's Node crypto seals messages of 1200 bytes and more with
 * `createCipheriv('chacha20-poly1305', rawKey, ...)`: OpenSSL imports the raw 32-byte key again
 * for every message, which costs more than encrypting a few kilobytes. Here the key becomes a
 * `KeyObject` once per key and every message reuses it. Smaller messages keep the library's
 * WebAssembly implementation, as the default does (faster there than any Node cipher); everything
 * else (hashes, HKDF, X25519) is the default's. Same AEAD, nonce and associated data, so the bytes
 * on the wire are identical and a host with this crypto talks to one without. Private to the p2p layer.
 */
import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto';
import type { ICryptoInterface } from '@chainsafe/libp2p-noise';
import { Uint8ArrayList } from 'uint8arraylist';

/** A message or ciphertext as Noise hands it over: one array or a list of them. */
type NoiseBytes = Parameters<ICryptoInterface['chaCha20Poly1305Encrypt']>[0];

const CHACHA20_POLY1305 = 'chacha20-poly1305';
const TAG_BYTES = 16;

/**
 * Messages from this size on go through Node's cipher, smaller ones through the default's (the
 * library's own split: its WebAssembly ChaCha20-Poly1305 wins below it).
 */
export const NODE_CIPHER_FROM_BYTES = 1200;

interface CachedKey {
  /** A copy of the key bytes: a hit is checked against it, so a reused array cannot yield a stale key. */
  readonly bytes: Uint8Array;
  readonly keyObject: KeyObject;
}

/**
 * `KeyObject`s by key array. Noise passes its CipherState's own `k` array with every message, so
 * the array's identity finds the key; a WeakMap drops the entry when the session (and its array)
 * is collected, so closed connections leave nothing behind.
 */
const keyObjects = new WeakMap<Uint8Array, CachedKey>();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The `KeyObject` of `k`, imported on first use (and again if the array's contents changed). */
export function sessionKeyObject(k: Uint8Array): KeyObject {
  const cached = keyObjects.get(k);
  if (cached !== undefined && sameBytes(cached.bytes, k)) return cached.keyObject;
  const bytes = Uint8Array.from(k);
  const keyObject = createSecretKey(bytes);
  keyObjects.set(k, { bytes, keyObject });
  return keyObject;
}

/**
 * Seal like the library's Node crypto (ciphertext then the 16-byte tag), with the cached key. The
 * result is a list (ciphertext, tag): Noise appends it to what it sends, so joining them here
 * would only copy every byte once more.
 */
function sealWithNode(plaintext: NoiseBytes, nonce: Uint8Array, ad: Uint8Array, k: Uint8Array): Uint8ArrayList {
  const cipher = createCipheriv(CHACHA20_POLY1305, sessionKeyObject(k), nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(ad, { plaintextLength: plaintext.byteLength });
  const sealed = new Uint8ArrayList();
  if (plaintext instanceof Uint8Array) sealed.append(cipher.update(plaintext));
  else for (const chunk of plaintext) sealed.append(cipher.update(chunk));
  const last = cipher.final(); // empty for a stream cipher, kept for the contract
  if (last.byteLength > 0) sealed.append(last);
  sealed.append(cipher.getAuthTag());
  return sealed;
}

/**
 * Open like the library's Node crypto: throws on a bad tag, with OpenSSL's message. A ciphertext
 * that arrived in pieces (a message split across socket reads) is opened piece by piece, and the
 * plaintext returned as a list of the pieces, not joined.
 */
function openWithNode(
  ciphertext: NoiseBytes,
  nonce: Uint8Array,
  ad: Uint8Array,
  k: Uint8Array,
): Uint8Array | Uint8ArrayList {
  const decipher = createDecipheriv(CHACHA20_POLY1305, sessionKeyObject(k), nonce, { authTagLength: TAG_BYTES });
  const textBytes = ciphertext.byteLength - TAG_BYTES;
  decipher.setAAD(ad, { plaintextLength: textBytes });
  decipher.setAuthTag(ciphertext.subarray(textBytes));
  if (ciphertext instanceof Uint8Array) {
    const opened = decipher.update(ciphertext.subarray(0, textBytes));
    const last = decipher.final();
    return last.byteLength === 0 ? opened : Buffer.concat([opened, last]);
  }
  const opened = new Uint8ArrayList();
  for (const chunk of ciphertext.sublist(0, textBytes)) opened.append(decipher.update(chunk));
  const last = decipher.final();
  if (last.byteLength > 0) opened.append(last);
  return opened;
}

/**
 * The Noise crypto for `noise({ crypto })`: the default's, with large messages sealed and opened
 * under a cached `KeyObject`. Stateless apart from the key cache, so one instance serves every host.
 *
 * @example
 * createLibp2p({ connectionEncrypters: [noise({ crypto: cachedKeyNoiseCrypto })], ... });
 */
export const cachedKeyNoiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt(plaintext, nonce, ad, k) {
    if (plaintext.byteLength < NODE_CIPHER_FROM_BYTES) {
      return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k);
    }
    return sealWithNode(plaintext, nonce, ad, k);
  },
  chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst) {
    if (ciphertext.byteLength < NODE_CIPHER_FROM_BYTES) {
      return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst);
    }
    return openWithNode(ciphertext, nonce, ad, k);
  },
};
