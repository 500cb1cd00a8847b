/**
 * The score contract (Kubernetes' priority functions): 0–100 for a node that passed the filters,
 * higher is better; the pipeline sums scores weighted by their family.
 */
import type { NodeState } from '../accounting.js';
import type { GroupContext } from '../context.js';
import type { TaskGroup } from '../group.js';
import type { ScoreWeights } from '../types.js';

export interface Score {
  readonly name: string;
  /** Which weight in {@link ScoreWeights} multiplies this score. */
  readonly family: keyof ScoreWeights;
  /** False when the score has nothing to say for the group (it is then left out of the sum). */
  appliesTo(group: TaskGroup): boolean;
  /** 0–100 for placing one more task of `ctx.group` on `node`. */
  score(node: NodeState, ctx: GroupContext): number;
}
