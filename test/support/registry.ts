/**
 * A real image registry for tests: Debian's `docker-registry` (distribution 2.8) on loopback,
 * with a temporary config and storage (scripts/ensure-registry.sh installs it). The Docker Engine
 * treats 127.0.0.0/8 as an insecure registry, so it pushes and pulls over plain HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type Docker from 'dockerode';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

const BINARY = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** `127.0.0.1:<port>`: the registry part of an image reference. */
  readonly host: string;
  stop(): Promise<void>;
}

/** Why no registry can run here (for a skip message), or null when one can. */
export function registryUnavailable(): string | null {
  return existsSync(BINARY)
    ? null
    : `${BINARY} is missing: install Debian's docker-registry (bash scripts/ensure-registry.sh, as CI does)`;
}

/** Options of {@link startRegistry}. */
export interface RegistryOptions {
  /** Basic auth (distribution's `htpasswd`): one user with a bcrypt hash of its password. */
  readonly htpasswd?: { readonly user: string; readonly bcrypt: string };
}

/** Starts a registry on a free loopback port and waits until it answers `GET /v2/` (401 with auth). */
export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  const auth = options.htpasswd;
  if (auth) await writeFile(join(dir, 'htpasswd'), `${auth.user}:${auth.bcrypt}\n`);
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: {level: error}',
      `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}`,
      `http: {addr: "127.0.0.1:${port}"}`,
      ...(auth ? [`auth: {htpasswd: {realm: shoal-test, path: ${join(dir, 'htpasswd')}}}`] : []),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(BINARY, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const host = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    const ok = await fetch(`http://${host}/v2/`).then(
      (r) => r.status === (auth ? 401 : 200),
      () => false,
    );
    if (ok) return { host, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`docker-registry did not answer on ${host}: ${stderr.trim() || 'no output'}`);
}

/**
 * Remove from the engine every tag and digest of `repo` (what a test pushed and pulled). With
 * `keepBuilds` the image layers stay (untagged), as a cache for the next run.
 */
export async function removeRepositoryImages(
  docker: Docker,
  repo: string,
  options: { readonly keepBuilds?: boolean } = {},
): Promise<void> {
  const images = await docker.listImages({ filters: { reference: [repo] } });
  const refs = images.flatMap((i) => [...(i.RepoTags ?? []), ...(i.RepoDigests ?? [])]);
  for (const ref of refs.filter((r) => r.startsWith(`${repo}:`) || r.startsWith(`${repo}@`)))
    await docker
      .getImage(ref)
      .remove(options.keepBuilds === true ? { noprune: true } : { force: true })
      .catch(() => undefined);
}
