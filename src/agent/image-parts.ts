/**
 * The agent's image parts (issue 15), made together because they share their sources: pinning
 * tags to digests at deploy (ImageResolver), registry credentials that reach only the nodes that
 * pull (RegistryAuthDelivery), and the leader's registry watch (ImageWatchLoop).
 */
import type { Logger } from 'pino';
import type { RpcService } from '../p2p/index.js';
import type { Clock } from '../raft/driver/index.js';
import { taggedRef } from '../runtime/image-ref.js';
import { registryDigest } from '../runtime/registry-digest.js';
import type { ClusterStore } from './cluster-store.js';
import type { AgentConfig } from './config.js';
import type { DataKeyStore } from './data-key-store.js';
import { dockerImageLookup, ImageResolver, type ImageSources } from './image-resolver.js';
import { ImageWatchLoop } from './image-watch-loop.js';
import { RegistryAuthDelivery } from './registry-auth.js';

export interface ImagePartsDeps {
  readonly selfId: string;
  readonly config: Pick<AgentConfig, 'runtime' | 'imageUpdateMs'>;
  readonly store: ClusterStore;
  readonly rpc: RpcService;
  readonly keys: DataKeyStore;
  /** Injected sources; undefined: production's (the registry, and the engine with `--runtime docker`). */
  readonly sources: ImageSources | null | undefined;
  /** Whether the drivers are injected (a fake driver's images are in no registry: no pinning then). */
  readonly driversInjected: boolean;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface ImageParts {
  readonly registryAuth: RegistryAuthDelivery;
  /** Pins tags at deploy; null when images stay as written. */
  readonly resolver: ImageResolver | null;
  /** Leader-only: one HEAD per watched tag per interval. */
  readonly watch: ImageWatchLoop;
}

export function imageParts(deps: ImagePartsDeps): ImageParts {
  const { selfId, config, store, rpc, log } = deps;
  const registryAuth = new RegistryAuthDelivery({ selfId, store, rpc, keys: deps.keys, log });
  const sources =
    deps.sources !== undefined
      ? deps.sources
      : config.runtime === 'docker' && !deps.driversInjected
        ? { localImage: dockerImageLookup() }
        : null;
  const resolver =
    sources && new ImageResolver({ selfId, rpc, nodes: () => store.state.nodes().map((n) => n.id), sources, log });
  const watch = new ImageWatchLoop({
    state: store.state,
    writer: store.writer,
    // With the credentials given at deploy, if any (registry-auth.ts: only members open them).
    digest: async (ref, signal) => {
      const credential = await registryAuth.forWatch(ref);
      return registryDigest(ref, { ...deps.sources?.registry, credential: () => credential, signal });
    },
    // policy: local: the image id of the tag on each node that runs one of these services.
    localImageIds: async (ref, serviceIds, signal) => {
      const tasks = serviceIds.flatMap((id) => store.state.tasksOfService(id));
      const nodes = tasks.flatMap((t) => (t.desiredState === 'running' && t.nodeId !== null ? [t.nodeId] : []));
      return resolver ? resolver.imageIds(taggedRef(ref), [...new Set(nodes)], signal) : new Map();
    },
    clusterDefault: config.imageUpdateMs === undefined ? null : { intervalMs: config.imageUpdateMs },
    clock: deps.clock,
    log: log.child({ component: 'image-watch' }),
  });
  return { registryAuth, resolver, watch };
}
