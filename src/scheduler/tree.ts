/**
 * The candidate nodes of one group, arranged so the best node is found in O(depth · log n) and
 * a placement is absorbed in the same time.
 *
 * A node's total is its local score plus one term per preference level, and that term depends
 * only on the node's value at that level (its zone, say). So nodes sit in a tree — one level per
 * preference, like swarmkit's decision tree — where every partition keeps its children in a heap
 * keyed by "partition term + best child's key". Placing on a node changes its own local score and
 * the terms of the partitions on its path, nothing else: only that path is re-keyed.
 */
import type { NodeState } from './accounting.js';
import { type HeapItem, IndexedHeap } from './heap.js';
import type { GroupPipeline } from './pipeline.js';

interface Entry extends HeapItem {
  /** The best total reachable in this subtree (for a leaf, the node's local score). */
  key: number;
  /** The node that reaches it. */
  leaf: NodeState;
}

/** Entries kept best first: the root's, or a partition's children. */
interface Scope {
  readonly heap: IndexedHeap<Entry>;
}

interface Leaf extends Entry {
  readonly parent: Scope | Partition;
}

interface Partition extends Entry, Scope {
  readonly level: number;
  readonly pathKey: string;
  readonly parent: Scope | Partition;
}

function isPartition(scope: Scope | Partition): scope is Partition {
  return 'parent' in scope;
}

export class CandidateTree {
  readonly #pipeline: GroupPipeline;
  readonly #root: Scope;
  readonly #leaves = new Map<NodeState, Leaf>();

  /** Arrange `nodes` (which must pass the pipeline's filters) by the pipeline's scores. */
  constructor(pipeline: GroupPipeline, nodes: readonly NodeState[]) {
    this.#pipeline = pipeline;
    this.#root = { heap: this.#heap() };
    const levels = pipeline.group.preferences.length;
    const byLevel: Map<string, Partition>[] = Array.from({ length: levels }, () => new Map());
    for (const node of nodes) {
      const path = pipeline.ctx.path(node);
      let parent: Scope | Partition = this.#root;
      for (let level = 0; level < levels; level++) {
        let p = byLevel[level]!.get(path[level]!);
        if (p === undefined) {
          // keyed for real by #refresh once its children are in
          p = { heapIndex: -1, key: 0, leaf: node, level, pathKey: path[level]!, parent, heap: this.#heap() };
          byLevel[level]!.set(path[level]!, p);
        }
        parent = p;
      }
      const leaf: Leaf = { heapIndex: -1, key: pipeline.local(node), leaf: node, parent };
      parent.heap.push(leaf);
      this.#leaves.set(node, leaf);
    }
    // Innermost partitions first, so each one's key is known when it joins its parent's heap.
    for (let level = levels - 1; level >= 0; level--) {
      for (const p of byLevel[level]!.values()) {
        this.#refresh(p);
        p.parent.heap.push(p);
      }
    }
  }

  /** Candidates left. */
  get size(): number {
    return this.#leaves.size;
  }

  /** The best candidate, or undefined when none is left. */
  best(): NodeState | undefined {
    return this.#root.heap.peek()?.leaf;
  }

  /**
   * Absorb a placement on `node` (after the accounting and the group context recorded it): the
   * node is re-scored, or dropped if it no longer fits, and its ancestors are re-keyed.
   */
  placed(node: NodeState): void {
    const leaf = this.#leaves.get(node);
    if (leaf === undefined)
      throw new RangeError(`Cannot absorb a placement on node ${node.view.id}: it is not a candidate of this group`);
    if (this.#pipeline.stillFits(node)) {
      leaf.key = this.#pipeline.local(node);
      leaf.parent.heap.update(leaf);
    } else {
      leaf.parent.heap.remove(leaf);
      this.#leaves.delete(node);
    }
    for (let p = leaf.parent; isPartition(p); p = p.parent) {
      if (p.heap.size === 0) {
        p.parent.heap.remove(p);
      } else {
        this.#refresh(p);
        p.parent.heap.update(p);
      }
    }
  }

  #heap(): IndexedHeap<Entry> {
    const pipeline = this.#pipeline;
    return new IndexedHeap<Entry>((a, b) => pipeline.better(a.key, a.leaf, b.key, b.leaf));
  }

  #refresh(p: Partition): void {
    const top = p.heap.peek()!;
    p.key = this.#pipeline.ctx.levelTerm(p.level, p.pathKey) + top.key;
    p.leaf = top.leaf;
  }
}
