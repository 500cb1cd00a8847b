/**
 * The rollout commands (issue 15): their types and payload checks, merged into
 * `validateCommand`'s table.
 *
 * - `service.update` (a user, `shoal service update`): a new version of one service from a spec
 *   the agent built and checked (the current spec with the image or environment changed); `force`
 *   makes a new version with the same spec, so every task is replaced.
 * - `service.rollback` (a user, or the rollout controller on failure): a new version with an
 *   older version's spec, by default the last stable one.
 * - `service.promote` (a user): a canary rollout goes on past its canaries.
 * - `service.rollout` (the rollout controller): the rollout of `version` moved on (state, reason,
 *   counts). Stale (another version since): ignored.
 * @module
 */
import { boolean, integer, oneOf } from './check.js';
import type { CommandBase } from './commands.js';
import { ROLLOUT_STATES, type RolloutState } from './rollout.js';
import type { ServiceSpec } from '../stack/spec.js';
import { checkServiceId, checkServiceSpec, checkSpecHash, checkTaskMessage } from './workload-checks.js';
import type { PayloadCheck } from './workload-commands.js';

export interface ServiceUpdateCommand extends CommandBase {
  readonly type: 'service.update';
  readonly serviceId: string;
  readonly spec: ServiceSpec;
  /** `hashService(spec)`, computed by the proposer. */
  readonly specHash: string;
  readonly force: boolean;
  /**
   * The version the proposer built `spec` from: refused if the service moved on meanwhile (a
   * deploy between the read and the write would otherwise be overwritten).
   */
  readonly ifVersion?: number;
  /** Why, when no person asked: the image watch's `image watch: <tag> moved to <digest>` (its event, the rollout's reason). */
  readonly reason?: string;
}

export interface ServiceRollbackCommand extends CommandBase {
  readonly type: 'service.rollback';
  readonly serviceId: string;
  /** The version to go back to; absent: the last stable version before the current one. */
  readonly to?: number;
  /** Why (shown in `service ls`); absent: "rollback requested". */
  readonly reason?: string;
  /** The controller's guard: roll back only if the service is still at this version. */
  readonly ifVersion?: number;
}

export interface ServicePromoteCommand extends CommandBase {
  readonly type: 'service.promote';
  readonly serviceId: string;
}

export interface ServiceRolloutCommand extends CommandBase {
  readonly type: 'service.rollout';
  readonly serviceId: string;
  readonly version: number;
  readonly state: RolloutState;
  readonly reason: string;
  readonly updated: number;
  readonly failed: number;
  readonly total: number;
  /** Set when a task counted as updated since the last transition (the deadline restarts). */
  readonly progress: boolean;
  /** auto_promote: the canaries are promoted. */
  readonly promoted?: boolean;
}

export type RolloutCommand =
  ServiceUpdateCommand | ServiceRollbackCommand | ServicePromoteCommand | ServiceRolloutCommand;

const version = (v: unknown, path: string): number => integer(v, path, 1);
const count = (v: unknown, path: string): number => integer(v, path, 0, 10_000_000);

export const ROLLOUT_PAYLOADS: { readonly [T in RolloutCommand['type']]: PayloadCheck } = {
  'service.update': {
    fields: ['serviceId', 'spec', 'specHash', 'force'],
    optional: ['ifVersion', 'reason'],
    check: (c) => ({
      serviceId: checkServiceId(c.serviceId, 'serviceId'),
      spec: checkServiceSpec(c.spec, 'spec'),
      specHash: checkSpecHash(c.specHash, 'specHash'),
      force: boolean(c.force, 'force'),
      ...(c.ifVersion === undefined ? {} : { ifVersion: version(c.ifVersion, 'ifVersion') }),
      ...(c.reason === undefined ? {} : { reason: checkTaskMessage(c.reason, 'reason') }),
    }),
  },
  'service.rollback': {
    fields: ['serviceId'],
    optional: ['to', 'reason', 'ifVersion'],
    check: (c) => ({
      serviceId: checkServiceId(c.serviceId, 'serviceId'),
      ...(c.to === undefined ? {} : { to: version(c.to, 'to') }),
      ...(c.reason === undefined ? {} : { reason: checkTaskMessage(c.reason, 'reason') }),
      ...(c.ifVersion === undefined ? {} : { ifVersion: version(c.ifVersion, 'ifVersion') }),
    }),
  },
  'service.promote': { fields: ['serviceId'], check: (c) => ({ serviceId: checkServiceId(c.serviceId, 'serviceId') }) },
  'service.rollout': {
    fields: ['serviceId', 'version', 'state', 'reason', 'updated', 'failed', 'total', 'progress'],
    optional: ['promoted'],
    check: (c) => ({
      serviceId: checkServiceId(c.serviceId, 'serviceId'),
      version: version(c.version, 'version'),
      state: oneOf(c.state, 'state', ROLLOUT_STATES),
      reason: checkTaskMessage(c.reason, 'reason'),
      updated: count(c.updated, 'updated'),
      failed: count(c.failed, 'failed'),
      total: count(c.total, 'total'),
      progress: boolean(c.progress, 'progress'),
      ...(c.promoted === undefined ? {} : { promoted: boolean(c.promoted, 'promoted') }),
    }),
  },
};
