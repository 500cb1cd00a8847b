/**
 * Applying a validated command to the state: a pure function returning a new state (sharing
 * the parts that did not change) or a refusal. Every precondition is checked before anything is
 * built, so a refused command leaves no trace. No clock, no randomness: times come from `at`.
 * @module
 */
import type {
  Command,
  NodeLabelsCommand,
  NodeRegisterCommand,
  NodeUpdateCommand,
  SettingsSetCommand,
} from './commands.js';
import { applyJobCommand } from './apply-jobs.js';
import { applyRollout } from './apply-rollout.js';
import { applyAutoscale } from './apply-autoscale.js';
import { applyWorkload, orphanTasks } from './apply-workloads.js';
import { applySecretCommand } from './secrets.js';
import { FieldIssue } from './check.js';
import type { IndexedState } from './indexed-state.js';
import { TaskEdit } from './task-table.js';
import { checkSettingsConsistent, deepFreeze, type ClusterSettings, type NodeRecord } from './model.js';

export type ApplyOutcome =
  { readonly ok: true; readonly state: IndexedState } | { readonly ok: false; readonly error: string };

/**
 * Apply `command` to `state`.
 * @example
 * const outcome = applyCommand(emptyIndexedState(), initCommand);
 * if (outcome.ok) state = outcome.state;
 */
export function applyCommand(state: IndexedState, command: Command): ApplyOutcome {
  if (command.type === 'cluster.init') {
    if (state.cluster !== null) {
      return refuse(command, `the cluster is already initialized as ${state.cluster.name} (${state.cluster.id})`);
    }
    return done({
      ...state,
      cluster: { id: command.clusterId, name: command.name, createdAt: command.at },
      token: { key: command.tokenKey, fingerprint: command.fingerprint, rotatedAt: command.at },
    });
  }
  if (state.cluster === null)
    return refuse(command, 'the cluster is not initialized yet: the first command must be cluster.init');

  switch (command.type) {
    case 'node.register':
      return register(state, command);
    case 'node.update':
      return withNode(state, command, (node) => update(node, command));
    case 'node.setAvailability':
      return withNode(state, command, (node) => ({
        ...node,
        availability: command.availability,
        updatedAt: command.at,
      }));
    case 'node.labels':
      return withNode(state, command, (node) => ({
        ...node,
        labels: relabel(node.labels, command),
        updatedAt: command.at,
      }));
    case 'node.remove': {
      const node = state.nodes[command.id];
      if (node === undefined) return refuse(command, missing(state, command.id));
      const { [command.id]: _removed, ...nodes } = state.nodes;
      const revoked = {
        ...state.revoked,
        [command.id]: { id: command.id, hostname: node.hostname, revokedAt: command.at },
      };
      // Like a node going down: its tasks are replaced elsewhere, and fenced off if it returns.
      const tasks = new TaskEdit(state.tasks);
      orphanTasks(state, tasks, command.id, 'node removed', command.at);
      return done({ ...state, nodes, revoked, tasks: tasks.result() });
    }
    case 'token.rotate':
      if (state.token?.key === command.tokenKey) {
        return refuse(
          command,
          `the new token is the current one (fingerprint ${command.fingerprint}): create a new token to rotate`,
        );
      }
      return done({
        ...state,
        token: { key: command.tokenKey, fingerprint: command.fingerprint, rotatedAt: command.at },
      });
    case 'settings.set':
      return setSettings(state, command);
    case 'service.update':
    case 'service.rollback':
    case 'service.promote':
    case 'service.rollout': {
      const outcome = applyRollout(state, command);
      return outcome.ok ? done(outcome.state) : outcome;
    }
    case 'service.autoscale': {
      const outcome = applyAutoscale(state, command);
      return outcome.ok ? done(outcome.state) : outcome;
    }
    case 'job.submit':
    case 'job.start':
    case 'cron.skip':
    case 'job.cancel':
    case 'job.update':
    case 'job.remove':
    case 'task.preempt':
    case 'quota.set': {
      const outcome = applyJobCommand(state, command);
      return outcome.ok ? done(outcome.state) : outcome;
    }
    case 'secret.key':
    case 'secret.create':
    case 'config.create':
    case 'secret.remove':
    case 'config.remove': {
      const outcome = applySecretCommand(state, command);
      return outcome.ok ? done(outcome.state) : outcome;
    }
    default: {
      const outcome = applyWorkload(state, command);
      return outcome.ok ? done(outcome.state) : outcome;
    }
  }
}

function register(state: IndexedState, command: NodeRegisterCommand): ApplyOutcome {
  if (state.revoked[command.id] !== undefined) {
    return refuse(
      command,
      `node ${command.id} was removed from the cluster and cannot register again: ` +
        'reset its identity (delete its key) and join again with a current token',
    );
  }
  const previous = state.nodes[command.id];
  const node: NodeRecord = {
    id: command.id,
    hostname: command.hostname,
    addresses: command.addresses,
    labels: command.labels,
    resources: command.resources,
    roles: command.roles,
    version: command.version,
    ...(command.platform ? { platform: command.platform } : {}),
    // A member registering again (a retried join, a restart) keeps what operators set, and
    // its status: that is the node-health controller's to change, from heartbeats.
    availability: previous?.availability ?? 'active',
    status: previous?.status ?? 'ready',
    statusChangedAt: previous?.statusChangedAt ?? command.at,
    registeredAt: previous?.registeredAt ?? command.at,
    updatedAt: command.at,
  };
  return done({ ...state, nodes: { ...state.nodes, [command.id]: node } });
}

function update(node: NodeRecord, command: NodeUpdateCommand): NodeRecord {
  const next: NodeRecord = {
    ...node,
    hostname: command.hostname ?? node.hostname,
    addresses: command.addresses ?? node.addresses,
    labels: command.labels ?? node.labels,
    resources: command.resources ?? node.resources,
    version: command.version ?? node.version,
    ...(command.platform ? { platform: command.platform } : {}),
    ...(command.message === undefined ? {} : { message: command.message }),
    updatedAt: command.at,
  };
  if (next.message !== '') return next;
  const { message: _cleared, ...rest } = next; // '' clears it: absent when nothing to say
  return rest;
}

function relabel(labels: Readonly<Record<string, string>>, command: NodeLabelsCommand): Record<string, string> {
  const next: Record<string, string> = { ...labels, ...command.add };
  for (const key of command.remove ?? []) delete next[key]; // removing an absent label is a no-op
  return next;
}

function setSettings(state: IndexedState, command: SettingsSetCommand): ApplyOutcome {
  const settings: ClusterSettings = {
    targetVoters: command.targetVoters ?? state.settings.targetVoters,
    nodeDownGraceMs: command.nodeDownGraceMs ?? state.settings.nodeDownGraceMs,
    voterReplaceGraceMs: command.voterReplaceGraceMs ?? state.settings.voterReplaceGraceMs,
  };
  try {
    checkSettingsConsistent(settings, '');
  } catch (error) {
    if (error instanceof FieldIssue) return refuse(command, `${error.path}: ${error.detail}`);
    throw error;
  }
  return done({ ...state, settings });
}

/** Apply `change` to the node the command names, refusing when it is not a member. */
function withNode(
  state: IndexedState,
  command: Command & { readonly id: string },
  change: (node: NodeRecord) => NodeRecord,
): ApplyOutcome {
  const node = state.nodes[command.id];
  if (node === undefined) return refuse(command, missing(state, command.id));
  return done({ ...state, nodes: { ...state.nodes, [command.id]: change(node) } });
}

function missing(state: IndexedState, id: string): string {
  return state.revoked[id] !== undefined
    ? `node ${id} was removed from the cluster (revoked)`
    : `node ${id} is not a member of the cluster: check the id with \`shoal node ls\``;
}

function done(state: IndexedState): ApplyOutcome {
  return { ok: true, state: deepFreeze(state) };
}

function refuse(command: Command, reason: string): ApplyOutcome {
  return { ok: false, error: `${command.type}: ${reason}` };
}
