/**
 * The Compose `deploy:` section: mode, replicas, placement, resources,
 * restart, update and rollback policies, labels — defaulted as Docker Swarm does.
 *
 * @module
 */
import { join, Reader, show } from './reader.js';
import type {
  ConstraintSpec,
  DeploySpec,
  DeviceRequestSpec,
  PlacementSpec,
  ResourceSet,
  ResourcesSpec,
  RestartPolicySpec,
  UpdateConfigSpec,
} from './spec.js';
import type { PMap, PNode } from './tree.js';

/** `deploy.mode` values; `replicated-job` is Compose's job mode (kind `job`). */
export type DeployMode = 'replicated' | 'global' | 'replicated-job';

const DEPLOY_KEYS = [
  'mode',
  'replicas',
  'endpoint_mode',
  'labels',
  'placement',
  'resources',
  'restart_policy',
  'update_config',
  'rollback_config',
];
const UPDATE_KEYS = ['parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio', 'order'];

/** Swarm's defaults for an update (and a rollback, whose failure action can't be rollback). */
export const DEFAULT_UPDATE: UpdateConfigSpec = {
  parallelism: 1,
  delayMs: 0,
  failureAction: 'pause',
  monitorMs: 5000,
  maxFailureRatio: 0,
  order: 'stop-first',
};

/** Swarm's default restart policy for services; jobs default to `on-failure`. */
export const DEFAULT_RESTART: RestartPolicySpec = { condition: 'any', delayMs: 5000, maxAttempts: 0, windowMs: 0 };

const EMPTY_SET: ResourceSet = { cpuMillis: 0, memoryBytes: 0, pids: 0, generic: {}, devices: [] };

/** What {@link readDeploy} found: the spec plus the raw mode and whether keys were explicit. */
export interface DeployRead {
  readonly deploy: DeploySpec;
  readonly mode: DeployMode | undefined;
  readonly modeNode: PNode | undefined;
  readonly replicasNode: PNode | undefined;
  readonly restartGiven: boolean;
}

/** Reads `deploy:` (absent means all defaults). `restartDefault` depends on the service kind. */
export function readDeploy(
  r: Reader,
  node: PNode | undefined,
  path: string,
  restartDefault: RestartPolicySpec,
): DeployRead {
  const m = node === undefined ? undefined : r.map(node, path, true);
  if (m) r.checkKeys(m, path, DEPLOY_KEYS);
  const get = (k: string) => m?.entries.get(k)?.value;
  const p = (k: string) => join(path, k);
  const modeNode = get('mode');
  const mode = modeNode
    ? r.oneOf(modeNode, p('mode'), ['replicated', 'global', 'replicated-job', 'global-job'] as const)
    : undefined;
  if (mode === 'global-job')
    r.error(
      modeNode,
      p('mode'),
      'global-job is not supported; use x-shoal.kind: job with replicas, or mode: global for a daemon',
    );
  const replicasNode = get('replicas');
  const replicas = replicasNode ? r.int(replicasNode, p('replicas')) : undefined;
  const endpointMode = get('endpoint_mode')
    ? r.oneOf(get('endpoint_mode')!, p('endpoint_mode'), ['vip', 'dnsrr'] as const)
    : undefined;
  const restartNode = get('restart_policy');
  const deploy: DeploySpec = {
    replicas: replicas ?? 1,
    endpointMode: endpointMode ?? 'vip',
    labels: get('labels') ? r.stringRecord(get('labels')!, p('labels')) : {},
    placement: readPlacement(r, get('placement'), p('placement')),
    resources: readResources(r, get('resources'), p('resources')),
    restartPolicy: readRestart(r, restartNode, p('restart_policy'), restartDefault),
    updateConfig: readUpdate(r, get('update_config'), p('update_config'), false),
    rollbackConfig: readUpdate(r, get('rollback_config'), p('rollback_config'), true),
  };
  return {
    deploy,
    mode: mode === 'global-job' ? undefined : mode,
    modeNode,
    replicasNode,
    restartGiven: restartNode !== undefined,
  };
}

function sub(r: Reader, node: PNode | undefined, path: string, keys: string[]): PMap | undefined {
  if (node === undefined) return undefined;
  const m = r.map(node, path, true);
  if (m) r.checkKeys(m, path, keys);
  return m;
}

const ATTRIBUTES = ['node.id', 'node.hostname', 'node.role', 'node.platform.os', 'node.platform.arch'];

/**
 * Parses a placement constraint such as `node.labels.zone == east`.
 * Throws a `RangeError` saying what is accepted.
 */
export function parseConstraint(text: string): ConstraintSpec {
  const m = /^\s*([A-Za-z0-9_.\-/]+)\s*(==|!=)\s*(\S(?:.*\S)?)\s*$/.exec(text);
  if (!m)
    throw new RangeError(
      `invalid constraint ${JSON.stringify(text)}: expected "attribute == value" or "attribute != value", e.g. "node.labels.zone == east"`,
    );
  const attribute = m[1]!;
  const labelled = /^(node|engine)\.labels\.[^.].*$/.test(attribute);
  if (!labelled && !ATTRIBUTES.includes(attribute)) {
    throw new RangeError(
      `unknown constraint attribute "${attribute}": use node.labels.<key>, engine.labels.<key>, ${ATTRIBUTES.join(', ')}`,
    );
  }
  if (attribute === 'node.role' && m[3] !== 'manager' && m[3] !== 'worker') {
    throw new RangeError(`node.role is manager or worker, got ${JSON.stringify(m[3])}`);
  }
  return { attribute, op: m[2] as '==' | '!=', value: m[3]! };
}

function readPlacement(r: Reader, node: PNode | undefined, path: string): PlacementSpec {
  const m = sub(r, node, path, ['constraints', 'preferences', 'max_replicas_per_node']);
  const get = (k: string) => m?.entries.get(k)?.value;
  const constraints: ConstraintSpec[] = [];
  const cNode = get('constraints');
  if (cNode) {
    const list = cNode.kind === 'seq' ? cNode.items : [cNode];
    list.forEach((it, i) => {
      const p = cNode.kind === 'seq' ? join(join(path, 'constraints'), i) : join(path, 'constraints');
      const s = r.str(it, p);
      if (s === undefined) return;
      try {
        constraints.push(parseConstraint(s));
      } catch (e) {
        r.error(it, p, (e as Error).message);
      }
    });
  }
  constraints.sort((a, b) => cmp(a.attribute, b.attribute) || cmp(a.op, b.op) || cmp(a.value, b.value));
  const preferences: { spread: string }[] = [];
  const pNode = get('preferences');
  if (pNode) {
    if (pNode.kind !== 'seq')
      r.error(
        pNode,
        join(path, 'preferences'),
        `expected a list such as [{spread: node.labels.zone}], got ${show(pNode)}`,
      );
    else
      pNode.items.forEach((it, i) => {
        const p = join(join(path, 'preferences'), i);
        const pm = r.map(it, p);
        if (!pm) return;
        r.checkKeys(pm, p, ['spread']);
        const s = pm.entries.get('spread');
        if (!s) return r.error(pm, p, 'expected spread: <node attribute>, e.g. spread: node.labels.zone');
        const v = r.name(s.value, join(p, 'spread'));
        if (v !== undefined) preferences.push({ spread: v });
      });
  }
  const maxNode = get('max_replicas_per_node');
  const maxReplicasPerNode = maxNode ? (r.int(maxNode, join(path, 'max_replicas_per_node')) ?? 0) : 0;
  return { constraints, preferences, maxReplicasPerNode };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function readResources(r: Reader, node: PNode | undefined, path: string): ResourcesSpec {
  const m = sub(r, node, path, ['limits', 'reservations']);
  const limits = readSet(r, m?.entries.get('limits')?.value, join(path, 'limits'), false);
  const reservations = readSet(r, m?.entries.get('reservations')?.value, join(path, 'reservations'), true);
  const check = (k: 'cpuMillis' | 'memoryBytes', name: string) => {
    if (limits[k] > 0 && reservations[k] > limits[k]) {
      r.error(
        m?.entries.get('reservations')?.value,
        join(path, `reservations.${name}`),
        `reservation (${reservations[k]}) exceeds the limit (${limits[k]}); lower it or raise limits.${name}`,
      );
    }
  };
  check('cpuMillis', 'cpus');
  check('memoryBytes', 'memory');
  return { limits, reservations };
}

function readSet(r: Reader, node: PNode | undefined, path: string, reservation: boolean): ResourceSet {
  const keys = reservation ? ['cpus', 'memory', 'generic_resources', 'devices'] : ['cpus', 'memory', 'pids'];
  const m = sub(r, node, path, keys);
  if (!m) return EMPTY_SET;
  const get = (k: string) => m.entries.get(k)?.value;
  const p = (k: string) => join(path, k);
  const generic: Record<string, number> = {};
  const gNode = get('generic_resources');
  if (gNode) readGeneric(r, gNode, p('generic_resources'), generic);
  const devices: DeviceRequestSpec[] = [];
  const dNode = get('devices');
  if (dNode) readDevices(r, dNode, p('devices'), devices);
  return {
    cpuMillis: get('cpus') ? (r.cpus(get('cpus')!, p('cpus')) ?? 0) : 0,
    memoryBytes: get('memory') ? (r.bytes(get('memory')!, p('memory')) ?? 0) : 0,
    pids: get('pids') ? (r.int(get('pids')!, p('pids')) ?? 0) : 0,
    generic: Object.fromEntries(Object.entries(generic).sort(([a], [b]) => cmp(a, b))),
    devices,
  };
}

// Swarm: generic_resources: [{discrete_resource_spec: {kind: gpu, value: 2}}]
function readGeneric(r: Reader, node: PNode, path: string, out: Record<string, number>): void {
  if (node.kind !== 'seq')
    return r.error(node, path, `expected a list of {discrete_resource_spec: {kind, value}}, got ${show(node)}`);
  node.items.forEach((it, i) => {
    const p = join(path, i);
    const m = sub(r, it, p, ['discrete_resource_spec', 'named_resource_spec']);
    if (!m) return;
    if (m.entries.has('named_resource_spec')) {
      r.error(
        m.entries.get('named_resource_spec')!.keyPos,
        join(p, 'named_resource_spec'),
        'named generic resources are not supported; use discrete_resource_spec with a count',
      );
    }
    const d = m.entries.get('discrete_resource_spec');
    if (!d) return;
    const dm = sub(r, d.value, join(p, 'discrete_resource_spec'), ['kind', 'value']);
    const kindNode = dm?.entries.get('kind')?.value;
    const valueNode = dm?.entries.get('value')?.value;
    if (!dm || !kindNode || !valueNode)
      return r.error(d.value, join(p, 'discrete_resource_spec'), 'expected kind and value, e.g. {kind: gpu, value: 1}');
    const kind = r.name(kindNode, join(p, 'discrete_resource_spec.kind'));
    const value = r.int(valueNode, join(p, 'discrete_resource_spec.value'), 1);
    if (kind !== undefined && value !== undefined) out[kind] = (out[kind] ?? 0) + value;
  });
}

// Compose: devices: [{capabilities: [gpu], driver: nvidia, count: 1 | all, device_ids: [...]}]
function readDevices(r: Reader, node: PNode, path: string, out: DeviceRequestSpec[]): void {
  if (node.kind !== 'seq') return r.error(node, path, `expected a list of device requests, got ${show(node)}`);
  node.items.forEach((it, i) => {
    const p = join(path, i);
    const m = sub(r, it, p, ['capabilities', 'driver', 'count', 'device_ids', 'options']);
    if (!m) return;
    const get = (k: string) => m.entries.get(k)?.value;
    const capsNode = get('capabilities');
    if (!capsNode) r.error(m, p, 'capabilities is required, e.g. capabilities: [gpu]');
    const capabilities = (capsNode ? (r.strList(capsNode, join(p, 'capabilities'), false) ?? []) : []).sort();
    let count: number | 'all' | null = null;
    const cNode = get('count');
    if (cNode) {
      if (cNode.kind === 'scalar' && cNode.value === 'all') count = 'all';
      else count = r.int(cNode, join(p, 'count'), 1) ?? null;
    }
    const deviceIds = get('device_ids') ? (r.strList(get('device_ids')!, join(p, 'device_ids'), false) ?? []) : [];
    if (cNode && deviceIds.length > 0) r.error(m, p, 'count and device_ids cannot both be set');
    if (!cNode && deviceIds.length === 0) count = 'all';
    out.push({
      capabilities,
      driver: get('driver') ? (r.str(get('driver')!, join(p, 'driver')) ?? null) : null,
      count,
      deviceIds,
      options: get('options') ? r.stringRecord(get('options')!, join(p, 'options')) : {},
    });
  });
}

function readRestart(r: Reader, node: PNode | undefined, path: string, def: RestartPolicySpec): RestartPolicySpec {
  const m = sub(r, node, path, ['condition', 'delay', 'max_attempts', 'window']);
  const get = (k: string) => m?.entries.get(k)?.value;
  const p = (k: string) => join(path, k);
  return {
    condition:
      (get('condition') && r.oneOf(get('condition')!, p('condition'), ['none', 'on-failure', 'any'] as const)) ||
      def.condition,
    delayMs: (get('delay') && r.duration(get('delay')!, p('delay'))) ?? def.delayMs,
    maxAttempts: (get('max_attempts') && r.int(get('max_attempts')!, p('max_attempts'))) ?? def.maxAttempts,
    windowMs: (get('window') && r.duration(get('window')!, p('window'))) ?? def.windowMs,
  };
}

function readUpdate(r: Reader, node: PNode | undefined, path: string, rollback: boolean): UpdateConfigSpec {
  const m = sub(r, node, path, UPDATE_KEYS);
  const get = (k: string) => m?.entries.get(k)?.value;
  const p = (k: string) => join(path, k);
  const actions = rollback ? (['pause', 'continue'] as const) : (['pause', 'continue', 'rollback'] as const);
  const d = DEFAULT_UPDATE;
  return {
    parallelism: (get('parallelism') && r.int(get('parallelism')!, p('parallelism'))) ?? d.parallelism,
    delayMs: (get('delay') && r.duration(get('delay')!, p('delay'))) ?? d.delayMs,
    failureAction:
      (get('failure_action') && r.oneOf(get('failure_action')!, p('failure_action'), actions)) || d.failureAction,
    monitorMs: (get('monitor') && r.duration(get('monitor')!, p('monitor'))) ?? d.monitorMs,
    maxFailureRatio:
      (get('max_failure_ratio') && r.num(get('max_failure_ratio')!, p('max_failure_ratio'), 0, 1)) ?? d.maxFailureRatio,
    order: (get('order') && r.oneOf(get('order')!, p('order'), ['stop-first', 'start-first'] as const)) || d.order,
  };
}
