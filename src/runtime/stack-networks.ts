/**
 * The stack networks of one node's Docker Engine: created before the containers that join them,
 * removed when nothing uses them and no assigned task needs them (the runtime's network GC,
 * network-gc.ts, which also runs right after a container's removal). Creation and removal of one
 * name never overlap: a create waits for a removal in progress, and a network is never removed
 * while a container is being created on it.
 * Private to the Docker driver.
 */
import type Docker from 'dockerode';
import { shortNodeId } from './create-options.js';
import { LABELS, type CallOptions, type ObservedNetwork, type RunnableAssignment } from './types.js';

export class StackNetworks {
  readonly #docker: Docker;
  /** One creation at a time per network name in this process. */
  readonly #ensuring = new Map<string, Promise<void>>();
  /** Containers being created, per network name: their networks are not removed meanwhile. */
  readonly #creating = new Map<string, number>();
  /** Removals in progress (they never throw): a create waits for them, then recreates. */
  readonly #removals = new Map<string, Promise<boolean>>();

  constructor(docker: Docker) {
    this.#docker = docker;
  }

  /** Run `create` (a container's creation) with the networks `names` present and kept meanwhile. */
  async around<T>(
    names: readonly string[],
    nodeId: string,
    a: RunnableAssignment,
    create: () => Promise<T>,
  ): Promise<T> {
    for (const name of names) this.#creating.set(name, (this.#creating.get(name) ?? 0) + 1);
    try {
      for (const name of names) {
        await this.#removals.get(name);
        await this.#ensure(name, nodeId, a);
      }
      return await create();
    } finally {
      for (const name of names) {
        const left = (this.#creating.get(name) ?? 1) - 1;
        if (left > 0) this.#creating.set(name, left);
        else this.#creating.delete(name);
      }
    }
  }

  /**
   * The stack networks of `nodeId`: labelled with its node id, or (made before networks carried
   * it) labelled as a stack network and named for this node. Nothing else is ever listed.
   */
  async list(nodeId: string, options: CallOptions = {}): Promise<ObservedNetwork[]> {
    options.signal?.throwIfAborted();
    const all = await this.#docker.listNetworks({ filters: { label: [LABELS.stack] } });
    const suffix = `_${shortNodeId(nodeId)}`;
    return all
      .filter((n) => {
        const owner = n.Labels?.[LABELS.nodeId];
        return owner === undefined ? n.Name.endsWith(suffix) : owner === nodeId;
      })
      .map((n) => ({ id: n.Id, name: n.Name, stack: n.Labels?.[LABELS.stack] ?? '' }));
  }

  /**
   * Remove network `name` unless a container is on it or being created on it; whether it did.
   * A removal already in progress is waited for and the check made again (it may have decided
   * before the last container went).
   */
  async remove(name: string): Promise<boolean> {
    await this.#removals.get(name);
    if (this.#creating.has(name) || this.#removals.has(name)) return false;
    // Registered before the first await: a create that starts meanwhile waits for it.
    const removal = this.#removeIfUnused(name).finally(() => this.#removals.delete(name));
    this.#removals.set(name, removal);
    return removal;
  }

  #ensure(name: string, nodeId: string, a: RunnableAssignment): Promise<void> {
    let pending = this.#ensuring.get(name);
    if (!pending) {
      pending = this.#createIfMissing(name, nodeId, a);
      this.#ensuring.set(name, pending);
      pending.catch(() => this.#ensuring.delete(name));
    }
    return pending;
  }

  async #createIfMissing(name: string, nodeId: string, a: RunnableAssignment): Promise<void> {
    const all = await this.#docker.listNetworks({ filters: { name: [name] } });
    if (all.some((n) => n.Name === name)) return;
    // The node label makes it this node's to collect (network-gc.ts), level-triggered.
    const Labels = { [LABELS.stack]: a.service.stack, [LABELS.nodeId]: nodeId };
    await this.#docker.createNetwork({ Name: name, Driver: 'bridge', Labels });
  }

  async #removeIfUnused(name: string): Promise<boolean> {
    try {
      const network = this.#docker.getNetwork(name);
      const info = (await network.inspect()) as { Labels?: Record<string, string> };
      if (info.Labels?.[LABELS.stack] === undefined) return false; // not a stack network of shoal's
      // Stopped containers count too: one waiting to restart needs its network.
      const users = await this.#docker.listContainers({ all: true, filters: { network: [name] } });
      if (users.length > 0 || this.#creating.has(name)) return false;
      this.#ensuring.delete(name);
      await network.remove();
      return true;
    } catch {
      return false; // in use again, or gone already: either is fine
    }
  }
}
