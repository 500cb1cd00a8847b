/**
 * The join challenge–response. A member sends a fresh random nonce; the joiner answers
 *
 *     HMAC-SHA256(tokenKey, "shoal-join-v1" | clusterId | nonce | joinerPeerId | memberPeerId)
 *
 * and the member recomputes it with the token key of its replicated state. Neither the secret
 * nor the key crosses the wire. The proof binds the nonce (a recorded proof is useless for the
 * next challenge), both peer ids (a proof relayed to another member, or claimed by another
 * joiner, fails: peer ids are authenticated by the noise handshake) and the cluster id.
 *
 * Each field is length-prefixed rather than joined with a separator, so no choice of ids can
 * make two different inputs produce the same MAC input.
 *
 * Replay protection rests on the member: it must use a fresh nonce per attempt
 * ({@link createJoinNonce}) and forget it after one verification.
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { GET_CURRENT_TOKEN_ADVICE } from './errors.js';
import { TOKEN_KEY_BYTES } from './join-token.js';

/** Domain-separation label of the proof's MAC input. */
export const JOIN_PROOF_DOMAIN = 'shoal-join-v1';
/** Bytes of nonce a member sends. */
export const JOIN_NONCE_BYTES = 32;
/** Bytes of a proof (HMAC-SHA256). */
export const JOIN_PROOF_BYTES = 32;

/** What both sides put into a proof. `tokenKey` is raw bytes or the hex form the state stores. */
export interface JoinProofInput {
  readonly tokenKey: Uint8Array | string;
  readonly clusterId: string;
  readonly nonce: Uint8Array;
  readonly joinerPeerId: string;
  readonly memberPeerId: string;
}

/** Why a proof was refused. `mismatch` covers a wrong or rotated token, another nonce, other peer ids. */
export type JoinProofRefusal = 'malformedNonce' | 'malformedProof' | 'mismatch';

export type JoinProofVerdict =
  { readonly ok: true } | { readonly ok: false; readonly reason: JoinProofRefusal; readonly message: string };

/** A fresh challenge nonce from `node:crypto`. */
export function createJoinNonce(): Uint8Array {
  return new Uint8Array(randomBytes(JOIN_NONCE_BYTES));
}

/**
 * The joiner's answer to a challenge.
 * @throws {RangeError} on a key or nonce of the wrong size (a programming error, not bad input).
 * @example
 * const proof = computeJoinProof({ tokenKey: tokenKey(token.secret), clusterId: token.clusterId, nonce, joinerPeerId, memberPeerId });
 */
export function computeJoinProof(input: JoinProofInput): Uint8Array {
  const key = keyBytes(input.tokenKey);
  if (input.nonce.length !== JOIN_NONCE_BYTES) {
    throw new RangeError(
      `Cannot compute a join proof: the nonce has ${input.nonce.length} bytes, expected ${JOIN_NONCE_BYTES}`,
    );
  }
  const mac = createHmac('sha256', key);
  for (const field of [
    Buffer.from(JOIN_PROOF_DOMAIN, 'utf8'),
    Buffer.from(input.clusterId, 'utf8'),
    input.nonce,
    Buffer.from(input.joinerPeerId, 'utf8'),
    Buffer.from(input.memberPeerId, 'utf8'),
  ]) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(field.length);
    mac.update(length).update(field);
  }
  return new Uint8Array(mac.digest());
}

/**
 * The member's check of a joiner's proof against the state's *current* token key, in constant
 * time. A proof made with a rotated token, for another nonce or for other peer ids is refused.
 * Never throws on what the joiner sent.
 * @example
 * const verdict = verifyJoinProof({ tokenKey: state.tokenKey()!.key, clusterId, nonce, joinerPeerId, memberPeerId, proof });
 * if (!verdict.ok) refuse(verdict.message);
 */
export function verifyJoinProof(input: JoinProofInput & { readonly proof: Uint8Array }): JoinProofVerdict {
  if (!(input.nonce instanceof Uint8Array) || input.nonce.length !== JOIN_NONCE_BYTES) {
    return { ok: false, reason: 'malformedNonce', message: `join challenge nonce must be ${JOIN_NONCE_BYTES} bytes` };
  }
  if (!(input.proof instanceof Uint8Array) || input.proof.length !== JOIN_PROOF_BYTES) {
    return {
      ok: false,
      reason: 'malformedProof',
      message: `join proof must be ${JOIN_PROOF_BYTES} bytes: is the joiner running a compatible shoal version?`,
    };
  }
  const expected = computeJoinProof(input);
  if (!timingSafeEqual(expected, input.proof)) {
    return {
      ok: false,
      reason: 'mismatch',
      message: `join proof does not match this cluster's current token (wrong token, or it was rotated): ${GET_CURRENT_TOKEN_ADVICE}`,
    };
  }
  return { ok: true };
}

function keyBytes(key: Uint8Array | string): Uint8Array {
  const bytes = typeof key === 'string' ? (/^[0-9a-f]*$/.test(key) ? Buffer.from(key, 'hex') : Buffer.alloc(0)) : key;
  if (bytes.length !== TOKEN_KEY_BYTES) {
    throw new RangeError(
      `Cannot use a token key of ${bytes.length} bytes: expected ${TOKEN_KEY_BYTES} (see tokenKey())`,
    );
  }
  return bytes;
}
