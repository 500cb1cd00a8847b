/**
 * Per-node resource accounting: what placed tasks hold on each node, updated as a batch places
 * tasks so that one `schedule()` call never overbooks a node. Built fresh from a snapshot for
 * every call (the snapshot itself is never mutated), which keeps `schedule()` pure.
 */
import type { ClusterSnapshot, HostPort, NodeView, Reservations } from './types.js';

/** A node plus everything allocated on it. Mutated only through {@link Accounting.place}. */
export interface NodeState {
  readonly view: NodeView;
  /** Position in the tie-break order (node id order, or a seeded shuffle of it). */
  readonly rank: number;
  cpusUsed: number;
  memoryUsed: number;
  /** Devices not held by any task, in the node's listed order (handed out from the front). */
  readonly freeGpus: string[];
  readonly genericUsed: Map<string, number>;
  /** `port/protocol` keys in use. */
  readonly ports: Set<string>;
  /** Tasks per service on this node. */
  readonly serviceCounts: Map<string, number>;
  taskCount: number;
}

/** The canonical key of a host port: `8080/tcp`. */
export function portKey(port: HostPort): string {
  return `${port.port}/${port.protocol ?? 'tcp'}`;
}

/** What a task takes from a node when placed. */
export interface Claim {
  readonly serviceId: string;
  readonly reservations?: Reservations;
  readonly ports?: readonly HostPort[];
  /** Devices the task already holds (placed tasks); more are taken if `reservations.gpus` asks for more. */
  readonly gpus?: readonly string[];
}

/** Compare strings by UTF-16 code units, locale-free, so orders are the same on every peer. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The allocation state of every node. */
export class Accounting {
  /** All nodes, ordered by rank. */
  readonly nodes: readonly NodeState[];
  readonly #byId = new Map<string, NodeState>();
  readonly #serviceTotals = new Map<string, number>();
  readonly #pathCaches = new Map<string, Map<NodeState, readonly string[]>>();

  /**
   * @param snapshot nodes and the tasks already placed on them (tasks on unknown nodes are ignored:
   *   their node is gone and its orchestrator will replace them).
   * @param order node ids in tie-break order; by default sorted by id.
   */
  constructor(snapshot: ClusterSnapshot, order?: readonly string[]) {
    const ids = order ?? snapshot.nodes.map((n) => n.id).sort(compareIds);
    const views = new Map(snapshot.nodes.map((n) => [n.id, n]));
    if (views.size !== snapshot.nodes.length) {
      const dup = snapshot.nodes.find((n, i) => snapshot.nodes.findIndex((m) => m.id === n.id) !== i)!;
      throw new RangeError(`Cannot schedule on a snapshot that lists node ${dup.id} twice: node ids must be unique`);
    }
    const nodes: NodeState[] = [];
    ids.forEach((id, rank) => {
      const view = views.get(id);
      if (view === undefined) return;
      const state: NodeState = {
        view,
        rank,
        cpusUsed: 0,
        memoryUsed: 0,
        freeGpus: [...(view.resources.gpus ?? [])],
        genericUsed: new Map(),
        ports: new Set((view.portsInUse ?? []).map(portKey)),
        serviceCounts: new Map(),
        taskCount: 0,
      };
      nodes.push(state);
      this.#byId.set(id, state);
    });
    this.nodes = nodes;
    for (const task of snapshot.tasks) {
      const node = this.#byId.get(task.nodeId);
      if (node !== undefined) this.place(node, task);
    }
  }

  get(nodeId: string): NodeState | undefined {
    return this.#byId.get(nodeId);
  }

  /**
   * A memo of nodes' preference paths (see `GroupContext.path`) shared by the groups of one call
   * that balance over the same attributes: labels do not change during a call, counts do not matter.
   */
  pathCache(preferencesKey: string): Map<NodeState, readonly string[]> {
    let cache = this.#pathCaches.get(preferencesKey);
    if (cache === undefined) this.#pathCaches.set(preferencesKey, (cache = new Map()));
    return cache;
  }

  /** Tasks of a service on all nodes. */
  serviceTotal(serviceId: string): number {
    return this.#serviceTotals.get(serviceId) ?? 0;
  }

  /**
   * Record a task on a node and return the GPU devices it holds there (undefined when none).
   * Does not check fit: filters do that before; placed tasks from a snapshot are counted as they are.
   */
  place(node: NodeState, claim: Claim): string[] | undefined {
    const r = claim.reservations;
    node.cpusUsed += r?.cpus ?? 0;
    node.memoryUsed += r?.memoryBytes ?? 0;
    if (r?.generic !== undefined) {
      for (const [name, n] of Object.entries(r.generic))
        node.genericUsed.set(name, (node.genericUsed.get(name) ?? 0) + n);
    }
    for (const p of claim.ports ?? []) node.ports.add(portKey(p));
    node.serviceCounts.set(claim.serviceId, (node.serviceCounts.get(claim.serviceId) ?? 0) + 1);
    node.taskCount += 1;
    this.#serviceTotals.set(claim.serviceId, this.serviceTotal(claim.serviceId) + 1);
    return takeGpus(node, claim.gpus ?? [], r?.gpus ?? 0);
  }
}

/** Take the named devices, then more from the front of the free list up to `count`. */
function takeGpus(node: NodeState, held: readonly string[], count: number): string[] | undefined {
  const taken: string[] = [];
  for (const id of held) {
    const i = node.freeGpus.indexOf(id);
    if (i >= 0) node.freeGpus.splice(i, 1);
    taken.push(id);
  }
  const more = Math.min(Math.max(0, count - taken.length), node.freeGpus.length);
  if (more > 0) taken.push(...node.freeGpus.splice(0, more));
  return taken.length > 0 ? taken : undefined;
}
