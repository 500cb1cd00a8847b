/**
 * The queue's accounting: the scheduler's {@link Accounting} plus the inverse of `place()`, so the
 * planner can try a gang or a preemption tentatively and roll it back, and keep several views of
 * the same cluster (now, now with backfill holds, after terminations) in step.
 */
import { Accounting, type Claim, type NodeState, portKey } from '../accounting.js';
import type { ClusterSnapshot, NodeView, Reservations } from '../types.js';

/** A claim held on a node, with the devices it got and when it frees its node (ms; Infinity: never). */
export interface HeldClaim {
  readonly nodeId: string;
  readonly claim: Claim;
  readonly end: number;
}

/** Accounting that can also remove what it placed. */
export class QueueAccounting extends Accounting {
  // `Accounting` keeps per-service totals privately; removals are tracked here and folded back in on
  // the next `place()` of the service (which rewrites the private total from `serviceTotal()`).
  // Not a #private field: `place()` runs inside the base constructor, before fields exist.
  protected removed: Map<string, number> | undefined;

  constructor(snapshot: ClusterSnapshot, order?: readonly string[]) {
    super(snapshot, order);
    this.removed = new Map();
  }

  override serviceTotal(serviceId: string): number {
    return super.serviceTotal(serviceId) - (this.removed?.get(serviceId) ?? 0);
  }

  override place(node: NodeState, claim: Claim): string[] | undefined {
    const gpus = super.place(node, claim);
    this.removed?.delete(claim.serviceId);
    return gpus;
  }

  /** Undo `place(node, claim)` that returned `gpus`. */
  unplace(node: NodeState, claim: Claim, gpus: readonly string[] | undefined): void {
    const r = claim.reservations;
    node.cpusUsed -= r?.cpus ?? 0;
    node.memoryUsed -= r?.memoryBytes ?? 0;
    if (r?.generic !== undefined) {
      for (const [name, n] of Object.entries(r.generic))
        node.genericUsed.set(name, (node.genericUsed.get(name) ?? 0) - n);
    }
    const fixed = new Set((node.view.portsInUse ?? []).map(portKey));
    for (const p of claim.ports ?? []) if (!fixed.has(portKey(p))) node.ports.delete(portKey(p));
    node.serviceCounts.set(claim.serviceId, (node.serviceCounts.get(claim.serviceId) ?? 1) - 1);
    node.taskCount -= 1;
    this.removed!.set(claim.serviceId, (this.removed!.get(claim.serviceId) ?? 0) + 1);
    if (gpus !== undefined && gpus.length > 0) {
      // Give devices back in the node's listed order, so later picks stay deterministic.
      const free = new Set([...node.freeGpus, ...gpus]);
      node.freeGpus.length = 0;
      for (const id of node.view.resources.gpus ?? []) if (free.has(id)) node.freeGpus.push(id);
    }
  }

  /**
   * Place on this accounting's node of the same id a claim another view already placed with
   * `gpus`. A device that is not free here (held back by an anonymous hold) is swapped for another.
   */
  mirror(nodeId: string, claim: Claim, gpus: readonly string[] | undefined): string[] | undefined {
    const node = this.get(nodeId);
    if (node === undefined) return undefined;
    const named = gpus?.filter((id) => node.freeGpus.includes(id));
    return this.place(node, named === undefined ? claim : { ...claim, gpus: named });
  }
}

/** A fresh accounting holding `claims` (nothing of the snapshot's tasks). */
export function accountingOf(
  nodes: readonly NodeView[],
  order: readonly string[],
  claims: readonly HeldClaim[],
): QueueAccounting {
  const acc = new QueueAccounting({ nodes, tasks: [] }, order);
  for (const held of claims) {
    const node = acc.get(held.nodeId);
    if (node !== undefined) acc.place(node, held.claim);
  }
  return acc;
}

/** Resource amounts as plain numbers (every field present). */
export interface Amounts {
  cpus: number;
  memoryBytes: number;
  gpus: number;
  generic: Map<string, number>;
}

export function emptyAmounts(): Amounts {
  return { cpus: 0, memoryBytes: 0, gpus: 0, generic: new Map() };
}

/** `into += r * times`. */
export function addAmounts(into: Amounts, r: Reservations | undefined, times = 1): void {
  if (r === undefined) return;
  into.cpus += (r.cpus ?? 0) * times;
  into.memoryBytes += (r.memoryBytes ?? 0) * times;
  into.gpus += (r.gpus ?? 0) * times;
  for (const [name, n] of Object.entries(r.generic ?? {}))
    into.generic.set(name, (into.generic.get(name) ?? 0) + n * times);
}

/** `max(0, a - b)` per resource, as reservations (absent where zero). */
export function excess(a: Amounts, b: Amounts): Reservations | undefined {
  const generic: Record<string, number> = {};
  let any = false;
  for (const [name, n] of a.generic) {
    const d = n - (b.generic.get(name) ?? 0);
    if (d > 0) {
      generic[name] = d;
      any = true;
    }
  }
  const cpus = Math.max(0, a.cpus - b.cpus);
  const memoryBytes = Math.max(0, a.memoryBytes - b.memoryBytes);
  const gpus = Math.max(0, a.gpus - b.gpus);
  if (cpus === 0 && memoryBytes === 0 && gpus === 0 && !any) return undefined;
  return { cpus, memoryBytes, gpus, ...(any ? { generic } : {}) };
}
