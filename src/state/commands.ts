/**
 * The commands of the replicated log: a versioned, flat format
 * `{ v: 1, type: 'node.register', ...payload, at }`, where `at` is the leader's clock when it
 * proposed the command (apply never reads a clock). Encoded with cbor-x, validated strictly:
 * unknown fields are refused, so a typo never silently does nothing.
 *
 * The workload commands (stacks, services, tasks, node status) are defined in
 * `workload-commands.ts` and validated through the same table.
 *
 * Node heartbeats are deliberately not commands: they are too chatty for the log and travel
 * over their own protocol.
 * @module
 */
import { Decoder, Encoder } from 'cbor-x';
import { fingerprint } from '../security/join-token.js';
import { FieldIssue, at, fail, isPlainObject, object, oneOf, show, unique } from './check.js';
import { InvalidCommandError } from './errors.js';
import {
  STATE_VERSION,
  checkAddresses,
  checkAvailability,
  checkClusterId,
  checkClusterName,
  checkFingerprint,
  checkGraceMs,
  checkHostname,
  checkLabelKey,
  checkLabels,
  checkPeerId,
  checkResources,
  checkRoles,
  checkTargetVoters,
  checkTime,
  checkTokenKey,
  checkVersion,
  checkNodeMessage,
  checkPlatform,
  type NodePlatform,
  type Availability,
  type NodeResources,
  type RoleHints,
} from './model.js';
import { canonicalize } from './canonical.js';
import { checkRequestId } from './request-ledger.js';
import { JOB_PAYLOADS, type JobCommand } from './job-commands.js';
import { WORKLOAD_PAYLOADS, type PayloadCheck, type WorkloadCommand } from './workload-commands.js';
import { SECRET_COMMAND_TYPES, SECRET_PAYLOADS, type SecretCommand } from './secret-commands.js';
import { ROLLOUT_PAYLOADS, type RolloutCommand } from './rollout-commands.js';
import { AUTOSCALE_PAYLOADS, type ServiceAutoscaleCommand } from './autoscale-commands.js';

/** Fields every command has. */
export interface CommandBase {
  /** Command format version. */
  readonly v: typeof STATE_VERSION;
  /** Leader-stamped ms timestamp. */
  readonly at: number;
  /** The client's request id: a command whose id was applied already is not applied again. */
  readonly rid?: string;
}

/** Create the cluster: its id and name, and the first join token's key. `at` is its creation time. */
export interface ClusterInitCommand extends CommandBase {
  readonly type: 'cluster.init';
  readonly clusterId: string;
  readonly name: string;
  readonly tokenKey: string;
  readonly fingerprint: string;
}

/** A node joins (or, if it is a member already, re-announces itself: idempotent for retries). */
export interface NodeRegisterCommand extends CommandBase {
  readonly type: 'node.register';
  readonly id: string;
  readonly hostname: string;
  readonly addresses: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly resources: NodeResources;
  readonly roles: RoleHints;
  readonly version: string;
  readonly platform?: NodePlatform;
}

/** A node's facts changed (new addresses after a restart, new GPUs, an upgrade). Labels replace all. */
export interface NodeUpdateCommand extends CommandBase {
  readonly type: 'node.update';
  readonly id: string;
  readonly hostname?: string;
  readonly addresses?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly resources?: NodeResources;
  readonly version?: string;
  readonly platform?: NodePlatform;
  /** The node's own message (NodeRecord.message); '' clears it. */
  readonly message?: string;
}

export interface NodeSetAvailabilityCommand extends CommandBase {
  readonly type: 'node.setAvailability';
  readonly id: string;
  readonly availability: Availability;
}

/** Add (or overwrite) and remove individual labels. */
export interface NodeLabelsCommand extends CommandBase {
  readonly type: 'node.labels';
  readonly id: string;
  readonly add?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
}

/** Remove a node and revoke its peer id for good. */
export interface NodeRemoveCommand extends CommandBase {
  readonly type: 'node.remove';
  readonly id: string;
}

/** Replace the join token; `at` is the rotation time. Tokens made before stop working. */
export interface TokenRotateCommand extends CommandBase {
  readonly type: 'token.rotate';
  readonly tokenKey: string;
  readonly fingerprint: string;
}

/** Change some settings; absent ones keep their value. */
export interface SettingsSetCommand extends CommandBase {
  readonly type: 'settings.set';
  readonly targetVoters?: 3 | 5;
  readonly nodeDownGraceMs?: number;
  readonly voterReplaceGraceMs?: number;
}

export type Command =
  | WorkloadCommand
  | RolloutCommand
  | ServiceAutoscaleCommand
  | JobCommand
  | SecretCommand
  | ClusterInitCommand
  | NodeRegisterCommand
  | NodeUpdateCommand
  | NodeSetAvailabilityCommand
  | NodeLabelsCommand
  | NodeRemoveCommand
  | TokenRotateCommand
  | SettingsSetCommand;

export type CommandType = Command['type'];

/**
 * A command as callers (controllers, the agent, the CLI) write it: the leader adds the format
 * version `v` and the time `at`. Distributes over the union, so `type` still narrows.
 */
export type CommandInput = Command extends infer C ? (C extends Command ? Omit<C, 'v' | 'at' | 'rid'> : never) : never;

export const COMMAND_TYPES: readonly CommandType[] = [
  'cluster.init',
  'node.register',
  'node.update',
  'node.setAvailability',
  'node.labels',
  'node.remove',
  'token.rotate',
  'settings.set',
  'stack.deploy',
  'stack.remove',
  'service.scale',
  'task.create',
  'task.assign',
  'task.pending',
  'task.desire',
  'task.report',
  'node.setStatus',
  'task.remove',
  'service.vips',
  'job.submit',
  'job.start',
  'cron.skip',
  'job.cancel',
  'job.update',
  'job.remove',
  'task.preempt',
  'quota.set',
  'service.update',
  'service.rollback',
  'service.promote',
  'service.rollout',
  'service.autoscale',
  ...SECRET_COMMAND_TYPES,
];

const BASE = ['v', 'type', 'at'] as const;

type Fields = Record<string, unknown>;

/** Check a fingerprint field against the key it should be the fingerprint of. */
function checkKeyAndFingerprint(c: Fields): { tokenKey: string; fingerprint: string } {
  const key = checkTokenKey(c.tokenKey, 'tokenKey');
  const fp = checkFingerprint(c.fingerprint, 'fingerprint');
  if (fp !== fingerprint(key))
    fail('fingerprint', `does not match tokenKey (expected ${fingerprint(key)}, got ${show(fp)})`);
  return { tokenKey: key, fingerprint: fp };
}

/** Validators of each command's payload, given the object with its base fields checked. */
const PAYLOADS: { readonly [T in CommandType]: PayloadCheck } = {
  ...WORKLOAD_PAYLOADS,
  ...ROLLOUT_PAYLOADS,
  ...AUTOSCALE_PAYLOADS,
  ...JOB_PAYLOADS,
  ...SECRET_PAYLOADS,
  'cluster.init': {
    fields: ['clusterId', 'name', 'tokenKey', 'fingerprint'],
    check: (c) => ({
      clusterId: checkClusterId(c.clusterId, 'clusterId'),
      name: checkClusterName(c.name, 'name'),
      ...checkKeyAndFingerprint(c),
    }),
  },
  'node.register': {
    fields: ['id', 'hostname', 'addresses', 'labels', 'resources', 'roles', 'version'],
    optional: ['platform'],
    check: (c) => ({
      id: checkPeerId(c.id, 'id'),
      hostname: checkHostname(c.hostname, 'hostname'),
      addresses: checkAddresses(c.addresses, 'addresses'),
      labels: checkLabels(c.labels, 'labels'),
      resources: checkResources(c.resources, 'resources'),
      roles: checkRoles(c.roles, 'roles'),
      version: checkVersion(c.version, 'version'),
      ...(c.platform === undefined ? {} : { platform: checkPlatform(c.platform, 'platform') }),
    }),
  },
  'node.update': {
    fields: ['id'],
    optional: ['hostname', 'addresses', 'labels', 'resources', 'version', 'platform', 'message'],
    check: (c) => {
      const out: Fields = { id: checkPeerId(c.id, 'id') };
      if (c.hostname !== undefined) out.hostname = checkHostname(c.hostname, 'hostname');
      if (c.addresses !== undefined) out.addresses = checkAddresses(c.addresses, 'addresses');
      if (c.labels !== undefined) out.labels = checkLabels(c.labels, 'labels');
      if (c.resources !== undefined) out.resources = checkResources(c.resources, 'resources');
      if (c.version !== undefined) out.version = checkVersion(c.version, 'version');
      if (c.platform !== undefined) out.platform = checkPlatform(c.platform, 'platform');
      if (c.message !== undefined) out.message = checkNodeMessage(c.message, 'message');
      if (Object.keys(out).length === 1)
        fail(
          '',
          'nothing to update: give at least one of hostname, addresses, labels, resources, version, platform, message',
        );
      return out;
    },
  },
  'node.setAvailability': {
    fields: ['id', 'availability'],
    check: (c) => ({ id: checkPeerId(c.id, 'id'), availability: checkAvailability(c.availability, 'availability') }),
  },
  'node.labels': {
    fields: ['id'],
    optional: ['add', 'remove'],
    check: (c) => {
      const out: Fields = { id: checkPeerId(c.id, 'id') };
      const add = c.add === undefined ? undefined : checkLabels(c.add, 'add');
      const remove = c.remove === undefined ? undefined : checkRemovedKeys(c.remove);
      if (add === undefined && remove === undefined) fail('', 'nothing to change: give add, remove or both');
      for (const key of remove ?? []) {
        if (add && key in add) fail(at('remove', remove!.indexOf(key)), `label ${show(key)} is both added and removed`);
      }
      if (add !== undefined) out.add = add;
      if (remove !== undefined) out.remove = remove;
      return out;
    },
  },
  'node.remove': { fields: ['id'], check: (c) => ({ id: checkPeerId(c.id, 'id') }) },
  'token.rotate': { fields: ['tokenKey', 'fingerprint'], check: checkKeyAndFingerprint },
  'settings.set': {
    fields: [],
    optional: ['targetVoters', 'nodeDownGraceMs', 'voterReplaceGraceMs'],
    check: (c) => {
      const out: Fields = {};
      if (c.targetVoters !== undefined) out.targetVoters = checkTargetVoters(c.targetVoters, 'targetVoters');
      if (c.nodeDownGraceMs !== undefined) out.nodeDownGraceMs = checkGraceMs(c.nodeDownGraceMs, 'nodeDownGraceMs');
      if (c.voterReplaceGraceMs !== undefined)
        out.voterReplaceGraceMs = checkGraceMs(c.voterReplaceGraceMs, 'voterReplaceGraceMs');
      if (Object.keys(out).length === 0)
        fail('', 'nothing to set: give at least one of targetVoters, nodeDownGraceMs, voterReplaceGraceMs');
      return out;
    },
  },
};

function checkRemovedKeys(v: unknown): string[] {
  if (!Array.isArray(v)) fail('remove', `expected a list, got ${show(v)}`);
  const keys = v.slice(0, 65).map((k, i) => checkLabelKey(k, at('remove', i)));
  if (v.length > 64) fail('remove', `expected at most 64 items, got ${v.length}`);
  unique(keys, 'remove', (k) => k, 'label');
  return keys;
}

/**
 * Check that `value` is a well-formed command and return a clean copy of it (only known fields,
 * containers copied, label maps in sorted key order).
 * @throws {InvalidCommandError} naming the command type and the field path.
 * @example
 * validateCommand({ v: 1, type: 'node.setAvailability', id, availability: 'drain', at: Date.now() });
 */
export function validateCommand(value: unknown): Command {
  let type: string | undefined;
  try {
    if (!isPlainObject(value)) fail('', `expected an object, got ${show(value)}`);
    type = oneOf(value.type, 'type', COMMAND_TYPES);
    const spec = PAYLOADS[type as CommandType];
    object(value, '', [...BASE, 'rid', ...spec.fields, ...(spec.optional ?? [])], [...BASE, ...spec.fields]);
    if (value.v !== STATE_VERSION) {
      fail(
        'v',
        `expected command format version ${STATE_VERSION}, got ${show(value.v)}: is this node running an older shoal than the leader?`,
      );
    }
    const time = checkTime(value.at, 'at');
    const rid = value.rid === undefined ? {} : { rid: checkRequestId(value.rid, 'rid') };
    return { v: STATE_VERSION, type, ...spec.check(value), at: time, ...rid } as Command;
  } catch (error) {
    if (error instanceof FieldIssue) throw new InvalidCommandError(type, error.path, error.detail);
    throw error;
  }
}

// cbor-x options fixed here, so every peer encodes the same way: plain maps, no record extension.
const codec = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/**
 * Validate and encode a command for `propose()`. Keys are written in sorted order, so the same
 * command always gives the same bytes.
 * @throws {InvalidCommandError} when the command is malformed: a bad command never reaches the log.
 */
export function encodeCommand(command: Command): Uint8Array {
  return new Uint8Array(codec.encode(canonicalize(validateCommand(command))));
}

/**
 * Decode and validate a command from a log entry's data.
 * @throws {InvalidCommandError} on bytes that are not CBOR or not a valid command.
 */
export function decodeCommand(data: Uint8Array): Command {
  let value: unknown;
  try {
    value = decoder.decode(data);
  } catch (error) {
    throw new InvalidCommandError(undefined, '', `not valid CBOR (${(error as Error).message})`, { cause: error });
  }
  return validateCommand(value);
}
