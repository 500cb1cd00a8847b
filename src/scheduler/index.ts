/**
 * The placement scheduler: a pure function from a cluster snapshot and pending tasks to
 * placements, plus the parts it is built from (constraints, filters, scores, accounting) for
 * adapters, tests and explanations.
 */
export { schedule, resolveWeights, type ScheduleInternals } from './schedule.js';
export * from './types.js';
export { ConstraintSyntaxError, InvalidTaskError } from './errors.js';
export {
  type Constraint,
  type NodeAttribute,
  firstUnmet,
  matchConstraint,
  parseAttribute,
  parseConstraint,
  parseConstraints,
  readAttribute,
} from './constraints.js';
export { Accounting, type Claim, type NodeState, compareIds, portKey } from './accounting.js';
export { groupTasks, type NormalizedReservations, type TaskGroup } from './group.js';
export { GroupContext } from './context.js';
export { GroupPipeline, type Miss, type PipelineParts } from './pipeline.js';
export { CandidateTree } from './tree.js';
export { placeGroup, type Placed } from './place-group.js';
export { nodeOrder, seededRandom } from './order.js';
export { quantize } from './quantize.js';
export * from './filters/index.js';
export * from './scores/index.js';
