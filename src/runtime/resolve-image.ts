/**
 * Resolving a tag to a digest once, at deploy and at each update, so that every task of the
 * service runs the same image whatever each node's copy of the tag says. The registry decides;
 * when it cannot be asked, refuses access, or does not have the image (one built or loaded
 * locally), a node that has the image does: its repo digest, else its image id.
 *
 * A local-only image (no repo digest: `docker build`, `docker load`) is pinned to its image id
 * (`name:tag@sha256:<id>`): a node runs it only if it has an image with that id (the driver looks
 * a pinned reference up by repo digest, then by image id: image-lookup.ts), and cannot
 * pull it, so the image must be loaded on each node that runs it.
 *
 * @module
 */
import { parseImageRef, pinnedRef, type ImageRef } from './image-ref.js';
import { RegistryRefusedError, RegistryUnreachableError } from './registry-digest.js';

/** An image as a node's engine has it. */
export interface NodeImage {
  /** `name@sha256:…` for each registry the image was pulled from or pushed to. */
  readonly repoDigests: readonly string[];
  /** `sha256:…`, the hash of its configuration. */
  readonly id: string;
}

/** Where {@link resolveImageDigest} may look. */
export interface ResolveImageDeps {
  /** The registry's digest for the tag (registry-digest.ts `registryDigest`). */
  readonly registry: (ref: ImageRef, signal?: AbortSignal) => Promise<string>;
  /** The image as a node that has it sees it; `null` when no node asked has it. */
  readonly nodeImage?: (image: string, signal?: AbortSignal) => Promise<NodeImage | null>;
}

/** What the tag resolved to. */
export interface ResolvedImage {
  /** `name:tag@sha256:…`, to store in the service's spec. */
  readonly image: string;
  readonly digest: string;
  /** `given`: already pinned; `registry`; `node`: a node's repo digest; `local`: a local-only image's id. */
  readonly source: 'given' | 'registry' | 'node' | 'local';
  /** Why the registry was not used, when it was not. */
  readonly note?: string;
}

/** Neither the registry nor a node could say which image the tag means. */
export class ImageUnresolvedError extends Error {
  override readonly name = 'ImageUnresolvedError';
}

/**
 * Resolves `image` (a tag, or an already pinned reference, left as is) to a pinned reference.
 * @throws {RangeError} for a reference Docker would not read; {@link ImageUnresolvedError} when
 * nothing knows the tag.
 * @example const { image } = await resolveImageDigest('127.0.0.1:5000/app:v1', { registry: (r) => registryDigest(r) });
 */
export async function resolveImageDigest(
  image: string,
  deps: ResolveImageDeps,
  options: { signal?: AbortSignal } = {},
): Promise<ResolvedImage> {
  const ref = parseImageRef(image);
  if (ref.digest !== null) return { image, digest: ref.digest, source: 'given' };
  let note: string;
  try {
    const digest = await deps.registry(ref, options.signal);
    return { image: pinnedRef(ref, digest), digest, source: 'registry' };
  } catch (error) {
    options.signal?.throwIfAborted();
    // Unreachable, no such tag (a local-only image), or access refused without credentials.
    if (!(error instanceof RegistryUnreachableError) && !(error instanceof RegistryRefusedError)) throw error;
    note = error.message;
  }
  const local = (await deps.nodeImage?.(image, options.signal)) ?? null;
  if (local === null)
    throw new ImageUnresolvedError(
      `${note}; and no node has the image ${image}: push it to a registry the cluster reaches, or load it on a node`,
    );
  const digest = repoDigestFor(ref, local.repoDigests);
  if (digest !== null) return { image: pinnedRef(ref, digest), digest, source: 'node', note };
  return { image: pinnedRef(ref, local.id), digest: local.id, source: 'local', note };
}

/** The digest of the entry of `repoDigests` from `ref`'s registry and repository, if any. */
export function repoDigestFor(ref: ImageRef, repoDigests: readonly string[]): string | null {
  for (const entry of repoDigests) {
    let other: ImageRef;
    try {
      other = parseImageRef(entry);
    } catch {
      continue;
    }
    if (other.registry === ref.registry && other.repository === ref.repository && other.digest !== null)
      return other.digest;
  }
  return null;
}
