/**
 * Service keys about the node a task runs on and how its engine runs the container:
 * `platform` (a placement constraint on the node's OS and architecture), `network_mode`
 * (`host` or `none`) and `runtime` (the engine's OCI runtime). What a cluster cannot honour
 * (`network_mode: service:x`, sharing another task's network namespace) is refused with the reason.
 *
 * @module
 * @private
 */
import { parsePlatform } from './platform.js';
import { join, type Reader } from './reader.js';
import type { ServiceSpec } from './spec.js';
import type { PMap } from './tree.js';

/** The optional spec fields these keys set; a key the file does not give is absent. */
export type HostKeys = Pick<ServiceSpec, 'platform' | 'networkMode' | 'ociRuntime'>;

const RUNTIME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Reads `platform`, `network_mode` and `runtime` of the service mapping `m` at `path`. With a
 * `network_mode`, `networks` is refused (Compose does the same) and `ports` are discarded with a
 * warning, as Docker does: the container listens on the node's own ports, or has none.
 */
export function readHostKeys(r: Reader, m: PMap, path: string, runtime: 'docker' | 'process'): HostKeys {
  const entry = (k: string) => m.entries.get(k);
  const out: { -readonly [K in keyof HostKeys]: HostKeys[K] } = {};

  const platformNode = entry('platform')?.value;
  if (platformNode) {
    const s = r.name(platformNode, join(path, 'platform'));
    if (s !== undefined) {
      try {
        out.platform = parsePlatform(s);
      } catch (e) {
        r.error(platformNode, join(path, 'platform'), (e as Error).message);
      }
    }
  }

  const modeEntry = entry('network_mode');
  if (modeEntry) {
    const p = join(path, 'network_mode');
    const mode = r.name(modeEntry.value, p);
    if (mode === 'host' || mode === 'none') {
      if (runtime === 'process')
        r.error(modeEntry.keyPos, p, 'a process-runtime service runs on the node itself: remove network_mode');
      else out.networkMode = mode;
    } else if (mode !== undefined) {
      r.error(modeEntry.value, p, networkModeRefusal(mode));
    }
    const networks = entry('networks');
    if (out.networkMode && networks)
      r.error(
        networks.keyPos,
        join(path, 'networks'),
        `network_mode and networks exclude each other: with network_mode: ${out.networkMode} the container joins no stack network; remove one of them`,
      );
    const ports = entry('ports');
    if (out.networkMode && ports)
      r.warn(
        ports.keyPos,
        join(path, 'ports'),
        out.networkMode === 'host'
          ? 'ports are discarded with network_mode: host, as Docker does: the container listens on the node’s own ports'
          : 'ports are discarded with network_mode: none: the container has no network to publish them from',
      );
  }

  const runtimeEntry = entry('runtime');
  if (runtimeEntry) {
    const p = join(path, 'runtime');
    const name = r.name(runtimeEntry.value, p);
    if (runtime === 'process')
      r.error(
        runtimeEntry.keyPos,
        p,
        'runtime selects a container runtime; a process-runtime service has no container',
      );
    else if (name !== undefined && !RUNTIME_NAME.test(name))
      r.error(
        runtimeEntry.value,
        p,
        `expected an engine runtime name such as runc or nvidia (letters, digits, "_", "." and "-"), got ${JSON.stringify(name)}`,
      );
    else if (name !== undefined) out.ociRuntime = name;
  }
  return out;
}

function networkModeRefusal(mode: string): string {
  const shared = /^(service|container):(.*)$/.exec(mode);
  if (shared)
    return (
      `network_mode: ${mode} is not supported: shoal places each task on its own, so it cannot join ` +
      `another ${shared[1]}'s network namespace; put both services on one network and reach ${shared[2] || 'it'} by name`
    );
  if (mode === 'bridge' || mode === 'default')
    return `network_mode: ${mode} is not supported: services join the stack's networks (the default one when none is named); remove it`;
  return `expected host or none, got ${JSON.stringify(mode)}`;
}
