/** The placement filters, in the order the pipeline applies them (cheap and static first). */
import { affinityFilter } from './affinity.js';
import { availabilityFilter } from './availability.js';
import { constraintFilter } from './constraints.js';
import type { Filter } from './filter.js';
import { maxPerNodeFilter } from './max-per-node.js';
import { portsFilter } from './ports.js';
import { resourcesFilter } from './resources.js';

export type { Filter, Verdict } from './filter.js';
export { affinityFilter, availabilityFilter, constraintFilter, maxPerNodeFilter, portsFilter, resourcesFilter };

/** Every filter, in pipeline order. */
export const DEFAULT_FILTERS: readonly Filter[] = Object.freeze([
  availabilityFilter,
  constraintFilter,
  resourcesFilter,
  portsFilter,
  maxPerNodeFilter,
  affinityFilter,
]);
