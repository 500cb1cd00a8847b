/**
 * `--with-registry-auth`: the registry credentials of the CLI user's Docker config
 * (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`), `auths` entries as `docker login`
 * writes them (`auth`: base64 of `user:password`). Only the registries the Compose file names are
 * sent (Docker Hub's always, as images without a registry come from it). Credential stores
 * (`credsStore`, `credHelpers`) are not read: a warning says so.
 * @module
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './errors.js';

/** What was found: base64 `user:password` by registry host, and warnings for the user. */
export interface RegistryAuth {
  readonly auth: Record<string, string>;
  readonly warnings: string[];
}

/**
 * The credentials for the registries `compose` names.
 * @throws {UsageError} when the config cannot be read or holds none for them.
 * @example registryAuthFor(composeText, { env: process.env })
 */
export function registryAuthFor(
  compose: string,
  options: { env: Readonly<Record<string, string | undefined>>; read?: (path: string) => string; home?: string },
): RegistryAuth {
  const dir = options.env.DOCKER_CONFIG ?? join(options.home ?? homedir(), '.docker');
  const path = join(dir, 'config.json');
  let config: {
    auths?: Record<string, { auth?: unknown; username?: unknown; password?: unknown }>;
    credsStore?: unknown;
    credHelpers?: unknown;
  };
  try {
    config = JSON.parse((options.read ?? ((p) => readFileSync(p, 'utf8')))(path)) as typeof config;
  } catch (error) {
    throw new UsageError(
      `--with-registry-auth: cannot read the Docker config ${path} (${(error as Error).message}): run docker login first`,
    );
  }
  const warnings: string[] = [];
  if (config.credsStore !== undefined || config.credHelpers !== undefined)
    warnings.push(`${path} uses a credential store, which shoal does not read: only its "auths" entries are sent`);
  const auth: Record<string, string> = {};
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    const registry = registryOfKey(key);
    if (registry !== 'docker.io' && !compose.includes(registry)) continue;
    const value =
      typeof entry?.auth === 'string' && entry.auth !== ''
        ? entry.auth
        : typeof entry?.username === 'string' && typeof entry.password === 'string'
          ? Buffer.from(`${entry.username}:${entry.password}`).toString('base64')
          : null;
    if (value !== null) auth[registry] = value;
  }
  if (Object.keys(auth).length === 0)
    throw new UsageError(
      `--with-registry-auth: ${path} has no credentials for the registries of this file: run docker login <registry>`,
    );
  return { auth, warnings };
}

/** `https://index.docker.io/v1/` → `docker.io`; `https://ghcr.io` → `ghcr.io`. */
export function registryOfKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}
