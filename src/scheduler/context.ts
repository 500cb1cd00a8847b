/**
 * What the scores of one group need beyond a single node: the count scale, and the number of the
 * service's tasks under each value of each placement preference, updated as the group places.
 */
import type { Accounting, NodeState } from './accounting.js';
import { readAttribute } from './constraints.js';
import type { TaskGroup } from './group.js';
import { quantize } from './quantize.js';
import type { ScoreWeights } from './types.js';

export class GroupContext {
  readonly group: TaskGroup;
  readonly weights: ScoreWeights;
  /**
   * An upper bound of any count the group's scores see (the service's tasks before the group plus
   * the group's size): counts are scaled by it, so one more task moves every count-based score by
   * the same amount and their weights compare directly.
   */
  readonly scale: number;
  /** Each preference level's share of the preferences score: each level counts twice the next. */
  readonly levelShares: readonly number[];
  readonly #counts: Map<string, number>[];
  readonly #paths: Map<NodeState, readonly string[]>;

  /**
   * @param eligible nodes that pass the group's filters now: as in swarmkit, preferences balance
   *   the tasks on eligible nodes only (tasks on a draining node are on their way out).
   */
  constructor(group: TaskGroup, cluster: Accounting, eligible: readonly NodeState[], weights: ScoreWeights) {
    this.group = group;
    this.weights = weights;
    this.scale = cluster.serviceTotal(group.serviceId) + group.taskIds.length;
    const raw = group.preferences.map((_, i) => 2 ** -i);
    const sum = raw.reduce((a, b) => a + b, 0);
    this.levelShares = raw.map((r) => r / sum);
    this.#counts = group.preferences.map(() => new Map());
    this.#paths = group.preferences.length > 0 ? cluster.pathCache(JSON.stringify(group.preferences)) : new Map();
    if (group.preferences.length > 0) {
      for (const node of eligible) {
        const n = node.serviceCounts.get(group.serviceId) ?? 0;
        if (n > 0) this.#add(node, n);
      }
    }
  }

  /** The node's key at each preference level: its values of levels 0..i joined. */
  path(node: NodeState): readonly string[] {
    let path = this.#paths.get(node);
    if (path === undefined) {
      const keys: string[] = [];
      let key = '';
      for (const attribute of this.group.preferences) {
        key =
          keys.length === 0
            ? readAttribute(node.view, attribute)
            : `${key}\u0000${readAttribute(node.view, attribute)}`;
        keys.push(key);
      }
      this.#paths.set(node, (path = keys));
    }
    return path;
  }

  /** Tasks of the service (on eligible nodes) under a preference key. */
  levelCount(level: number, key: string): number {
    return this.#counts[level]?.get(key) ?? 0;
  }

  /** 0–100: 100 for a value with no task of the service, falling linearly with its count. */
  levelScore(level: number, key: string): number {
    return 100 * (1 - this.levelCount(level, key) / this.scale);
  }

  /** Weighted contribution of one preference level to a node's total score, in quantized units. */
  levelTerm(level: number, key: string): number {
    return quantize(this.weights.preferences * this.levelShares[level]! * this.levelScore(level, key));
  }

  /** Record one more task of the group on `node`. */
  onPlaced(node: NodeState): void {
    if (this.group.preferences.length > 0) this.#add(node, 1);
  }

  #add(node: NodeState, n: number): void {
    const path = this.path(node);
    path.forEach((key, level) => {
      const counts = this.#counts[level]!;
      counts.set(key, (counts.get(key) ?? 0) + n);
    });
  }
}
