/**
 * Cron for batch work: parsing and evaluating cron schedules in IANA time zones (with daylight saving
 * time), and the pure cron controller that decides which scheduled runs to start, skip or replace.
 * @module
 */
export { CronNeverFiresError, CronSyntaxError } from './errors.js';
export { parseCron, dayMatches, type CronSchedule } from './parse.js';
export { fireTimesBetween, latestFireTime, nextFireTime } from './next.js';
export {
  DEFAULT_ON_TIME_TOLERANCE_MS,
  reconcileCron,
  type CronDecision,
  type CronInput,
  type CronRun,
  type CronService,
} from './reconcile.js';
export { runsToForget, type CronRunOutcome } from './history.js';
