/**
 * The agent's sources for pinning an image (src/runtime/resolve-image.ts): the registry first,
 * then a node that has the image, this node's engine before the others' (`images.inspect`, asked
 * over the cluster's member-only libp2p links, answered from each node's Docker Engine).
 * @module
 */
import Docker from 'dockerode';
import type { Logger } from 'pino';
import type { RpcService } from '../p2p/index.js';
import { registryDigest, type RegistryClientOptions, type RegistryCredential } from '../runtime/registry-digest.js';
import { resolveImageDigest, type NodeImage, type ResolvedImage } from '../runtime/resolve-image.js';

/** How one node sees an image: `null` when its engine does not have it (or it has no engine). */
export type LocalImageLookup = (image: string, signal?: AbortSignal) => Promise<NodeImage | null>;

/** Where the agent looks when pinning images (AgentComponents.images). */
export interface ImageSources {
  /** Options for the registry's API (fetch, insecure registries, timeout). */
  readonly registry?: Omit<RegistryClientOptions, 'signal' | 'credential'>;
  /** This node's engine; `null` when it has none. */
  readonly localImage: LocalImageLookup | null;
}

export interface ImageResolverDeps {
  readonly selfId: string;
  readonly rpc: Pick<RpcService, 'handle' | 'call'>;
  /** The ids of the cluster's nodes (whom to ask when the registry cannot say). */
  readonly nodes: () => readonly string[];
  readonly sources: ImageSources;
  readonly log: Logger;
}

const ASK_MS = 3_000;
/**
 * A registry that does not answer within this is taken as unreachable (the nodes are asked
 * next): a deploy pins every image before it answers, and the CLI waits 10 s for that answer.
 */
const REGISTRY_MS = 4_000;
const MAX_NODES_ASKED = 16;

export class ImageResolver {
  readonly #deps: ImageResolverDeps;

  constructor(deps: ImageResolverDeps) {
    this.#deps = deps;
  }

  /** Answer other nodes' `images.inspect` from this node's engine (register before RPC starts). */
  register(): void {
    this.#deps.rpc.handle('images.inspect', async (payload, { signal }) => {
      const image = (payload as { image?: unknown } | null)?.image;
      if (typeof image !== 'string' || image.length > 1024) throw new TypeError('expected {image}');
      return (await this.#deps.sources.localImage?.(image, signal)) ?? null;
    });
  }

  /**
   * `image` pinned to a digest, with these registry credentials (from `--with-registry-auth`) if any.
   * @example const { image } = await resolver.resolve('127.0.0.1:5000/app:v1');
   */
  resolve(
    image: string,
    signal?: AbortSignal,
    credentials: Readonly<Record<string, RegistryCredential>> = {},
  ): Promise<ResolvedImage> {
    const registry = this.#deps.sources.registry ?? {};
    return resolveImageDigest(
      image,
      {
        registry: (ref, s) =>
          registryDigest(ref, {
            timeoutMs: REGISTRY_MS,
            ...registry,
            credential: (name) => credentials[name] ?? null,
            ...(s ? { signal: s } : {}),
          }),
        nodeImage: (img, s) => this.#nodeImage(img, s),
      },
      signal ? { signal } : {},
    );
  }

  /**
   * The image id each of `nodes` has for `image` (null: none, or the node did not answer): what
   * the image watch compares under `policy: local` (image-watch.ts `agreedImageId`).
   */
  async imageIds(image: string, nodes: readonly string[], signal?: AbortSignal): Promise<Map<string, string | null>> {
    const answers = await Promise.all(
      [...nodes].sort().map(async (node): Promise<[string, string | null]> => {
        const found =
          node === this.#deps.selfId
            ? await this.#deps.sources.localImage?.(image, signal).catch(() => null)
            : await this.#deps.rpc
                .call(node, 'images.inspect', { image }, { timeoutMs: ASK_MS, ...(signal ? { signal } : {}) })
                .then(nodeImageOf, () => null);
        return [node, found?.id ?? null];
      }),
    );
    return new Map(answers);
  }

  async #nodeImage(image: string, signal?: AbortSignal): Promise<NodeImage | null> {
    const local = await this.#deps.sources.localImage?.(image, signal).catch(() => null);
    if (local) return local;
    const others = this.#deps
      .nodes()
      .filter((id) => id !== this.#deps.selfId)
      .sort()
      .slice(0, MAX_NODES_ASKED);
    const answers = await Promise.all(
      others.map((peer) =>
        this.#deps.rpc
          .call(peer, 'images.inspect', { image }, { timeoutMs: ASK_MS, ...(signal ? { signal } : {}) })
          .then(nodeImageOf)
          .catch((error: unknown) => {
            this.#deps.log.debug({ peer, image, err: error }, 'images: a node could not say whether it has an image');
            return null;
          }),
      ),
    );
    // Nodes may disagree on a local tag: the first (by node id) decides, the same for every deploy.
    return answers.find((a) => a !== null) ?? null;
  }
}

/** This node's engine as a {@link LocalImageLookup}: its RepoDigests and image id. */
export function dockerImageLookup(docker: Docker = new Docker()): LocalImageLookup {
  return async (image, signal) => {
    try {
      const info = (signal?.throwIfAborted(), await docker.getImage(image).inspect());
      return { repoDigests: info.RepoDigests ?? [], id: info.Id };
    } catch {
      return null; // no such image here, or no engine
    }
  };
}

function nodeImageOf(answer: unknown): NodeImage | null {
  const a = answer as { repoDigests?: unknown; id?: unknown } | null;
  if (a === null || typeof a !== 'object' || typeof a.id !== 'string' || !Array.isArray(a.repoDigests)) return null;
  return { id: a.id, repoDigests: a.repoDigests.filter((d): d is string => typeof d === 'string') };
}
