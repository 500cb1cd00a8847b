/**
 * The container drivers a node runs tasks with, chosen by `--runtime`: host processes always
 * (unless `none`), Docker containers when an engine answers (otherwise say so: container tasks
 * are then rejected on this node with that reason). Injected into the agent, so tests run whole
 * agents on a fake driver.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DriverRouter } from '../runtime/driver-router.js';
import { HostFilesDriver, tmpfsBase } from '../runtime/host-task-files.js';
import { TaskFilesDriver, type ResolveTaskFiles } from '../runtime/task-files.js';
import { DockerDriver, type ContainerDriver, type MeshCreateOptions, type RuntimeLogger } from '../runtime/index.js';
import { ProcessDriver } from '../runtime/process/index.js';
import type { PullCredentials } from '../runtime/image-lookup.js';

/** The drivers of a started runtime, and how to let go of them (containers keep running). */
export interface RuntimeDrivers {
  readonly driver: ContainerDriver;
  close(): void;
}

/** Opens this node's drivers; null when the node runs no tasks. */
export type OpenDrivers = (context: {
  readonly log: Logger;
  readonly logger: RuntimeLogger;
  /** Registry credentials for a task's pull (registry-auth.ts, via {@link withPullCredentials}). */
  readonly pullCredential?: PullCredentials;
}) => Promise<RuntimeDrivers | null>;

/**
 * The production drivers for `mode`, keeping their state under `dataDir`; `mesh` when the service
 * mesh is on (containers use its DNS; it publishes `ingress` ports).
 */
export function hostDrivers(
  mode: 'docker' | 'process' | 'none',
  dataDir: string,
  mesh: MeshCreateOptions | null = null,
): OpenDrivers {
  return async ({ log, logger, pullCredential }) => {
    if (mode === 'none') return null;
    let docker: DockerDriver | null = null;
    if (mode === 'docker') {
      docker = new DockerDriver({
        ...(mesh === null ? {} : { mesh }),
        ...(pullCredential === undefined ? {} : { pullCredential }),
      });
      try {
        await docker.ping();
      } catch (error) {
        log.warn(
          { err: error },
          'no Docker Engine answers: this node runs host-process tasks only (start dockerd, then restart the agent)',
        );
        docker = null;
      }
    }
    const processes = new ProcessDriver({ stateDir: join(dataDir, 'processes'), logger });
    // Secrets and configs: per-task directories on tmpfs, one tree per agent (several may share a host).
    const files = await tmpfsBase(`shoal-files-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
    if (files === null) log.warn('no tmpfs at /run or /dev/shm: tasks that use secrets or configs are refused here');
    const support = processes.limitsSupport();
    if (!support.cpu || !support.memory)
      log.info(
        { cpu: support.cpu, memory: support.memory, reason: support.reason },
        'the process runtime cannot enforce every limit on this host',
      );
    const driver = new DriverRouter({
      docker: docker && new HostFilesDriver(docker, { baseDir: files && join(files, 'docker'), mode: 'bind' }),
      process: new HostFilesDriver(processes, { baseDir: files && join(files, 'process'), mode: 'env' }),
    });
    return { driver, close: () => processes.close() };
  };
}

/** `open` with the registry credentials of each task's pull fetched when it pulls (registry-auth.ts). */
export function withPullCredentials(open: OpenDrivers, pullCredential: PullCredentials): OpenDrivers {
  return (context) => open({ ...context, pullCredential });
}

/** `open` with each task's secrets and configs resolved at create (src/runtime/task-files.ts). */
export function withTaskFiles(open: OpenDrivers, resolve: ResolveTaskFiles): OpenDrivers {
  return async (context) => {
    const drivers = await open(context);
    return drivers && { driver: new TaskFilesDriver(drivers.driver, resolve), close: () => drivers.close() };
  };
}
