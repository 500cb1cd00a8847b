/**
 * The per-group pipeline: which filters and scores apply to a group, whether a node passes, what a
 * node scores, which of two nodes is better, and — when nothing fits — why, counted per filter
 * and per reason (swarmkit's `Pipeline.Explain`).
 */
import type { Accounting, NodeState } from './accounting.js';
import { GroupContext } from './context.js';
import { quantize } from './quantize.js';
import { DEFAULT_FILTERS, type Filter } from './filters/index.js';
import type { TaskGroup } from './group.js';
import { DEFAULT_SCORES, type Score } from './scores/index.js';
import type { Rejection, ScoreWeights } from './types.js';

/** The first filter that turned a node down, and its reason. */
export interface Miss {
  readonly filter: Filter;
  readonly detail: string;
}

/** Filters and scores to use; defaults to all of them. */
export interface PipelineParts {
  readonly filters?: readonly Filter[];
  readonly scores?: readonly Score[];
}

export class GroupPipeline {
  readonly group: TaskGroup;
  readonly cluster: Accounting;
  readonly ctx: GroupContext;
  /** Nodes passing every filter when the group started. */
  readonly eligible: readonly NodeState[];
  readonly #filters: readonly Filter[];
  readonly #dynamic: readonly Filter[];
  readonly #scores: readonly Score[];
  readonly #levels: number;
  readonly #spread: boolean;

  constructor(group: TaskGroup, cluster: Accounting, weights: ScoreWeights, parts: PipelineParts = {}) {
    this.group = group;
    this.cluster = cluster;
    this.#filters = (parts.filters ?? DEFAULT_FILTERS).filter((f) => f.appliesTo(group));
    this.#dynamic = this.#filters.filter((f) => f.dynamic);
    // Preferences are summed per attribute value (GroupContext.levelTerm), not per node.
    this.#scores = (parts.scores ?? DEFAULT_SCORES).filter(
      (s) => s.family !== 'preferences' && s.appliesTo(group) && weights[s.family] !== 0,
    );
    this.#levels = group.preferences.length;
    this.#spread = group.strategy === 'spread';
    this.eligible = cluster.nodes.filter((n) => this.check(n) === undefined);
    this.ctx = new GroupContext(group, cluster, this.eligible, weights);
  }

  /** The first filter the node fails for one more task of the group, or undefined if it passes. */
  check(node: NodeState): Miss | undefined {
    for (const filter of this.#filters) {
      const verdict = filter.check(node, this.group, this.cluster);
      if (verdict !== true) return { filter, detail: verdict };
    }
    return undefined;
  }

  /** Whether a node that passed {@link check} still passes after a task was placed on it. */
  stillFits(node: NodeState): boolean {
    for (const filter of this.#dynamic) if (filter.check(node, this.group, this.cluster) !== true) return false;
    return true;
  }

  /** The weighted sum of the node's own scores (everything but preferences). */
  local(node: NodeState): number {
    let sum = 0;
    for (const s of this.#scores) sum += quantize(this.ctx.weights[s.family] * s.score(node, this.ctx));
    return sum;
  }

  /**
   * The node's total: the local score plus each preference level's term. Terms are integers (see
   * {@link quantize}), so any order of addition gives the same sum.
   */
  total(node: NodeState): number {
    let acc = this.local(node);
    if (this.#levels > 0) {
      const path = this.ctx.path(node);
      for (let level = this.#levels - 1; level >= 0; level--) acc = this.ctx.levelTerm(level, path[level]!) + acc;
    }
    return acc;
  }

  /**
   * Whether a node with score `a` beats one with score `b`: higher score; on a tie, fewer tasks in
   * total (spread) or more (binpack); then lower rank (node id order or the seeded shuffle).
   */
  better(a: number, an: NodeState, b: number, bn: NodeState): boolean {
    if (a !== b) return a > b;
    if (an.taskCount !== bn.taskCount) return this.#spread ? an.taskCount < bn.taskCount : an.taskCount > bn.taskCount;
    return an.rank < bn.rank;
  }

  /**
   * Why no node fits now: every node's first failing filter, counted by filter and reason, in
   * filter order. `reason` reads `no suitable node (1 node draining; insufficient memory on 2 nodes)`.
   */
  explain(): { reason: string; rejections: Rejection[] } {
    const counts = new Map<string, { miss: Miss; order: number; nodes: number }>();
    for (const node of this.cluster.nodes) {
      const miss = this.check(node);
      if (miss === undefined) continue;
      const key = `${miss.filter.name}\u0000${miss.detail}`;
      const entry = counts.get(key);
      if (entry !== undefined) entry.nodes += 1;
      else counts.set(key, { miss, order: this.#filters.indexOf(miss.filter), nodes: 1 });
    }
    const rejections = [...counts.values()]
      .sort((a, b) => a.order - b.order)
      .map(({ miss, nodes }) => ({
        filter: miss.filter.name,
        detail: miss.detail,
        nodes,
        message: miss.filter.explain(nodes, miss.detail),
      }));
    const why =
      this.cluster.nodes.length === 0 ? 'the cluster has no nodes' : rejections.map((r) => r.message).join('; ');
    return { reason: `no suitable node (${why})`, rejections };
  }
}
