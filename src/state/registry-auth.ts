/**
 * Registry credentials of a service (`stack deploy --with-registry-auth`, issue 15), as the
 * replicated state keeps them: sealed by the proposer with the cluster data key, as secrets are
 * (`src/security/data-key.ts`), so the log and snapshots never hold the password. They sit on the
 * service record beside the spec, outside it and its hash: new credentials are not a new version,
 * and no view of the spec shows them. A member opens them only for a node with a task of the
 * service (src/agent/registry-auth-delivery.ts).
 * @module
 */
import { at, object, string } from './check.js';

/** One registry's `user:password`, sealed. */
export interface SealedRegistryAuth {
  /** The registry they are for, as in an image reference (`docker.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  /** `user:password` sealed under {@link registryAuthSealName} of the service. */
  readonly data: string;
  /** HMAC of the plaintext under the data key: a redeploy with the same credentials changes nothing. */
  readonly digest: string;
}

/** The name a service's credentials are sealed under: bound to the service, so they cannot be moved to another. */
export function registryAuthSealName(serviceId: string): string {
  return `registry-auth/${serviceId}`;
}

/**
 * The credentials a deploy leaves on a service: `given` when the deploy carried them (unless they
 * are the ones it has), else the ones it had (as Swarm keeps a service's auth when an update does
 * not send any). The same object back means nothing changed.
 */
export function nextRegistryAuth(
  current: SealedRegistryAuth | undefined,
  given: SealedRegistryAuth | undefined,
): SealedRegistryAuth | undefined {
  if (given === undefined) return current;
  if (current !== undefined && current.registry === given.registry && current.digest === given.digest) return current;
  return given;
}

const REGISTRY = /^[A-Za-z0-9.-]+(?::\d{1,5})?$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Checks a sealed credential in a command or a snapshot. */
export function checkSealedRegistryAuth(v: unknown, path: string): SealedRegistryAuth {
  const r = object(v, path, ['registry', 'data', 'digest']);
  return {
    registry: string(r.registry, at(path, 'registry'), { min: 1, max: 255, pattern: REGISTRY, shape: 'a host[:port]' }),
    data: string(r.data, at(path, 'data'), { min: 40, max: 8192, pattern: BASE64, shape: 'base64' }),
    digest: string(r.digest, at(path, 'digest'), { min: 64, max: 64, pattern: HEX64, shape: '64 hex digits' }),
  };
}
