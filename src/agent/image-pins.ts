/**
 * Images by digest (issue 15): at deploy and at each update, each service's tag is resolved once
 * (src/runtime/resolve-image.ts) and the service's spec stores the pinned reference
 * (`name:tag@sha256:…`), so every task runs that digest and nodes never disagree. A redeploy of
 * an unchanged file whose tag now points elsewhere pins another digest: the spec hash changes and
 * the service is updated (rolled out) like any other change.
 * @module
 */
import type { Logger } from 'pino';
import { ApiError } from '../api/types.js';
import { ImageUnresolvedError, type ResolvedImage } from '../runtime/resolve-image.js';
import { parseImageRef, taggedRef } from '../runtime/image-ref.js';
import type { RegistryCredential } from '../runtime/registry-digest.js';
import type { ServiceSpec } from '../stack/spec.js';

/**
 * Resolves one image reference to a pinned one (resolveImageDigest with the agent's sources), with
 * the deploy's registry credentials (`--with-registry-auth`) if any.
 */
export type ResolveImage = (
  image: string,
  signal?: AbortSignal,
  credentials?: Readonly<Record<string, RegistryCredential>>,
) => Promise<ResolvedImage>;

/** The specs with their images pinned, and what the caller should be told. */
export interface PinnedServices {
  readonly services: Record<string, ServiceSpec>;
  readonly warnings: string[];
}

/**
 * Pins the image of every container service of a deploy (in parallel: one HEAD per distinct tag).
 * A tag nothing can resolve keeps the digest its service already runs when it was deployed from
 * the same tag (a registry down at redeploy must not become an update), else stays a tag with a
 * warning (each node then resolves it as Docker does).
 * @throws {ApiError} 400 for a reference Docker would not read, or a registry refusing access.
 */
export async function pinServiceImages(
  services: Readonly<Record<string, ServiceSpec>>,
  current: (name: string) => ServiceSpec | undefined,
  resolve: ResolveImage,
  options: { signal?: AbortSignal; log?: Logger; credentials?: Readonly<Record<string, RegistryCredential>> } = {},
): Promise<PinnedServices> {
  const images = new Set(Object.values(services).flatMap((s) => (s.runtime === 'process' ? [] : [s.image])));
  const answers = new Map<string, ResolvedImage | Error>();
  await Promise.all(
    [...images].map(async (image) => {
      answers.set(
        image,
        await resolve(image, options.signal, options.credentials).catch((error: unknown) => {
          options.signal?.throwIfAborted();
          if (error instanceof ImageUnresolvedError) return error;
          throw asApiError(image, error);
        }),
      );
    }),
  );
  const out: Record<string, ServiceSpec> = {};
  const warnings: string[] = [];
  for (const [name, spec] of Object.entries(services)) {
    const answer = spec.runtime === 'process' ? undefined : answers.get(spec.image);
    if (answer === undefined) {
      out[name] = spec;
      continue;
    }
    if (!(answer instanceof Error)) {
      out[name] = { ...spec, image: answer.image };
      if (answer.source === 'local')
        warnings.push(
          `services.${name}.image: ${spec.image} is not in a registry (${answer.note ?? 'local-only'}); pinned to image id ${answer.digest.slice(7, 19)}: load it on every node that may run it`,
        );
      else if (answer.source === 'node')
        options.log?.info({ service: name, image: answer.image, why: answer.note }, 'image pinned from a node');
      continue;
    }
    const kept = current(name)?.image;
    if (kept !== undefined && samePinnedTag(kept, spec.image)) {
      out[name] = { ...spec, image: kept };
      warnings.push(`services.${name}.image: ${answer.message}; kept the digest it runs (${kept})`);
    } else {
      out[name] = spec;
      warnings.push(`services.${name}.image: ${answer.message}; not pinned: each node resolves the tag itself`);
    }
  }
  return { services: out, warnings };
}

/**
 * `spec` with its image pinned, for `service update --image` (rollout-api.ts): the new tag is
 * resolved once, as at deploy.
 * @throws {ApiError} 400 when the image cannot be read or resolved.
 */
export async function pinServiceImage(
  spec: ServiceSpec,
  resolve: ResolveImage,
  signal?: AbortSignal,
): Promise<ServiceSpec> {
  if (spec.runtime === 'process') return spec;
  try {
    return { ...spec, image: (await resolve(spec.image, signal)).image };
  } catch (error) {
    signal?.throwIfAborted();
    throw asApiError(spec.image, error);
  }
}

/** Whether `pinned` is `image`'s tag with a digest (the same name:tag, whatever digest). */
function samePinnedTag(pinned: string, image: string): boolean {
  try {
    const a = parseImageRef(pinned);
    const b = parseImageRef(image);
    return a.digest !== null && b.digest === null && taggedRef(a) === taggedRef(b);
  } catch {
    return false;
  }
}

/**
 * The deploy's `registryAuth` (base64 `user:password` by registry, as in a Docker config) decoded.
 * @throws {ApiError} 400 naming the registry whose value is not `user:password`.
 */
export function decodeRegistryAuth(
  auth: Readonly<Record<string, string>> | undefined,
): Record<string, RegistryCredential> {
  const out: Record<string, RegistryCredential> = {};
  for (const [registry, value] of Object.entries(auth ?? {})) {
    const text = Buffer.from(value, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    // The value itself is never echoed: it is a password.
    if (colon <= 0)
      throw new ApiError(400, 'bad_request', `registryAuth.${registry}: expected base64 of user:password`);
    out[registry] = { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  return out;
}

function asApiError(image: string, error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof RangeError) return new ApiError(400, 'bad_request', `image: ${message}`, { cause: error });
  return new ApiError(400, 'bad_request', `Cannot pin image ${image}: ${message}`, { cause: error });
}
