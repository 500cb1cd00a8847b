/**
 * The filter contract (swarmkit's `Filter`): a tiny stateless object that says whether a node can
 * take one more task of a group, and explains a count of rejections in words.
 */
import type { Accounting, NodeState } from '../accounting.js';
import type { TaskGroup } from '../group.js';

/** `true` when the node passes, otherwise a short reason (`memory`, the unmet constraint...). */
export type Verdict = true | string;

export interface Filter {
  /** Stable name, reported in {@link Rejection.filter}. */
  readonly name: string;
  /**
   * Whether the verdict for a node can change when a task of the group is placed on that node
   * (resources, ports, counts). Static filters are checked once per group.
   */
  readonly dynamic: boolean;
  /** False when the group asks for nothing this filter checks: the pipeline skips it. */
  appliesTo(group: TaskGroup): boolean;
  /** Can `node` take one more task of `group`, given what is allocated in `cluster`? */
  check(node: NodeState, group: TaskGroup, cluster: Accounting): Verdict;
  /** Words for `count` nodes rejected for `detail`: `insufficient memory on 2 nodes`. */
  explain(count: number, detail: string): string;
}

/** `1 node`, `3 nodes`. */
export function nodes(count: number): string {
  return count === 1 ? '1 node' : `${count} nodes`;
}
