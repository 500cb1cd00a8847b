/**
 * Rollouts in the replicated state (issue 15): per service, the state of its current rollout and
 * the history of its last versions, both optional fields of the service record so snapshots made
 * before they existed still load.
 *
 * Versions: every spec change (deploy, `service update`, rollback) makes a new version number;
 * tasks record the version they run. A rollback is a new version with an older version's spec
 * (as Kubernetes does with revisions), so version numbers only grow. Two versions with the same
 * spec hash and the same force counter run identical tasks: a task of either counts as current
 * (see {@link currentVersions}), so a rollback leaves the tasks that were never updated alone,
 * as Swarm's does.
 * @module
 */
import { DEFAULT_PROGRESS_DEADLINE_MS } from '../stack/rollout-spec.js';
import type { ServiceSpec } from '../stack/spec.js';
import { at, boolean, fail, integer, list, object, oneOf } from './check.js';
import { checkTime } from './model.js';
import { checkServiceSpec, checkSpecHash, checkTaskMessage } from './workload-checks.js';
import type { ServiceRecord } from './workloads.js';

/**
 * Where a rollout stands:
 * - `updating`: replacing tasks with the new version;
 * - `awaiting_promotion`: its canaries are up; it waits for `shoal service promote`;
 * - `paused`: it stopped after failures or its progress deadline (failure_action pause);
 * - `rolling_back`: going back to the last healthy version (automatic or `shoal service rollback`);
 * - `rollback_paused`: the rollback itself failed (a rollback is never rolled back);
 * - `completed` / `rolled_back`: every task runs the version, healthy.
 */
export type RolloutState =
  'updating' | 'awaiting_promotion' | 'paused' | 'rolling_back' | 'rollback_paused' | 'completed' | 'rolled_back';
export const ROLLOUT_STATES: readonly RolloutState[] = [
  'updating',
  'awaiting_promotion',
  'paused',
  'rolling_back',
  'rollback_paused',
  'completed',
  'rolled_back',
];

/** The states in which the rollout controller still acts (and a pass must plan the service whole). */
export function isRolloutActive(state: RolloutState): boolean {
  return state === 'updating' || state === 'awaiting_promotion' || state === 'rolling_back';
}

export interface RolloutStatus {
  readonly state: RolloutState;
  /** Why it is in this state (the failure, the deadline, who asked), '' when nothing to say. */
  readonly reason: string;
  /** The version it started from (0: the service was created). */
  readonly fromVersion: number;
  /** The version it rolls out (the service's version). */
  readonly toVersion: number;
  readonly startedAt: number;
  readonly updatedAt: number;
  /** When the last task counted as updated (the progress deadline runs from here). */
  readonly progressAt: number;
  /** Tasks of the new version counted as updated, and as failed, at the last transition. */
  readonly updated: number;
  readonly failed: number;
  /** Tasks wanted (replicas, or eligible nodes). */
  readonly total: number;
  /** Canary rollouts: promoted by `shoal service promote` or auto_promote. */
  readonly promoted: boolean;
}

/** One version of a service, kept in its history (the last {@link HISTORY_LIMIT}). */
export interface VersionEntry {
  readonly version: number;
  readonly spec: ServiceSpec;
  readonly specHash: string;
  /** Bumped by `service update --force`: same spec, new tasks. */
  readonly force: number;
  readonly createdAt: number;
  /** Its rollout completed: all its tasks were healthy. Automatic rollback goes to such a version. */
  readonly stable: boolean;
  /** Set when this version is a rollback to that version. */
  readonly rollbackOf?: number;
}

/** Versions kept per service (Kubernetes' revisionHistoryLimit). */
export const HISTORY_LIMIT = 10;

export { DEFAULT_PROGRESS_DEADLINE_MS };

/** The `x-shoal.update` settings with their defaults. */
export interface RolloutSettings {
  readonly canary: number;
  readonly autoPromote: boolean;
  readonly progressDeadlineMs: number;
}

/** A service's `x-shoal.update`, defaulted. */
export function rolloutSettings(spec: ServiceSpec): RolloutSettings {
  return {
    canary: spec.rollout?.canary ?? 0,
    autoPromote: spec.rollout?.autoPromote ?? false,
    progressDeadlineMs: spec.rollout?.progressDeadlineMs ?? DEFAULT_PROGRESS_DEADLINE_MS,
  };
}

/** The history entry of the service's current version, if it has a history. */
export function currentEntry(service: ServiceRecord): VersionEntry | undefined {
  return service.history?.find((e) => e.version === service.version);
}

/**
 * The versions whose tasks are identical to the current version's (same spec hash and force
 * counter), the current one included.
 */
export function currentVersions(service: ServiceRecord): ReadonlySet<number> {
  const current = currentEntry(service);
  const out = new Set([service.version]);
  if (current === undefined) return out;
  for (const e of service.history ?? [])
    if (e.specHash === current.specHash && e.force === current.force) out.add(e.version);
  return out;
}

/**
 * The record for a new version of `service` (its spec already replaced): the history gets the
 * entry, capped, and a replicated or global service starts a rollout from `fromVersion`.
 */
function withNewVersion(
  service: ServiceRecord,
  fromVersion: number,
  at: number,
  options: { readonly force?: number; readonly rollbackOf?: number; readonly reason?: string } = {},
): ServiceRecord {
  const entry: VersionEntry = {
    version: service.version,
    spec: service.spec,
    specHash: service.specHash,
    force: options.force ?? 0,
    createdAt: at,
    stable: false,
    ...(options.rollbackOf === undefined ? {} : { rollbackOf: options.rollbackOf }),
  };
  const history = [...(service.history ?? []).filter((e) => e.version !== entry.version), entry].slice(-HISTORY_LIMIT);
  const { rollout: _old, ...rest } = service;
  if (service.spec.kind !== 'replicated' && service.spec.kind !== 'global') return { ...rest, history };
  const rollout: RolloutStatus = {
    state: options.rollbackOf === undefined ? 'updating' : 'rolling_back',
    reason: options.reason ?? '',
    fromVersion,
    toVersion: service.version,
    startedAt: at,
    updatedAt: at,
    progressAt: at,
    updated: 0,
    failed: 0,
    total: 0,
    promoted: false,
  };
  return { ...rest, history, rollout };
}

/**
 * The history of a service before a new version: its own, or for a service from before rollouts
 * (no history) one entry for its current version, taken as stable (it has been running).
 */
export function historyOf(service: ServiceRecord): readonly VersionEntry[] {
  if (service.history !== undefined) return service.history;
  const { version, spec, specHash, updatedAt } = service;
  return [{ version, spec, specHash, force: 0, createdAt: updatedAt, stable: true }];
}

/**
 * `next` (a new version of `previous`, or a new service when `previous` is undefined) with its
 * history entry and, for replicated and global services, a fresh rollout.
 */
export function nextVersion(
  previous: ServiceRecord | undefined,
  next: ServiceRecord,
  at: number,
  options: { readonly force?: number; readonly rollbackOf?: number; readonly reason?: string } = {},
): ServiceRecord {
  const seeded = previous === undefined ? { ...next, history: [] } : { ...next, history: historyOf(previous) };
  return withNewVersion(seeded, previous?.version ?? 0, at, options);
}

/**
 * The version an automatic rollback goes to: the newest stable version before the current one
 * whose spec differs from it; undefined when there is none.
 */
export function lastStableVersion(service: ServiceRecord): VersionEntry | undefined {
  const current = currentEntry(service);
  const older = (service.history ?? []).filter(
    (e) => e.version < service.version && e.stable && (current === undefined || e.specHash !== current.specHash),
  );
  return older[older.length - 1];
}

// ---------------------------------------------------------------------------------------------
// Checks (snapshots and the spec's `rollout` field).
// ---------------------------------------------------------------------------------------------

export function checkRolloutStatus(v: unknown, path: string): RolloutStatus {
  const r = object(v, path, [
    'state',
    'reason',
    'fromVersion',
    'toVersion',
    'startedAt',
    'updatedAt',
    'progressAt',
    'updated',
    'failed',
    'total',
    'promoted',
  ]);
  return {
    state: oneOf(r.state, at(path, 'state'), ROLLOUT_STATES),
    reason: checkTaskMessage(r.reason, at(path, 'reason')),
    fromVersion: integer(r.fromVersion, at(path, 'fromVersion'), 0),
    toVersion: integer(r.toVersion, at(path, 'toVersion'), 1),
    startedAt: checkTime(r.startedAt, at(path, 'startedAt')),
    updatedAt: checkTime(r.updatedAt, at(path, 'updatedAt')),
    progressAt: checkTime(r.progressAt, at(path, 'progressAt')),
    updated: integer(r.updated, at(path, 'updated'), 0),
    failed: integer(r.failed, at(path, 'failed'), 0),
    total: integer(r.total, at(path, 'total'), 0),
    promoted: boolean(r.promoted, at(path, 'promoted')),
  };
}

function checkVersionEntry(v: unknown, path: string): VersionEntry {
  const e = object(
    v,
    path,
    ['version', 'spec', 'specHash', 'force', 'createdAt', 'stable', 'rollbackOf'],
    ['version', 'spec', 'specHash', 'force', 'createdAt', 'stable'],
  );
  return {
    version: integer(e.version, at(path, 'version'), 1),
    spec: checkServiceSpec(e.spec, at(path, 'spec')),
    specHash: checkSpecHash(e.specHash, at(path, 'specHash')),
    force: integer(e.force, at(path, 'force'), 0),
    createdAt: checkTime(e.createdAt, at(path, 'createdAt')),
    stable: boolean(e.stable, at(path, 'stable')),
    ...(e.rollbackOf === undefined ? {} : { rollbackOf: integer(e.rollbackOf, at(path, 'rollbackOf'), 1) }),
  };
}

export function checkHistory(v: unknown, path: string): VersionEntry[] {
  const entries = list(v, path, HISTORY_LIMIT, checkVersionEntry);
  entries.forEach((e, i) => {
    if (i > 0 && entries[i - 1]!.version >= e.version) fail(at(path, i), 'expected versions in increasing order');
  });
  return entries;
}
