/**
 * Which of the engine's images a task's reference means. A pinned reference (`name:tag@sha256:…`,
 * resolve-image.ts) is looked up by repo digest (`name@sha256:…`, an image pulled from or pushed
 * to that registry) and then by image id (a local-only image, pinned to its id); the tag plays no
 * part, so a node whose copy of the tag points elsewhere still runs the pinned image.
 *
 * @module
 */
import type Docker from 'dockerode';
import { digestRef, parseImageRef } from './image-ref.js';
import type { RegistryCredential } from './registry-digest.js';
import type { RunnableAssignment } from './types.js';

/** The registry credentials for a task's pull, fetched when the node has to pull (`null`: none given). */
export type PullCredentials = (a: RunnableAssignment, signal?: AbortSignal) => Promise<RegistryCredential | null>;

/**
 * The reference to create a container of `image` with, or `null` when the engine has no such image.
 * @example await engineImage(docker, 'app:v1@sha256:…') // 'app@sha256:…' or 'sha256:…' (a local image's id)
 */
export async function engineImage(docker: Docker, image: string): Promise<string | null> {
  const ref = pinnedOrNull(image);
  if (ref === null) return (await inspected(docker, image)) ? image : null;
  const byRepoDigest = digestRef(ref);
  if (await inspected(docker, byRepoDigest)) return byRepoDigest;
  const id = await docker
    .getImage(ref.digest!)
    .inspect()
    .then((info) => info.Id)
    .catch(notFoundAsNull);
  return id === ref.digest ? id : null;
}

/** What to pull for `image`: `name@sha256:…` for a pinned one (the tag may have moved since), else as written. */
export function pullReference(image: string): string {
  const ref = pinnedOrNull(image);
  return ref === null ? image : digestRef(ref);
}

function pinnedOrNull(image: string) {
  try {
    const ref = parseImageRef(image);
    return ref.digest === null ? null : ref;
  } catch {
    return null; // not ours to judge: the engine says what is wrong with it
  }
}

async function inspected(docker: Docker, image: string): Promise<boolean> {
  return (await docker.getImage(image).inspect().catch(notFoundAsNull)) !== null;
}

function notFoundAsNull(error: unknown): null {
  if ((error as { statusCode?: number } | null)?.statusCode === 404) return null;
  throw error;
}
