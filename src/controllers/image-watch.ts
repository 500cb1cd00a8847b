/**
 * Automatic image updates (issue 15), the pure part: which tags the leader asks the registry
 * about now, and what a tag's digest means for each service that watches it. The leader's loop
 * (src/agent/image-watch-loop.ts) does the HEAD requests and proposes the updates.
 *
 * - One HEAD per distinct tag per interval, shared by every service that runs the tag (the
 *   shortest interval of those services wins).
 * - A service is updated when the tag's digest differs from the one its spec pins, unless its
 *   rollout is still acting (the next check after it ends decides again) or the digest is bad.
 * - A digest is bad for a service when its history holds a version with that image that never
 *   became stable and is no longer current (its rollout paused or was rolled back, or was
 *   replaced before it completed), and no stable version runs it. The marks live in the
 *   replicated history, so a new leader knows them too; they go with the version once the
 *   history drops it (10 versions). A tag that moves on to another digest is tried again.
 * - `policy: local` (images loaded with `docker load`, no registry): the "digest" is the image id
 *   the engines of the nodes running the service have for the tag, once they all agree
 *   ({@link agreedImageId}); the spec pins it as a deploy pins a local-only image
 *   (`name:tag@sha256:<image id>`). Such a tag is keyed `name:tag (local)`, apart from the
 *   registry's answer for the same name.
 *
 * No clock, no I/O: times and registry answers are arguments.
 * @module
 */
import { isDigest, parseImageRef, pinnedRef, taggedRef, type ImageRef } from '../runtime/image-ref.js';
import { isRolloutActive } from '../state/rollout.js';
import type { ImageUpdateSpec } from '../stack/spec.js';
import type { ServiceRecord } from '../state/workloads.js';

/** A service whose `x-shoal.image_update` is set, as the watch sees it. */
export interface WatchedService {
  readonly id: string;
  /** `name:tag` (`latest` when none): the key the registry is asked about; `name:tag (local)` under `policy: local`. */
  readonly tag: string;
  /** `registry`: HEAD the registry; `local`: ask the engines of the nodes that run it. */
  readonly policy: 'registry' | 'local';
  readonly ref: ImageRef;
  /** The digest its spec pins; `null` when it runs the bare tag (it could not be pinned). */
  readonly digest: string | null;
  readonly intervalMs: number;
  /** Its rollout still replaces tasks (updating, awaiting promotion, rolling back). */
  readonly busy: boolean;
  /** Digests it must not be updated to (see the module's doc). */
  readonly bad: ReadonlySet<string>;
}

/** What the watch concluded for one service of a checked tag whose digest it does not run. */
export type ImageWatchDecision =
  | {
      readonly kind: 'update';
      readonly serviceId: string;
      readonly tag: string;
      readonly from: string | null;
      readonly to: string;
      /** The pinned reference to put in the spec (`name:tag@sha256:…`). */
      readonly image: string;
    }
  | {
      readonly kind: 'skip';
      readonly serviceId: string;
      readonly tag: string;
      readonly to: string;
      /** `bad`: a rollout to this digest failed; `rollout`: its current rollout still acts. */
      readonly reason: 'bad' | 'rollout';
    };

/**
 * The services that watch their image, sorted by id: replicated and global container services
 * with `imageUpdate`, or without one when the cluster has a default (`shoal agent
 * --image-update-ms`; `image_update: false` opts out), whose image is a reference Docker reads.
 */
export function watchedServices(
  services: Iterable<ServiceRecord>,
  clusterDefault: ImageUpdateSpec | null = null,
): WatchedService[] {
  const out: WatchedService[] = [];
  for (const service of services) {
    const spec = service.spec;
    const update = spec.imageUpdate ?? clusterDefault;
    if (!update || spec.runtime === 'process') continue;
    if (spec.kind !== 'replicated' && spec.kind !== 'global') continue;
    let ref: ImageRef;
    try {
      ref = parseImageRef(spec.image);
    } catch {
      continue; // the deploy refused such images; nothing to watch
    }
    const policy = update.policy ?? 'registry';
    out.push({
      id: service.id,
      tag: policy === 'local' ? `${taggedRef(ref)}${LOCAL_SUFFIX}` : taggedRef(ref),
      policy,
      ref,
      digest: ref.digest,
      intervalMs: update.intervalMs,
      busy: service.rollout !== undefined && isRolloutActive(service.rollout.state),
      bad: badDigests(service),
    });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const LOCAL_SUFFIX = ' (local)';

/**
 * The image id the nodes agree on for a `policy: local` tag (node id → the id its engine has for
 * the tag, null when it has none): the id every node reports. Null when none was asked, a node
 * lacks the image, or two disagree (a `docker load` still under way): rolling out then would
 * start tasks where the image is not, so the watch waits for the next check.
 * @example agreedImageId(new Map([['n1', 'sha256:ab…'], ['n2', 'sha256:ab…']])) // 'sha256:ab…'
 */
export function agreedImageId(reports: ReadonlyMap<string, string | null>): string | null {
  const ids = new Set(reports.values());
  if (ids.size !== 1) return null;
  const [id] = ids;
  return id !== undefined && id !== null && isDigest(id) ? id : null;
}

/**
 * The digests a service must not be updated to: those of versions in its history that never
 * became stable and are not current, less those some stable version runs.
 */
export function badDigests(service: ServiceRecord): Set<string> {
  const failed = new Set<string>();
  const stable = new Set<string>();
  for (const entry of service.history ?? []) {
    const digest = digestOf(entry.spec.runtime === 'process' ? null : entry.spec.image);
    if (digest === null) continue;
    if (entry.stable) stable.add(digest);
    else if (entry.version !== service.version) failed.add(digest);
  }
  for (const digest of stable) failed.delete(digest);
  return failed;
}

/**
 * The tags to ask the registry about at `now`, sorted: each once, when it was not yet asked or its
 * shortest interval among the services watching it has passed since `lastChecked`.
 * @example dueTags(watched, new Map([['reg/app:v1', 0]]), 60_000) // ['reg/app:v1'] at interval 1m
 */
export function dueTags(
  watched: readonly WatchedService[],
  lastChecked: ReadonlyMap<string, number>,
  now: number,
): string[] {
  const interval = new Map<string, number>();
  for (const w of watched) interval.set(w.tag, Math.min(interval.get(w.tag) ?? Infinity, w.intervalMs));
  const due: string[] = [];
  for (const [tag, ms] of interval) {
    const last = lastChecked.get(tag);
    if (last === undefined || now - last >= ms) due.push(tag);
  }
  return due.sort();
}

/**
 * What the digests just heard (by tag) mean for each watching service that does not run them:
 * an update, or a skip and why. Services of tags not in `digests` (not checked, or the registry
 * did not answer) are left alone.
 */
export function decideImageUpdates(
  watched: readonly WatchedService[],
  digests: ReadonlyMap<string, string>,
): ImageWatchDecision[] {
  const out: ImageWatchDecision[] = [];
  for (const w of watched) {
    const to = digests.get(w.tag);
    if (to === undefined || to === w.digest) continue;
    const base = { serviceId: w.id, tag: w.tag, to };
    if (w.bad.has(to)) out.push({ kind: 'skip', ...base, reason: 'bad' });
    else if (w.busy) out.push({ kind: 'skip', ...base, reason: 'rollout' });
    else out.push({ kind: 'update', ...base, from: w.digest, image: pinnedRef(w.ref, to) });
  }
  return out;
}

function digestOf(image: string | null): string | null {
  if (image === null) return null;
  try {
    return parseImageRef(image).digest;
  } catch {
    return null;
  }
}
