/**
 * The data of the replicated cluster state, and the checks of its parts that commands and
 * snapshots share. Everything is plain data (no classes, no Maps) so it encodes with cbor-x as
 * is and compares structurally in tests; maps are text-keyed records.
 * @module
 */
import { CLUSTER_ID_PATTERN } from '../security/join-token.js';
import { at, boolean, fail, integer, list, map, object, oneOf, string, unique } from './check.js';
import type { NamespaceQuota } from '../scheduler/queue/types.js';
import type { JobRecord, UsageRecord } from './jobs.js';
import type { FileObjects } from './secrets.js';
import type { NodeStatus, ServiceRecord, StackRecord, TaskRecord } from './workloads.js';

/** Version of the state layout (snapshots) and of the command format. */
export const STATE_VERSION = 1;

/** Whether a node takes new work: `drain` also moves its tasks away, `pause` keeps them. */
export type Availability = 'active' | 'drain' | 'pause';
export const AVAILABILITIES: readonly Availability[] = ['active', 'drain', 'pause'];

/** A node's wish about being a Raft voter; the voter controller decides. */
export type VoterHint = 'auto' | 'prefer' | 'never';
export const VOTER_HINTS: readonly VoterHint[] = ['auto', 'prefer', 'never'];

/** Hints from the node's config about the roles it should play. */
export interface RoleHints {
  readonly voter: VoterHint;
  /** False for a control-plane-only node: the scheduler places no tasks on it. */
  readonly workloads: boolean;
}

export interface GpuResource {
  readonly index: number;
  readonly uuid: string;
  readonly name: string;
  readonly memoryBytes: number;
}

export interface NodeResources {
  readonly cpus: number;
  readonly memoryBytes: number;
  /** Sorted by index. */
  readonly gpus: readonly GpuResource[];
}

/** A member node as the cluster knows it. */
export interface NodeRecord {
  /** The node's libp2p peer id. */
  readonly id: string;
  readonly hostname: string;
  /** Multiaddr strings the node listens on. */
  readonly addresses: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly resources: NodeResources;
  readonly roles: RoleHints;
  /** The shoal version the node runs. */
  readonly version: string;
  /** OS and architecture, Docker's names (`linux`, `amd64`); absent for nodes that never said. */
  readonly platform?: NodePlatform;
  /**
   * What the node says about itself that needs a person (service ports it cannot listen on:
   * mesh-node.ts); absent when it has nothing to say.
   */
  readonly message?: string;
  readonly availability: Availability;
  /** Health as the node-health controller decided it: `ready` on registration. */
  readonly status: NodeStatus;
  /** When `status` last changed (registration time until the first change). */
  readonly statusChangedAt: number;
  /** Leader-stamped ms timestamps. */
  readonly registeredAt: number;
  readonly updatedAt: number;
}

/** A removed node: its peer id stays here so its connections are refused for good. */
export interface RevokedNode {
  readonly id: string;
  /** The hostname it had, for people reading `shoal node ls --revoked`. */
  readonly hostname: string;
  readonly revokedAt: number;
}

export interface ClusterInfo {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
}

/** The current join token, as a derived key (never the secret). */
export interface TokenInfo {
  /** `tokenKey(secret)` in lowercase hex. */
  readonly key: string;
  readonly fingerprint: string;
  readonly rotatedAt: number;
}

export interface ClusterSettings {
  /** How many voters the voter controller keeps among healthy nodes. */
  readonly targetVoters: 3 | 5;
  /** After this long without a heartbeat a node counts as down. */
  readonly nodeDownGraceMs: number;
  /** After this long down a voter is replaced by a healthy learner. */
  readonly voterReplaceGraceMs: number;
}

export const DEFAULT_SETTINGS: ClusterSettings = Object.freeze({
  targetVoters: 3,
  nodeDownGraceMs: 5_000,
  voterReplaceGraceMs: 300_000,
});

/** Counters stamped into records by apply, so every peer hands out the same numbers. */
export interface ClusterCounters {
  /** The last assignment generation handed out (`task.assign` increments it per task). */
  readonly assignment: number;
  /** The last job id handed out (`job.submit`, `job.start`, a job service's deploy). */
  readonly job: number;
}

/** The whole replicated state. */
export interface ClusterState {
  readonly version: typeof STATE_VERSION;
  /** Null until `cluster.init` is applied. */
  readonly cluster: ClusterInfo | null;
  readonly token: TokenInfo | null;
  readonly settings: ClusterSettings;
  readonly nodes: Readonly<Record<string, NodeRecord>>;
  readonly revoked: Readonly<Record<string, RevokedNode>>;
  /** Stacks by name. */
  readonly stacks: Readonly<Record<string, StackRecord>>;
  /** Services by id (`<stack>_<name>`). */
  readonly services: Readonly<Record<string, ServiceRecord>>;
  /** Tasks by id. A removed service's tasks stay until `task.remove` collects them. */
  readonly tasks: Readonly<Record<string, TaskRecord>>;
  /** Batch jobs by id (see jobs.ts). */
  readonly jobs: Readonly<Record<string, JobRecord>>;
  /** Namespace quotas (`shoal quota set`). */
  readonly quotas: Readonly<Record<string, NamespaceQuota>>;
  /** Fair-share usage by namespace. */
  readonly usage: Readonly<Record<string, UsageRecord>>;
  /** Cron services' last handled schedule time. */
  readonly cronMarks: Readonly<Record<string, number>>;
  readonly counters: ClusterCounters;
  /** Secrets and configs (issue 14); absent until the first one, and in states of earlier builds. */
  readonly fileObjects?: FileObjects;
}

/** The state before `cluster.init`. */
export function emptyState(): ClusterState {
  return deepFreeze({
    version: STATE_VERSION,
    cluster: null,
    token: null,
    settings: { ...DEFAULT_SETTINGS },
    nodes: {},
    revoked: {},
    stacks: {},
    services: {},
    tasks: {},
    jobs: {},
    quotas: {},
    usage: {},
    cronMarks: {},
    counters: { assignment: 0, job: 0 },
  });
}

/** Freeze a value and everything in it, so state handed to readers cannot be changed under us. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) freezeAll(value);
  return value;
}

/**
 * The walk of {@link deepFreeze}: a snapshot restore freezes a few million objects, so no array
 * of values per object (for...in on plain data, an index loop on lists) and no call per scalar.
 */
function freezeAll(o: object): void {
  if (Object.isFrozen(o) || ArrayBuffer.isView(o)) return;
  if (Array.isArray(o)) {
    for (const v of o as unknown[]) if (typeof v === 'object' && v !== null) freezeAll(v);
  } else {
    for (const key in o) {
      const v = (o as Record<string, unknown>)[key];
      if (typeof v === 'object' && v !== null) freezeAll(v);
    }
  }
  Object.freeze(o);
}

// ---------------------------------------------------------------------------------------------
// Checks of the parts, shared by command validation and snapshot validation.
// ---------------------------------------------------------------------------------------------

/**
 * libp2p peer ids in text: base58btc (`12D3KooW…`, `Qm…`) or a base32 CID (`bafz…`). Only the
 * shape is checked here: apply must stay a pure function of the command.
 */
export const PEER_ID_PATTERN = /^[A-Za-z0-9]{16,128}$/;
const HOSTNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
const MULTIADDR_PATTERN = /^(?:\/[^/\s]+)+$/;
/** Label keys: like Kubernetes', starting and ending with a letter or digit. */
export const LABEL_KEY_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
const CLUSTER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const VERSION_PATTERN = /^[\x21-\x7e]{1,64}$/;
const HEX64_PATTERN = /^[0-9a-f]{64}$/;
const HEX16_PATTERN = /^[0-9a-f]{16}$/;
const MAX_LABELS = 64;
const MAX_ADDRESSES = 32;
const MAX_GPUS = 64;

export const checkPeerId = (v: unknown, path: string): string =>
  string(v, path, { pattern: PEER_ID_PATTERN, shape: 'a libp2p peer id (16-128 letters and digits)' });
export const checkHostname = (v: unknown, path: string): string =>
  string(v, path, {
    min: 1,
    max: 253,
    pattern: HOSTNAME_PATTERN,
    shape: 'a host name (letters, digits, ".", "_", "-")',
  });
export const checkVersion = (v: unknown, path: string): string =>
  string(v, path, { min: 1, max: 64, pattern: VERSION_PATTERN, shape: 'a version without spaces' });
export const checkClusterId = (v: unknown, path: string): string =>
  string(v, path, { pattern: CLUSTER_ID_PATTERN, shape: '16 characters a-z, 2-7' });
export const checkClusterName = (v: unknown, path: string): string =>
  string(v, path, {
    min: 1,
    max: 63,
    pattern: CLUSTER_NAME_PATTERN,
    shape: 'a name of letters, digits, ".", "_", "-"',
  });
export const checkTokenKey = (v: unknown, path: string): string =>
  string(v, path, { pattern: HEX64_PATTERN, shape: '64 lowercase hex characters (tokenKey() in hex)' });
export const checkFingerprint = (v: unknown, path: string): string =>
  string(v, path, { pattern: HEX16_PATTERN, shape: '16 lowercase hex characters' });
export const checkTime = (v: unknown, path: string): number => integer(v, path, 0);
export const checkAvailability = (v: unknown, path: string): Availability => oneOf(v, path, AVAILABILITIES);
/** Node statuses, in a stable order for messages. */
export const NODE_STATUSES: readonly NodeStatus[] = ['ready', 'down'];
export const checkNodeStatus = (v: unknown, path: string): NodeStatus => oneOf(v, path, NODE_STATUSES);

export const checkLabelKey = (k: unknown, path: string): string =>
  string(k, path, {
    pattern: LABEL_KEY_PATTERN,
    shape: 'a label key (letters, digits, ".", "_", "/", "-"; at most 63)',
  });

export function checkLabels(v: unknown, path: string): Record<string, string> {
  return map(v, path, MAX_LABELS, checkLabelKey, (value, p) => string(value, p, { max: 256 }));
}

export function checkAddresses(v: unknown, path: string): string[] {
  const addresses = list(v, path, MAX_ADDRESSES, (a, p) =>
    string(a, p, {
      min: 1,
      max: 512,
      pattern: MULTIADDR_PATTERN,
      shape: 'a multiaddr such as "/ip4/10.0.0.5/tcp/7946"',
    }),
  );
  unique(addresses, path, (a) => a, 'address');
  return addresses;
}

export function checkGpu(v: unknown, path: string): GpuResource {
  const g = object(v, path, ['index', 'uuid', 'name', 'memoryBytes']);
  return {
    index: integer(g.index, at(path, 'index'), 0, 1023),
    uuid: string(g.uuid, at(path, 'uuid'), { min: 1, max: 128 }),
    name: string(g.name, at(path, 'name'), { max: 128 }),
    memoryBytes: integer(g.memoryBytes, at(path, 'memoryBytes'), 0),
  };
}

export function checkResources(v: unknown, path: string): NodeResources {
  const r = object(v, path, ['cpus', 'memoryBytes', 'gpus']);
  const gpus = list(r.gpus, at(path, 'gpus'), MAX_GPUS, checkGpu);
  unique(gpus, at(path, 'gpus'), (g) => g.index, 'GPU index');
  unique(gpus, at(path, 'gpus'), (g) => g.uuid, 'GPU uuid');
  return {
    cpus: integer(r.cpus, at(path, 'cpus'), 0, 1_000_000),
    memoryBytes: integer(r.memoryBytes, at(path, 'memoryBytes'), 0),
    gpus: gpus.sort((a, b) => a.index - b.index),
  };
}

/** A node's OS and CPU architecture, as Docker names them (`linux`/`amd64`, `linux`/`arm64`). */
export interface NodePlatform {
  readonly os: string;
  readonly arch: string;
}

/** A node's message about itself: at most 1,000 characters. */
export function checkNodeMessage(v: unknown, path: string): string {
  return string(v, path, { max: 1000 });
}

export function checkPlatform(v: unknown, path: string): NodePlatform {
  const p = object(v, path, ['os', 'arch']);
  const name = (x: unknown, where: string): string =>
    string(x, where, { min: 1, max: 32, pattern: /^[a-z0-9_]+$/, shape: 'lowercase letters, digits and _' });
  return { os: name(p.os, at(path, 'os')), arch: name(p.arch, at(path, 'arch')) };
}

export function checkRoles(v: unknown, path: string): RoleHints {
  const r = object(v, path, ['voter', 'workloads']);
  return {
    voter: oneOf(r.voter, at(path, 'voter'), VOTER_HINTS),
    workloads: boolean(r.workloads, at(path, 'workloads')),
  };
}

export function checkTargetVoters(v: unknown, path: string): 3 | 5 {
  return oneOf(v, path, [3, 5] as const);
}

/** Grace periods: at least a second (less is a typo for seconds), at most a week. */
export function checkGraceMs(v: unknown, path: string): number {
  return integer(v, path, 1000, 7 * 24 * 3600 * 1000);
}

/** Settings are consistent: a voter is replaced only after its node counts as down. */
export function checkSettingsConsistent(s: ClusterSettings, path: string): void {
  if (s.voterReplaceGraceMs < s.nodeDownGraceMs) {
    fail(
      at(path, 'voterReplaceGraceMs'),
      `must be >= nodeDownGraceMs (${s.nodeDownGraceMs}), got ${s.voterReplaceGraceMs}: a voter can only be replaced once its node counts as down`,
    );
  }
}
