/**
 * What this node says about itself in `node.register` (init, join) and keeps current in its
 * record after a restart: hostname, addresses, labels, resources, version and platform.
 */
import type { Logger } from 'pino';
import type { HostResources } from '../host/index.js';
import { normalizeArch } from '../stack/platform.js';
import { SHOAL_VERSION } from './version.js';

/** What the joiner says about itself; the member checks it again through command validation. */
export interface NodeFacts {
  readonly hostname: string;
  readonly addresses: string[];
  readonly labels: Record<string, string>;
  readonly resources: {
    cpus: number;
    memoryBytes: number;
    gpus: { index: number; uuid: string; name: string; memoryBytes: number }[];
  };
  readonly version: string;
  /** OS and architecture in Docker's names; absent from joiners of earlier versions. */
  readonly platform?: { readonly os: string; readonly arch: string };
}

/** This node's facts, detected anew on each call. */
export type NodeFactsSource = () => Promise<NodeFacts>;

export function nodeFacts(deps: {
  /** Hostname, CPUs, memory and GPUs (`detectResources` in production). */
  readonly detect: () => Promise<HostResources>;
  readonly addresses: () => string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly log: Logger;
}): NodeFactsSource {
  return async () => {
    const detected = await deps.detect();
    for (const warning of detected.warnings ?? []) deps.log.warn({ warning }, 'resource detection');
    return {
      hostname: detected.hostname,
      addresses: deps.addresses(),
      labels: { ...deps.labels },
      resources: {
        cpus: detected.cpus,
        memoryBytes: detected.memoryBytes,
        gpus: detected.gpus.map((g) => ({ index: g.index, uuid: g.uuid, name: g.name, memoryBytes: g.memoryBytes })),
      },
      version: SHOAL_VERSION,
      // what `platform:` in a Compose file is matched against (node.platform.os / .arch)
      platform: { os: process.platform, arch: normalizeArch(process.arch) },
    };
  };
}
