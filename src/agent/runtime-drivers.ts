/**
 * The container drivers a node runs tasks with, chosen by `--runtime`: host processes always
 * (unless `none`), Docker containers when an engine answers (otherwise say so: container tasks
 * are then rejected on this node with that reason). Injected into the agent, so tests run whole
 * agents on a fake driver.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DriverRouter } from '../runtime/driver-router.js';
import { DockerDriver, type ContainerDriver, type RuntimeLogger } from '../runtime/index.js';
import { ProcessDriver } from '../runtime/process/index.js';

/** The drivers of a started runtime, and how to let go of them (containers keep running). */
export interface RuntimeDrivers {
  readonly driver: ContainerDriver;
  close(): void;
}

/** Opens this node's drivers; null when the node runs no tasks. */
export type OpenDrivers = (context: {
  readonly log: Logger;
  readonly logger: RuntimeLogger;
}) => Promise<RuntimeDrivers | null>;

/** The production drivers for `mode`, keeping their state under `dataDir`. */
export function hostDrivers(mode: 'docker' | 'process' | 'none', dataDir: string): OpenDrivers {
  return async ({ log, logger }) => {
    if (mode === 'none') return null;
    let docker: DockerDriver | null = null;
    if (mode === 'docker') {
      docker = new DockerDriver({});
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
    const support = processes.limitsSupport();
    if (!support.cpu || !support.memory)
      log.info(
        { cpu: support.cpu, memory: support.memory, reason: support.reason },
        'the process runtime cannot enforce every limit on this host',
      );
    return { driver: new DriverRouter({ docker, process: processes }), close: () => processes.close() };
  };
}
