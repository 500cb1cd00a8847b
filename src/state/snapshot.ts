/**
 * State snapshots: the whole state plus the index it was taken at, in canonical CBOR (sorted
 * keys at every depth), so two peers at the same index produce byte-identical snapshots.
 * Decoding validates the version and every part before any of it is used.
 * @module
 */
import { Decoder, Encoder } from 'cbor-x';
import { fingerprint } from '../security/join-token.js';
import { canonicalRecord, canonicalize } from './canonical.js';
import { FieldIssue, at, fail, integer, isPlainObject, map, object, show } from './check.js';
import { InvalidSnapshotError } from './errors.js';
import { checkBatch } from './job-snapshot.js';
import { isIndexed, type IndexedState } from './indexed-state.js';
import { RequestLedger } from './request-ledger.js';
import { TaskTable } from './task-table.js';
import type { TaskRecord } from './workloads.js';
import { checkWorkloads } from './workload-snapshot.js';
import { checkFileObjectsSnapshot } from './secrets.js';
import {
  STATE_VERSION,
  checkAddresses,
  checkAvailability,
  checkClusterId,
  checkClusterName,
  checkFingerprint,
  checkGraceMs,
  checkHostname,
  checkLabels,
  checkNodeStatus,
  checkPeerId,
  checkResources,
  checkRoles,
  checkSettingsConsistent,
  checkTargetVoters,
  checkTime,
  checkTokenKey,
  checkVersion,
  checkNodeMessage,
  checkPlatform,
  deepFreeze,
  type ClusterInfo,
  type ClusterSettings,
  type ClusterState,
  type NodeRecord,
  type RevokedNode,
  type TokenInfo,
} from './model.js';

/** Marks the bytes as a shoal state snapshot, so a wrong file is refused clearly. */
export const SNAPSHOT_FORMAT = 'shoal-state';

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/**
 * Encode `state` as applied up to `appliedIndex`. An indexed state (`ClusterStateMachine.view()`)
 * encodes to the same bytes as its plain form, without building that form first: the tasks go
 * from the table straight into the canonical copy.
 * @example const data = encodeState(machine.view(), machine.appliedIndex);
 */
export function encodeState(
  state: ClusterState | IndexedState,
  appliedIndex: number,
  requests: RequestLedger = new RequestLedger(),
): Uint8Array {
  const table = isIndexed(state) ? state.tasks : null;
  const envelope = {
    format: SNAPSHOT_FORMAT,
    version: STATE_VERSION,
    appliedIndex,
    state: table === null ? state : { ...state, tasks: {} },
    ...(requests.size > 0 ? { requests: requests.toSnapshot() } : {}),
  };
  const canonical = canonicalize(envelope) as { state: { tasks: object } };
  if (table !== null) {
    // Depth 2: envelope, state, tasks (the one of canonicalize's own walk). Same key, same place.
    // Sorting the ids (plain strings) and looking each up costs less than sorting the records.
    const ids = table.ids().sort();
    canonical.state.tasks = canonicalRecord(ids, (id) => table.get(id), 2);
  }
  return new Uint8Array(encoder.encode(canonical));
}

/** A decoded snapshot, checked; its tasks as a list sorted by id. */
interface Checked {
  readonly state: Omit<ClusterState, 'tasks'> & { readonly tasks: TaskRecord[] };
  readonly appliedIndex: number;
  readonly requests: RequestLedger;
}

/**
 * Decode and validate a snapshot. When `expectedIndex` is given (the Raft snapshot's index) the
 * state must not be newer than it; it may be older, since Raft's Noop and membership entries
 * after the last command advance the snapshot index without reaching this machine. The
 * returned appliedIndex is then `expectedIndex`.
 * @throws {InvalidSnapshotError} naming what is wrong and where.
 */
export function decodeState(
  data: Uint8Array,
  expectedIndex?: number,
): { state: ClusterState; appliedIndex: number; requests: RequestLedger } {
  const { state, appliedIndex, requests } = decodeChecked(data, expectedIndex);
  const tasks: Record<string, TaskRecord> = {};
  for (const task of state.tasks) tasks[task.id] = task;
  return { state: deepFreeze({ ...state, tasks }), appliedIndex, requests };
}

/**
 * {@link decodeState} into the form apply keeps (a restore): the task table and its indexes
 * built in bulk from the checked list, with no plain task record in between.
 * @throws {InvalidSnapshotError} as {@link decodeState}.
 */
export function decodeIndexedState(
  data: Uint8Array,
  expectedIndex?: number,
): { state: IndexedState; appliedIndex: number; requests: RequestLedger } {
  const { state, appliedIndex, requests } = decodeChecked(data, expectedIndex);
  return { state: deepFreeze({ ...state, tasks: TaskTable.from(state.tasks) }), appliedIndex, requests };
}

function decodeChecked(data: Uint8Array, expectedIndex: number | undefined): Checked {
  let raw: unknown;
  try {
    raw = decoder.decode(data);
  } catch (error) {
    throw new InvalidSnapshotError('', `not valid CBOR (${(error as Error).message})`, { cause: error });
  }
  try {
    if (!isPlainObject(raw) || raw.format !== SNAPSHOT_FORMAT) {
      fail('', `not a shoal state snapshot (no format "${SNAPSHOT_FORMAT}")`);
    }
    if (raw.version !== STATE_VERSION) {
      fail(
        'version',
        `this shoal reads state version ${STATE_VERSION}, the snapshot has version ${show(raw.version)}: ` +
          'upgrade this node to the version the cluster runs',
      );
    }
    const envelope = object(
      raw,
      '',
      ['format', 'version', 'appliedIndex', 'state', 'requests'],
      ['format', 'version', 'appliedIndex', 'state'],
    );
    const appliedIndex = integer(envelope.appliedIndex, 'appliedIndex', 0);
    if (expectedIndex !== undefined && appliedIndex > expectedIndex) {
      fail(
        'appliedIndex',
        `the snapshot holds state up to index ${appliedIndex}, newer than the index ${expectedIndex} it is being restored as`,
      );
    }
    const requests =
      envelope.requests === undefined ? new RequestLedger() : RequestLedger.fromSnapshot(envelope.requests, 'requests');
    return { state: checkState(envelope.state, 'state'), appliedIndex: expectedIndex ?? appliedIndex, requests };
  } catch (error) {
    if (error instanceof FieldIssue) throw new InvalidSnapshotError(error.path, error.detail);
    throw error;
  }
}

/** The keys every snapshot's state has (`fileObjects` is optional). */
const STATE_KEYS = [
  'version',
  'cluster',
  'token',
  'settings',
  'nodes',
  'revoked',
  'stacks',
  'services',
  'tasks',
  'jobs',
  'quotas',
  'usage',
  'cronMarks',
  'counters',
];

function checkState(v: unknown, path: string): Checked['state'] {
  // `fileObjects` is optional: snapshots of earlier builds have none.
  const s = object(v, path, [...STATE_KEYS, 'fileObjects'], STATE_KEYS);
  if (s.version !== STATE_VERSION) fail(at(path, 'version'), `expected ${STATE_VERSION}, got ${show(s.version)}`);
  const cluster = s.cluster === null ? null : checkCluster(s.cluster, at(path, 'cluster'));
  const token = s.token === null ? null : checkToken(s.token, at(path, 'token'));
  if ((cluster === null) !== (token === null)) fail(at(path, 'token'), 'a cluster and its token come together');
  const nodes = map(s.nodes, at(path, 'nodes'), 100_000, checkPeerId, checkNode);
  const revoked = map(s.revoked, at(path, 'revoked'), 1_000_000, checkPeerId, checkRevoked);
  for (const [group, records] of [
    ['nodes', nodes],
    ['revoked', revoked],
  ] as const) {
    for (const [id, record] of Object.entries(records)) {
      if (record.id !== id)
        fail(at(at(at(path, group), id), 'id'), `does not match the key it is filed under, got ${show(record.id)}`);
    }
  }
  for (const id of Object.keys(revoked)) {
    if (nodes[id] !== undefined) fail(at(at(path, 'revoked'), id), 'is both a member and revoked');
  }
  if (cluster === null && Object.keys(nodes).length > 0)
    fail(at(path, 'nodes'), 'has members before the cluster is initialized');
  return {
    version: STATE_VERSION,
    cluster,
    token,
    settings: checkSettings(s.settings, at(path, 'settings')),
    nodes,
    revoked,
    ...checkWorkloads(s, path),
    ...checkBatch(s, path),
    ...checkFileObjectsSnapshot(s, path),
  };
}

function checkCluster(v: unknown, path: string): ClusterInfo {
  const c = object(v, path, ['id', 'name', 'createdAt']);
  return {
    id: checkClusterId(c.id, at(path, 'id')),
    name: checkClusterName(c.name, at(path, 'name')),
    createdAt: checkTime(c.createdAt, at(path, 'createdAt')),
  };
}

function checkToken(v: unknown, path: string): TokenInfo {
  const t = object(v, path, ['key', 'fingerprint', 'rotatedAt']);
  const key = checkTokenKey(t.key, at(path, 'key'));
  const fp = checkFingerprint(t.fingerprint, at(path, 'fingerprint'));
  if (fp !== fingerprint(key)) fail(at(path, 'fingerprint'), 'does not match the key');
  return { key, fingerprint: fp, rotatedAt: checkTime(t.rotatedAt, at(path, 'rotatedAt')) };
}

function checkSettings(v: unknown, path: string): ClusterSettings {
  const s = object(v, path, ['targetVoters', 'nodeDownGraceMs', 'voterReplaceGraceMs']);
  const settings: ClusterSettings = {
    targetVoters: checkTargetVoters(s.targetVoters, at(path, 'targetVoters')),
    nodeDownGraceMs: checkGraceMs(s.nodeDownGraceMs, at(path, 'nodeDownGraceMs')),
    voterReplaceGraceMs: checkGraceMs(s.voterReplaceGraceMs, at(path, 'voterReplaceGraceMs')),
  };
  checkSettingsConsistent(settings, path);
  return settings;
}

/** The fields of a node record; `platform` is optional (nodes of earlier builds have none). */
const NODE_FIELDS = [
  'id',
  'hostname',
  'addresses',
  'labels',
  'resources',
  'roles',
  'version',
  'availability',
  'status',
  'statusChangedAt',
  'registeredAt',
  'updatedAt',
] as const;

function checkNode(v: unknown, path: string): NodeRecord {
  const n = object(v, path, [...NODE_FIELDS, 'platform', 'message'], NODE_FIELDS);
  return {
    id: checkPeerId(n.id, at(path, 'id')),
    hostname: checkHostname(n.hostname, at(path, 'hostname')),
    addresses: checkAddresses(n.addresses, at(path, 'addresses')),
    labels: checkLabels(n.labels, at(path, 'labels')),
    resources: checkResources(n.resources, at(path, 'resources')),
    roles: checkRoles(n.roles, at(path, 'roles')),
    version: checkVersion(n.version, at(path, 'version')),
    ...(n.platform === undefined ? {} : { platform: checkPlatform(n.platform, at(path, 'platform')) }),
    ...(n.message === undefined ? {} : { message: checkNodeMessage(n.message, at(path, 'message')) }),
    availability: checkAvailability(n.availability, at(path, 'availability')),
    status: checkNodeStatus(n.status, at(path, 'status')),
    statusChangedAt: checkTime(n.statusChangedAt, at(path, 'statusChangedAt')),
    registeredAt: checkTime(n.registeredAt, at(path, 'registeredAt')),
    updatedAt: checkTime(n.updatedAt, at(path, 'updatedAt')),
  };
}

function checkRevoked(v: unknown, path: string): RevokedNode {
  const r = object(v, path, ['id', 'hostname', 'revokedAt']);
  return {
    id: checkPeerId(r.id, at(path, 'id')),
    hostname: checkHostname(r.hostname, at(path, 'hostname')),
    revokedAt: checkTime(r.revokedAt, at(path, 'revokedAt')),
  };
}
