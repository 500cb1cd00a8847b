/**
 * Image references as Docker reads them (`[registry[:port]/]path[:tag][@sha256:hex]`), and the
 * pinned form shoal stores in a service's spec: `name:tag@sha256:…`, the tag kept for display,
 * the digest the one thing a node runs.
 *
 * @module
 */

/** A parsed image reference. */
export interface ImageRef {
  /** Registry host as written or implied (`docker.io` when none). */
  readonly registry: string;
  /** Repository path in the registry (`library/nginx` for `nginx` on Docker Hub). */
  readonly repository: string;
  /** `null` when none is written (Docker means `latest` then). */
  readonly tag: string | null;
  /** `sha256:<64 hex>`, `null` when not pinned. */
  readonly digest: string | null;
  /** The name as written, without tag or digest (`nginx`, `127.0.0.1:5000/app`). */
  readonly name: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** Whether `s` is a content digest shoal pins to (`sha256:` and 64 hex digits). */
export function isDigest(s: string): boolean {
  return DIGEST.test(s);
}

/**
 * Parses an image reference as Docker does (a first path part with a `.` or `:`, or `localhost`, is a registry).
 * @throws {RangeError} saying what is wrong with it.
 * @example parseImageRef('127.0.0.1:5000/app:v2').tag // 'v2'
 */
export function parseImageRef(ref: string): ImageRef {
  const fail = (why: string) => new RangeError(`Cannot read image reference ${JSON.stringify(ref)}: ${why}`);
  if (ref === '' || /\s/.test(ref)) throw fail('expected [registry/]name[:tag][@sha256:digest] without spaces');
  const at = ref.indexOf('@');
  const digest = at < 0 ? null : ref.slice(at + 1);
  if (digest !== null && !isDigest(digest)) throw fail(`the digest must be sha256: and 64 hex digits, got ${digest}`);
  const named = at < 0 ? ref : ref.slice(0, at);
  const slash = named.indexOf('/');
  const first = slash < 0 ? '' : named.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first : 'docker.io';
  const rest = hasRegistry ? named.slice(slash + 1) : named;
  const colon = rest.lastIndexOf(':');
  const path = colon < 0 ? rest : rest.slice(0, colon);
  const tag = colon < 0 ? null : rest.slice(colon + 1);
  if (tag !== null && !TAG.test(tag)) throw fail(`invalid tag ${JSON.stringify(tag)}`);
  if (!PATH.test(path)) throw fail(`invalid repository name ${JSON.stringify(path)} (lower case, digits, . _ - /)`);
  const repository = registry === 'docker.io' && !path.includes('/') ? `library/${path}` : path;
  return { registry, repository, tag, digest, name: hasRegistry ? `${first}/${path}` : path };
}

/** `name:tag@digest`: what a service's spec stores once its tag is resolved (the tag only for display). */
export function pinnedRef(ref: ImageRef, digest: string): string {
  return `${ref.name}${ref.tag === null ? '' : `:${ref.tag}`}@${digest}`;
}

/** `name@digest`: what a node pulls or looks up for a pinned reference (the tag plays no part). */
export function digestRef(ref: ImageRef): string {
  if (ref.digest === null) throw new RangeError(`${ref.name} is not pinned to a digest`);
  return `${ref.name}@${ref.digest}`;
}

/** `name:tag` (`latest` when none): what was written before pinning. */
export function taggedRef(ref: ImageRef): string {
  return `${ref.name}:${ref.tag ?? 'latest'}`;
}

/** The host to ask for a registry's API (Docker Hub's API is not at `docker.io`). */
export function registryHost(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
}

/** The key of a registry in a Docker config's `auths` (Docker Hub's is its v1 index URL). */
export function authKeys(registry: string): string[] {
  if (registry === 'docker.io' || registry === 'index.docker.io')
    return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}
