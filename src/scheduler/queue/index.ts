/**
 * The batch queue: orders pending tasks (priority, fair share, age), backfills, preempts, starts
 * gangs whole, enforces namespace quotas and explains why each task waits. A pure function on top
 * of the placement scheduler.
 */
export { planQueue, DEFAULT_MAX_RESERVATIONS, PREEMPTION_SEARCHES } from './plan.js';
export { orderQueue, fairShareKey } from './order.js';
export { DEFAULT_PREEMPTION_GRACE_MS, endsWithin } from './preempt.js';
export * from './types.js';
export { accrueUsage, decay } from './fairshare.js';
export { neverFits } from './capacity.js';
