/** Join tokens, the join challenge–response, and admin API tokens. */
export { GET_CURRENT_TOKEN_ADVICE, InvalidJoinTokenError } from './errors.js';
export {
  CLUSTER_ID_LENGTH,
  CLUSTER_ID_PATTERN,
  FINGERPRINT_HEX_LENGTH,
  JOIN_TOKEN_PREFIX,
  JOIN_TOKEN_VERSION,
  SECRET_LENGTH,
  TOKEN_KEY_BYTES,
  createClusterId,
  createJoinToken,
  fingerprint,
  formatJoinToken,
  parseJoinToken,
  tokenCommandFields,
  tokenKey,
  tokenKeyHex,
  type JoinToken,
} from './join-token.js';
export {
  JOIN_NONCE_BYTES,
  JOIN_PROOF_BYTES,
  JOIN_PROOF_DOMAIN,
  computeJoinProof,
  createJoinNonce,
  verifyJoinProof,
  type JoinProofInput,
  type JoinProofRefusal,
  type JoinProofVerdict,
} from './join-proof.js';
export {
  ADMIN_TOKEN_PREFIX,
  bearerToken,
  createAdminToken,
  hashAdminToken,
  isAdminTokenShape,
  verifyAdminToken,
} from './admin-token.js';
export {
  DATA_KEY_BYTES,
  SecretSealError,
  configDigest,
  createDataKey,
  dataKeyId,
  openSecret,
  sealSecret,
  secretDigest,
} from './data-key.js';
