/**
 * Applying the rollout commands (see rollout-commands.ts). Same rules as the other apply files:
 * pure, times from `at`, every refusal decided before anything is built, and a command that
 * changes nothing (a stale controller transition) returns the very same state.
 * @module
 * @private
 */
import type { ApplyOutcome } from './apply.js';
import type { IndexedState } from './indexed-state.js';
import {
  currentEntry,
  historyOf,
  lastStableVersion,
  nextVersion,
  rolloutSettings,
  type RolloutStatus,
  type VersionEntry,
} from './rollout.js';
import type {
  RolloutCommand,
  ServicePromoteCommand,
  ServiceRollbackCommand,
  ServiceRolloutCommand,
  ServiceUpdateCommand,
} from './rollout-commands.js';
import type { ServiceRecord } from './workloads.js';

/** Apply a rollout command to an initialized cluster's state. */
export function applyRollout(state: IndexedState, command: RolloutCommand): ApplyOutcome {
  const service = Object.hasOwn(state.services, command.serviceId) ? state.services[command.serviceId] : undefined;
  if (service === undefined) {
    // The controller's transition for a service removed meanwhile: nothing left to record.
    if (command.type === 'service.rollout') return ok(state);
    return refuse(command, `service ${command.serviceId} does not exist: check the id with \`shoal service ls\``);
  }
  if (command.type !== 'service.rollout' && service.spec.kind !== 'replicated' && service.spec.kind !== 'global')
    return refuse(command, `service ${service.id} is a ${service.spec.kind}: only services have rollouts`);
  switch (command.type) {
    case 'service.update':
      return update(state, service, command);
    case 'service.rollback':
      return rollback(state, service, command);
    case 'service.promote':
      return promote(state, service, command);
    case 'service.rollout':
      return transition(state, service, command);
  }
}

function update(state: IndexedState, service: ServiceRecord, command: ServiceUpdateCommand): ApplyOutcome {
  if (command.spec.name !== service.name)
    return refuse(command, `spec.name: expected ${service.name} (the service's name), got ${command.spec.name}`);
  if (command.spec.kind !== service.spec.kind)
    return refuse(command, `spec.kind: a ${service.spec.kind} service stays one, got ${command.spec.kind}`);
  if (command.ifVersion !== undefined && command.ifVersion !== service.version)
    return refuse(
      command,
      `service ${service.id} changed meanwhile (version ${service.version}, the update was made from ${command.ifVersion}): run it again`,
    );
  if (command.specHash === service.specHash && !command.force) return ok(state);
  const force = command.force ? (currentEntry(service)?.force ?? 0) + 1 : 0;
  const next: ServiceRecord = {
    ...service,
    spec: command.spec,
    specHash: command.specHash,
    version: service.version + 1,
    updatedAt: command.at,
  };
  const reason = command.reason === undefined ? {} : { reason: command.reason };
  return withService(state, nextVersion(service, next, command.at, { force, ...reason }));
}

function rollback(state: IndexedState, service: ServiceRecord, command: ServiceRollbackCommand): ApplyOutcome {
  if (command.ifVersion !== undefined && command.ifVersion !== service.version) return ok(state);
  const history = historyOf(service);
  let target: VersionEntry | undefined;
  if (command.to !== undefined) {
    target = history.find((e) => e.version === command.to);
    if (target === undefined)
      return refuse(
        command,
        `version ${command.to} of ${service.id} is not in its history (kept: ${history.map((e) => e.version).join(', ')}): see \`shoal service history ${service.id}\``,
      );
    if (target.version === service.version) return refuse(command, `${service.id} is at version ${command.to} already`);
  } else {
    target = lastStableVersion({ ...service, history });
    if (target === undefined)
      return refuse(
        command,
        `${service.id} has no earlier version whose tasks were all healthy: name one with --to (see \`shoal service history ${service.id}\`)`,
      );
  }
  const next: ServiceRecord = {
    ...service,
    spec: target.spec,
    specHash: target.specHash,
    version: service.version + 1,
    updatedAt: command.at,
  };
  const reason = command.reason ?? `rollback to version ${target.version} requested`;
  return withService(
    state,
    nextVersion(service, next, command.at, { force: target.force, rollbackOf: target.version, reason }),
  );
}

function promote(state: IndexedState, service: ServiceRecord, command: ServicePromoteCommand): ApplyOutcome {
  const r = service.rollout;
  if (rolloutSettings(service.spec).canary === 0)
    return refuse(command, `${service.id} has no canaries to promote (x-shoal.update.canary is not set)`);
  if (r === undefined || (r.state !== 'updating' && r.state !== 'awaiting_promotion'))
    return refuse(command, `${service.id} has no rollout under way (it is ${r?.state ?? 'not rolling out'})`);
  if (r.promoted) return ok(state);
  return withService(state, {
    ...service,
    // The progress deadline starts again: waiting for a person is not the rollout hanging.
    rollout: {
      ...r,
      state: 'updating',
      promoted: true,
      reason: 'canaries promoted',
      updatedAt: command.at,
      progressAt: command.at,
    },
  });
}

function transition(state: IndexedState, service: ServiceRecord, command: ServiceRolloutCommand): ApplyOutcome {
  if (command.version !== service.version) return ok(state); // decided on an older version
  const previous = service.rollout;
  const next: RolloutStatus = {
    state: command.state,
    reason: command.reason,
    fromVersion: previous?.fromVersion ?? Math.max(0, service.version - 1),
    toVersion: service.version,
    startedAt: previous?.startedAt ?? command.at,
    updatedAt: command.at,
    progressAt:
      command.progress || previous === undefined || (command.promoted === true && !previous.promoted)
        ? command.at
        : previous.progressAt,
    updated: command.updated,
    failed: command.failed,
    total: command.total,
    promoted: command.promoted ?? previous?.promoted ?? false,
  };
  if (previous !== undefined && sameStatus(previous, next)) return ok(state);
  const done = next.state === 'completed' || next.state === 'rolled_back';
  const history = done
    ? historyOf(service).map((e) => (e.version === service.version && !e.stable ? { ...e, stable: true } : e))
    : service.history;
  return withService(state, { ...service, rollout: next, ...(history === undefined ? {} : { history }) });
}

function sameStatus(a: RolloutStatus, b: RolloutStatus): boolean {
  return (
    a.state === b.state &&
    a.reason === b.reason &&
    a.updated === b.updated &&
    a.failed === b.failed &&
    a.total === b.total &&
    a.promoted === b.promoted &&
    a.progressAt === b.progressAt
  );
}

function withService(state: IndexedState, service: ServiceRecord): ApplyOutcome {
  return ok({ ...state, services: { ...state.services, [service.id]: service } });
}

function ok(state: IndexedState): ApplyOutcome {
  return { ok: true, state };
}

function refuse(command: RolloutCommand, reason: string): ApplyOutcome {
  return { ok: false, error: `${command.type}: ${reason}` };
}
