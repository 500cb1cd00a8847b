/**
 * A tag's digest, asked of its registry: `HEAD /v2/<name>/manifests/<tag>` with the manifest types
 * Docker accepts, the answer's `Docker-Content-Digest`, and the token flow of registries that
 * answer 401 with `WWW-Authenticate: Bearer realm=…` (Docker Hub, GHCR, a registry with token
 * auth) or Basic. A HEAD does not count against Docker Hub's pull limits.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { isDigest, registryHost, type ImageRef } from './image-ref.js';

/** The manifest types asked for, newest first: OCI index, Docker manifest list, OCI and Docker v2 manifests. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** A user name and password (or token) for one registry, as `docker login` keeps them. */
export interface RegistryCredential {
  readonly username: string;
  readonly password: string;
}

/** What {@link registryDigest} uses. */
export interface RegistryClientOptions {
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** Credentials for a registry (by the name in the reference), if any. */
  readonly credential?: (registry: string) => RegistryCredential | null;
  /** Each request's bound. Default 10 s. */
  readonly timeoutMs?: number;
  /** Registries spoken to over plain HTTP; loopback ones always are (as Docker treats them as insecure). */
  readonly insecure?: readonly string[];
  readonly signal?: AbortSignal;
}

/** The registry could not be asked (down, timed out, answered 5xx): another source may know. */
export class RegistryUnreachableError extends Error {
  override readonly name = 'RegistryUnreachableError';
}

/** The registry answered, and not with a digest: no such tag (404), or not allowed (401/403). */
export class RegistryRefusedError extends Error {
  override readonly name = 'RegistryRefusedError';
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The digest the registry holds for `ref`'s tag (`latest` when none).
 * @throws {RegistryUnreachableError} when it cannot be asked; {@link RegistryRefusedError} when it says no.
 * @example const digest = await registryDigest(parseImageRef('127.0.0.1:5000/app:v1'));
 */
export async function registryDigest(ref: ImageRef, options: RegistryClientOptions = {}): Promise<string> {
  const host = registryHost(ref.registry);
  const scheme = isPlainHttp(host, options.insecure ?? []) ? 'http' : 'https';
  const url = `${scheme}://${host}/v2/${ref.repository}/manifests/${ref.tag ?? 'latest'}`;
  const credential = options.credential?.(ref.registry) ?? null;
  let answer = await request(url, 'HEAD', {}, options);
  if (answer.status === 401) {
    const authorization = await authorize(answer.headers.get('www-authenticate') ?? '', ref, credential, options);
    if (authorization !== null) answer = await request(url, 'HEAD', { authorization }, options);
  }
  const what = `${ref.name}:${ref.tag ?? 'latest'} at ${host}`;
  if (answer.status === 401 || answer.status === 403)
    throw new RegistryRefusedError(
      `Cannot resolve ${what}: the registry refused access (HTTP ${answer.status})${credential ? '' : ': log in (docker login) and deploy with --with-registry-auth'}`,
      answer.status,
    );
  if (answer.status === 404)
    throw new RegistryRefusedError(`Cannot resolve ${what}: the registry has no such tag (HTTP 404)`, 404);
  if (answer.status >= 500 || answer.status === 429)
    throw new RegistryUnreachableError(`Cannot resolve ${what}: the registry answered HTTP ${answer.status}`);
  if (answer.status !== 200)
    throw new RegistryRefusedError(`Cannot resolve ${what}: unexpected HTTP ${answer.status}`, answer.status);
  const digest = answer.headers.get('docker-content-digest');
  if (digest !== null && isDigest(digest)) return digest;
  // A registry that sends no digest on HEAD: the digest is the hash of the manifest's bytes.
  const get = await request(url, 'GET', answer.authorization ? { authorization: answer.authorization } : {}, options);
  if (get.status !== 200 || get.body === null)
    throw new RegistryRefusedError(`Cannot resolve ${what}: GET of the manifest answered ${get.status}`, get.status);
  return `sha256:${createHash('sha256').update(get.body).digest('hex')}`;
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array | null;
  readonly authorization?: string;
}

async function request(
  url: string,
  method: 'HEAD' | 'GET',
  headers: { authorization?: string },
  options: RegistryClientOptions,
): Promise<Answer> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const response = await (options.fetch ?? fetch)(url, {
      method,
      headers: { accept: MANIFEST_ACCEPT, ...headers },
      signal,
      redirect: 'follow',
    });
    const body = method === 'GET' ? new Uint8Array(await response.arrayBuffer()) : null;
    if (method === 'HEAD') await response.body?.cancel();
    return {
      status: response.status,
      headers: response.headers,
      body,
      ...(headers.authorization ? { authorization: headers.authorization } : {}),
    };
  } catch (error) {
    options.signal?.throwIfAborted();
    const why = timeout.aborted ? `no answer within ${options.timeoutMs ?? 10_000} ms` : causeOf(error);
    throw new RegistryUnreachableError(`Cannot reach the registry at ${new URL(url).host}: ${why}`, { cause: error });
  }
}

/** The `Authorization` to retry with after a 401, or `null` when there is none to try. */
async function authorize(
  challenge: string,
  ref: ImageRef,
  credential: RegistryCredential | null,
  options: RegistryClientOptions,
): Promise<string | null> {
  const { scheme, params } = parseChallenge(challenge);
  const basic = credential ? `Basic ${basicToken(credential)}` : null;
  if (scheme === 'basic') return basic;
  if (scheme !== 'bearer' || !params.realm) return null;
  const realm = new URL(params.realm);
  if (params.service) realm.searchParams.set('service', params.service);
  realm.searchParams.set('scope', params.scope ?? `repository:${ref.repository}:pull`);
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(realm, { headers: basic ? { authorization: basic } : {}, signal });
  } catch (error) {
    options.signal?.throwIfAborted();
    throw new RegistryUnreachableError(`Cannot reach the token service ${realm.host}: ${causeOf(error)}`, {
      cause: error,
    });
  }
  if (response.status !== 200)
    throw new RegistryRefusedError(
      `Cannot resolve ${ref.name}: the token service ${realm.host} answered HTTP ${response.status}${credential ? '' : ' (no credentials given: docker login, then --with-registry-auth)'}`,
      response.status,
    );
  const json = (await response.json()) as { token?: unknown; access_token?: unknown };
  const token = typeof json.token === 'string' ? json.token : json.access_token;
  if (typeof token !== 'string' || token === '')
    throw new RegistryRefusedError(`Cannot resolve ${ref.name}: the token service ${realm.host} sent no token`, 401);
  return `Bearer ${token}`;
}

/**
 * A `WWW-Authenticate` header's scheme (lower case) and parameters.
 * @example parseChallenge('Bearer realm="https://auth",service="reg"').params.service // 'reg'
 */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return { scheme: '', params: {} };
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g))
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

function basicToken(c: RegistryCredential): string {
  return Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64');
}

function isPlainHttp(host: string, insecure: readonly string[]): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return insecure.includes(host) || name === 'localhost' || name === '::1' || /^127\./.test(name);
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
