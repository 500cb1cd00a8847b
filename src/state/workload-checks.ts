/**
 * Checks of the workload parts (names, ids, service specs, task fields), shared by command
 * validation and snapshot validation. Like `model.ts`'s checks, each returns a clean copy or
 * throws a {@link FieldIssue} naming the path.
 * @module
 * @private
 */
import { MAX_STACK_SERVICES } from '../stack/spec.js';
import { checkFileRefs } from './secret-checks.js';
import type { ServiceKind, ServiceSpec } from '../stack/spec.js';
import { at, boolean, fail, integer, isPlainObject, list, map, oneOf, show, string } from './check.js';
import { checkImageUpdateSpec, checkRolloutSpec } from './rollout-spec-check.js';
import { TASK_STATES, type DesiredTaskState, type TaskState } from './workloads.js';

/** Stack names, as `parseStack` accepts them (Compose project names). */
export const STACK_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Service names, as `parseStack` accepts them. */
export const SERVICE_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
/** Task ids: leader-generated, never reused. No leading "_" so "__proto__" can never be one. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** `hashService()`: SHA-256 in lowercase hex. */
const SPEC_HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Most replicas a service may ask for (`service.scale`, `deploy.replicas`). */
export const MAX_REPLICAS = 10_000;
/** Most items in one batch command (tasks created, assigned, reported, removed…). */
export const MAX_BATCH = 10_000;
/** Most services in one stack (defined with the Compose parser, which refuses more first). */
export { MAX_STACK_SERVICES };
/**
 * Longest task message. Runtimes must truncate container errors to this: a longer message makes
 * the whole command invalid.
 */
export const MAX_TASK_MESSAGE = 4096;

export const SERVICE_KINDS: readonly ServiceKind[] = ['replicated', 'global', 'job', 'cron'];
export const DESIRED_TASK_STATES: readonly DesiredTaskState[] = ['running', 'shutdown'];
/** States a node's runtime may report: from `assigned` to `rejected` (not the leader's own). */
export const REPORTABLE_STATES: readonly TaskState[] = TASK_STATES.slice(
  TASK_STATES.indexOf('assigned'),
  TASK_STATES.indexOf('rejected') + 1,
);

export const checkStackName = (v: unknown, path: string): string =>
  string(v, path, {
    pattern: STACK_NAME_PATTERN,
    shape: 'a stack name (lowercase letters, digits, "-", "_", starting with a letter or digit; at most 63)',
  });
export const checkServiceName = (v: unknown, path: string): string =>
  string(v, path, {
    pattern: SERVICE_NAME_PATTERN,
    shape: 'a service name (letters, digits, "_", ".", "-", starting with a letter or digit; at most 63)',
  });
/** A service id is `<stack>_<name>`; only its shape is checked (the split is ambiguous). */
export const checkServiceId = (v: unknown, path: string): string =>
  string(v, path, {
    pattern: /^[a-z0-9][a-z0-9_-]{0,62}_[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/,
    shape: 'a service id "<stack>_<service>"',
  });
export const checkTaskId = (v: unknown, path: string): string =>
  string(v, path, {
    pattern: TASK_ID_PATTERN,
    shape: 'a task id (letters, digits, ".", "_", "-", starting with a letter or digit; at most 128)',
  });
export const checkSpecHash = (v: unknown, path: string): string =>
  string(v, path, { pattern: SPEC_HASH_PATTERN, shape: '64 lowercase hex characters (hashService())' });
export const checkTaskState = (v: unknown, path: string): TaskState => oneOf(v, path, TASK_STATES);
export const checkDesiredState = (v: unknown, path: string): DesiredTaskState => oneOf(v, path, DESIRED_TASK_STATES);
export const checkTaskMessage = (v: unknown, path: string): string => string(v, path, { max: MAX_TASK_MESSAGE });
export const checkReplicas = (v: unknown, path: string): number => integer(v, path, 0, MAX_REPLICAS);
export const checkExitCode = (v: unknown, path: string): number | null =>
  v === null ? null : integer(v, path, -(2 ** 31), 2 ** 31 - 1);
export const checkContainerId = (v: unknown, path: string): string | null =>
  v === null ? null : string(v, path, { min: 1, max: 128 });
/** GPU uuids of an assignment. */
export const checkGpuIds = (v: unknown, path: string): string[] =>
  list(v, path, 64, (g, p) => string(g, p, { min: 1, max: 128 }));

// ---------------------------------------------------------------------------------------------
// Service specs: the top level is checked field by field (apply and the controllers read it);
// nested parts are checked to be plain data only. parseStack produced them and validated them
// in depth; the log only needs them well-formed and bounded.
// ---------------------------------------------------------------------------------------------

type Check = (v: unknown, path: string) => unknown;

const str: Check = (v, p) => string(v, p, { max: 4096 });
const strOrNull: Check = (v, p) => (v === null ? null : str(v, p));
const strings: Check = (v, p) => list(v, p, 10_000, str);
const stringsOrNull: Check = (v, p) => (v === null ? null : strings(v, p));
const stringMap: Check = (v, p) =>
  map(
    v,
    p,
    10_000,
    (k) => k,
    (x, q) => string(x, q, { max: 65_536 }),
  );
const bool: Check = boolean;
const int: Check = (v, p) => integer(v, p, 0);
const intOrNull: Check = (v, p) => (v === null ? null : int(v, p));
const obj: Check = (v, p) => {
  if (!isPlainObject(v)) fail(p, `expected an object, got ${show(v)}`);
  return plainData(v, p);
};
const objOrNull: Check = (v, p) => (v === null ? null : obj(v, p));
const objects: Check = (v, p) => list(v, p, 10_000, obj);

/** Fields absent when the file does not set them (older specs lack them): checked only when present. */
type OptionalSpecKey = 'platform' | 'networkMode' | 'ociRuntime' | 'rollout' | 'imageUpdate' | 'secrets' | 'configs';
const OPTIONAL_SPEC_FIELDS: Readonly<Record<OptionalSpecKey, Check>> = {
  platform: obj,
  networkMode: (v, p) => oneOf(v, p, ['host', 'none'] as const),
  ociRuntime: (v, p) => string(v, p, { max: 256 }),
  rollout: checkRolloutSpec,
  imageUpdate: checkImageUpdateSpec,
  secrets: checkFileRefs,
  configs: checkFileRefs,
};

const SPEC_FIELDS: Readonly<Record<Exclude<keyof ServiceSpec, OptionalSpecKey>, Check>> = {
  name: checkServiceName,
  kind: (v, p) => oneOf(v, p, SERVICE_KINDS),
  runtime: (v, p) => oneOf(v, p, ['docker', 'process'] as const),
  image: (v, p) => string(v, p, { max: 1024 }),
  command: stringsOrNull,
  entrypoint: stringsOrNull,
  env: stringMap,
  labels: stringMap,
  workingDir: strOrNull,
  user: strOrNull,
  hostname: strOrNull,
  init: bool,
  tty: bool,
  stdinOpen: bool,
  readOnly: bool,
  privileged: bool,
  capAdd: strings,
  capDrop: strings,
  dns: strings,
  extraHosts: strings,
  sysctls: stringMap,
  shmSizeBytes: intOrNull,
  stopSignal: strOrNull,
  stopGracePeriodMs: int,
  logging: objOrNull,
  ports: objects,
  expose: strings,
  volumes: objects,
  healthcheck: objOrNull,
  dependsOn: objects,
  networks: objects,
  deploy: (v, p) => {
    const d = obj(v, p) as Record<string, unknown>;
    checkReplicas(d.replicas, at(p, 'replicas'));
    return d;
  },
  scheduling: obj,
  job: objOrNull,
  cron: objOrNull,
  autoscale: objOrNull,
};
const SPEC_KEYS = Object.keys(SPEC_FIELDS).sort();

/**
 * A service spec inside a command or a snapshot: every field of {@link ServiceSpec} present with
 * the right top-level type, `deploy.replicas` in range. Fields this version does not know are
 * kept as plain data: a newer `parseStack` may add some, and they must not make a deploy invalid.
 */
export function checkServiceSpec(v: unknown, path: string): ServiceSpec {
  if (!isPlainObject(v)) fail(path, `expected a service spec (an object), got ${show(v)}`);
  const out: Record<string, unknown> = {};
  for (const key of SPEC_KEYS) {
    const value = v[key];
    if (value === undefined) fail(at(path, key), 'is required');
    out[key] = SPEC_FIELDS[key as keyof typeof SPEC_FIELDS](value, at(path, key));
  }
  for (const [key, check] of Object.entries(OPTIONAL_SPEC_FIELDS)) {
    if (v[key] !== undefined) out[key] = check(v[key], at(path, key));
  }
  for (const key of Object.keys(v).sort()) {
    if (Object.hasOwn(out, key)) continue;
    if (key === '__proto__') fail(at(path, key), 'is not allowed as a key');
    if (v[key] !== undefined) out[key] = plainData(v[key], at(path, key));
  }
  return out as unknown as ServiceSpec;
}

/**
 * A deep copy of JSON-like data (plain objects, lists, text, finite numbers, booleans, null),
 * bounded in depth and size so a hostile entry cannot make every peer spend unbounded work.
 */
export function plainData(v: unknown, path: string): unknown {
  const budget = { left: 100_000 };
  return copyPlain(v, path, 0, budget);
}

function copyPlain(v: unknown, path: string, depth: number, budget: { left: number }): unknown {
  if (--budget.left < 0) fail(path, 'is too large (more than 100000 values in one spec)');
  if (depth > 16) fail(path, 'is nested too deeply (more than 16 levels)');
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'string') return string(v, path, { max: 65_536 });
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail(path, `expected a finite number, got ${show(v)}`);
    return v;
  }
  if (Array.isArray(v)) {
    if (v.length > 10_000) fail(path, `expected at most 10000 items, got ${v.length}`);
    return v.map((x, i) => copyPlain(x, at(path, i), depth + 1, budget));
  }
  if (!isPlainObject(v)) fail(path, `expected plain data, got ${show(v)}`);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v).sort()) {
    if (key === '__proto__') fail(at(path, key), 'is not allowed as a key');
    if (v[key] !== undefined) out[key] = copyPlain(v[key], at(path, key), depth + 1, budget);
  }
  return out;
}

/** The id of service `name` of stack `stack`, as Docker Swarm names them. */
export function serviceId(stack: string, name: string): string {
  return `${stack}_${name}`;
}
