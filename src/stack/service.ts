/**
 * One Compose service read into a fully defaulted {@link ServiceSpec}.
 * Cross-service references (depends_on, networks, volumes, affinity, job
 * dependencies) are collected here and checked by the stack reader.
 *
 * @module
 */
import { DEFAULT_RESTART, readDeploy } from './deploy.js';
import { readServiceFileRefs, type FileObjectRef } from './file-objects.js';
import { finishMounts, readMounts, readTmpfs } from './mounts.js';
import { readPorts } from './ports.js';
import { join, Reader } from './reader.js';
import { readHostKeys } from './service-host.js';
import {
  readCommand,
  readDependsOn,
  readEnvironment,
  readHealthcheck,
  readLogging,
  readRestart,
  readServiceNetworks,
  type ServiceContext,
} from './service-parts.js';
import { DEFAULT_PRIORITY, readAutoscale, readCron, readJob, readShoal, type DependencyRef } from './shoal.js';
import { readImageUpdateSpec } from './image-update-spec.js';
import { readRolloutSpec } from './rollout-spec.js';
import type { ImageUpdateSpec, RolloutSpec, ServiceKind, ServiceSpec } from './spec.js';
import type { PEntry, PNode } from './tree.js';

/** Keys shoal reads in a service. Anything else (but `x-*`) is reported. */
export const SERVICE_KEYS = [
  'image',
  'command',
  'entrypoint',
  'environment',
  'env_file',
  'ports',
  'expose',
  'volumes',
  'tmpfs',
  'labels',
  'healthcheck',
  'depends_on',
  'networks',
  'deploy',
  'restart',
  'working_dir',
  'user',
  'hostname',
  'init',
  'tty',
  'stdin_open',
  'read_only',
  'privileged',
  'cap_add',
  'cap_drop',
  'dns',
  'extra_hosts',
  'sysctls',
  'shm_size',
  'stop_signal',
  'stop_grace_period',
  'logging',
  'platform',
  'network_mode',
  'runtime',
  'secrets',
  'configs',
  'x-shoal',
  // Accepted with a warning: meaningless for a cluster deployment.
  'build',
  'container_name',
  'links',
];

/** References out of a service, for the stack-level checks. */
export interface ServiceRefs {
  readonly dependsOn: { name: string; node: PNode; path: string }[];
  readonly networks: { name: string; node: PNode; path: string }[];
  readonly volumes: { name: string; node: PNode; path: string }[];
  readonly affinity: { service: string; node: PNode; path: string }[];
  readonly jobDeps: DependencyRef[];
  /** `secrets:`/`configs:` items, in order: their sources are Compose keys until parse.ts resolves them. */
  readonly secrets: FileObjectRef[];
  readonly configs: FileObjectRef[];
}

/** Stack-wide defaults a service inherits. */
export interface ServiceDefaults {
  readonly namespace: string;
  readonly owner: string | null;
}

/** Reads one service. Returns `undefined` only when it is not a mapping. */
export function readService(
  r: Reader,
  entry: PEntry,
  ctx: ServiceContext & { home: string | undefined },
  defaults: ServiceDefaults,
): { spec: ServiceSpec; refs: ServiceRefs } | undefined {
  const name = entry.key;
  const path = join('services', name);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
    r.error(
      entry.keyPos,
      path,
      'a service name uses letters, digits, "_", "." and "-", starting with a letter or digit',
    );
  }
  const m = r.map(entry.value, path);
  if (!m) return undefined;
  r.checkKeys(m, path, SERVICE_KEYS, true);
  const get = (k: string) => m.entries.get(k)?.value;
  const p = (k: string) => join(path, k);
  const refs: ServiceRefs = {
    dependsOn: [],
    networks: [],
    volumes: [],
    affinity: [],
    jobDeps: [],
    secrets: [],
    configs: [],
  };

  // Warn about keys that make sense for one Docker host but not a cluster.
  if (get('build')) {
    if (get('image'))
      r.warn(
        m.entries.get('build')!.keyPos,
        p('build'),
        'build is ignored: shoal deploys the image; build and push it first',
      );
    else
      r.error(
        m.entries.get('build')!.keyPos,
        p('build'),
        'shoal does not build images: build and push one, then set image',
      );
  }
  if (get('container_name'))
    r.warn(
      m.entries.get('container_name')!.keyPos,
      p('container_name'),
      'container_name is ignored: shoal names each task itself',
    );
  if (get('links'))
    r.warn(
      m.entries.get('links')!.keyPos,
      p('links'),
      'links is ignored: services reach each other by name on shared networks',
    );

  const shoal = readShoal(r, get('x-shoal'), p('x-shoal'));
  const runtime = shoal.runtime ?? 'docker';
  let image = '';
  const imageNode = get('image');
  if (!imageNode) {
    if (!get('build') && runtime === 'docker')
      r.error(entry.keyPos, path, 'image is required (or x-shoal.runtime: process to run a command on the host)');
  } else if (runtime === 'process') {
    r.error(imageNode, p('image'), 'a process-runtime service runs a host command: remove image');
  } else {
    const s = r.name(imageNode, p('image'));
    if (s !== undefined && /\s/.test(s))
      r.error(imageNode, p('image'), `an image reference has no spaces, got ${JSON.stringify(s)}`);
    image = s ?? '';
  }

  // Jobs restart on failure by default; peek at the kind before reading deploy.
  const deployNode = get('deploy');
  const rawMode = deployNode?.kind === 'map' ? deployNode.entries.get('mode')?.value : undefined;
  const jobLike =
    shoal.kind === 'job' || shoal.kind === 'cron' || (rawMode?.kind === 'scalar' && rawMode.value === 'replicated-job');
  const dr = readDeploy(
    r,
    deployNode,
    p('deploy'),
    jobLike ? { ...DEFAULT_RESTART, condition: 'on-failure' } : DEFAULT_RESTART,
  );
  const kind = resolveKind(r, shoal.kind, shoal.kindNode, dr.mode, dr.modeNode, p);
  const batch = kind === 'job' || kind === 'cron';
  if (kind === 'global' && dr.replicasNode)
    r.error(
      dr.replicasNode,
      p('deploy.replicas'),
      'replicas cannot be set with mode: global (one task runs per eligible node)',
    );

  let restartPolicy = dr.deploy.restartPolicy;
  const restartNode = get('restart');
  if (restartNode) {
    const fromRestart = readRestart(r, restartNode, p('restart'), restartPolicy);
    if (dr.restartGiven)
      r.warn(m.entries.get('restart')!.keyPos, p('restart'), 'restart is ignored because deploy.restart_policy is set');
    else if (fromRestart) restartPolicy = fromRestart;
  }
  if (batch && restartPolicy.condition === 'any') {
    r.error(
      get('deploy') ?? restartNode ?? entry.value,
      p('deploy.restart_policy.condition'),
      `a ${kind} runs to completion: use condition on-failure or none (retries go in x-shoal.job.retries)`,
    );
  }

  if (!batch && shoal.job)
    r.error(shoal.job.node, shoal.job.path, `job settings need x-shoal.kind: job or cron (this service is ${kind})`);
  if (kind !== 'cron' && shoal.cron)
    r.error(shoal.cron.node, shoal.cron.path, `cron settings need x-shoal.kind: cron (this service is ${kind})`);
  if (kind !== 'replicated' && shoal.autoscale)
    r.error(
      shoal.autoscale.node,
      shoal.autoscale.path,
      `autoscale applies to replicated services (this service is ${kind})`,
    );
  if (runtime === 'process' && !get('command') && !get('entrypoint'))
    r.error(entry.keyPos, p('command'), 'a process-runtime service needs a command to run');
  if (!batch && shoal.gang !== undefined)
    r.error(get('x-shoal'), p('x-shoal.gang'), 'gang applies to jobs and cron services');

  let job = batch ? readJob(r, shoal.job, refs.jobDeps) : null;
  if (
    job &&
    (!shoal.job || !(shoal.job.node.kind === 'map' && shoal.job.node.entries.has('parallelism'))) &&
    dr.replicasNode
  ) {
    job = { ...job, parallelism: Math.max(1, dr.deploy.replicas) }; // Compose's replicated-job: replicas run at once
  }
  const cron = kind === 'cron' ? readCron(r, shoal.cron, get('x-shoal') ?? entry.value, p('x-shoal.cron')) : null;
  const autoscale = kind === 'replicated' && shoal.autoscale ? readAutoscale(r, shoal.autoscale) : null;
  const memory = dr.deploy.resources;
  if (autoscale && autoscale.targetMemoryPercent > 0 && !memory.reservations.memoryBytes && !memory.limits.memoryBytes)
    r.error(
      shoal.autoscale!.node,
      p('x-shoal.autoscale.target_memory'),
      'target_memory is a percent of the memory reservation or limit: set deploy.resources.reservations.memory',
    );
  if (autoscale && dr.replicasNode && (dr.deploy.replicas < autoscale.min || dr.deploy.replicas > autoscale.max)) {
    r.error(
      dr.replicasNode,
      p('deploy.replicas'),
      `replicas (${dr.deploy.replicas}) must lie within x-shoal.autoscale min..max (${autoscale.min}..${autoscale.max})`,
    );
  }

  const mounts = [
    ...(get('volumes') ? readMounts(r, get('volumes')!, p('volumes'), ctx, refs.volumes) : []),
    ...(get('tmpfs') ? readTmpfs(r, get('tmpfs')!, p('tmpfs')) : []),
  ];

  const host = readHostKeys(r, m, path, runtime);
  const ports = get('ports') ? readPorts(r, get('ports')!, p('ports')) : [];

  const optStr = (k: string) => (get(k) ? (r.str(get(k)!, p(k)) ?? null) : null);
  const optBool = (k: string) => (get(k) ? (r.bool(get(k)!, p(k)) ?? false) : false);
  const sortedList = (k: string) => (get(k) ? (r.strList(get(k)!, p(k)) ?? []).sort() : []);

  const spec: ServiceSpec = {
    name,
    kind,
    runtime,
    image,
    command: get('command') ? readCommand(r, get('command')!, p('command')) : null,
    entrypoint: get('entrypoint') ? readCommand(r, get('entrypoint')!, p('entrypoint')) : null,
    env: readEnvironment(r, get('environment'), get('env_file'), path, ctx),
    labels: get('labels') ? r.stringRecord(get('labels')!, p('labels')) : {},
    workingDir: optStr('working_dir'),
    user: optStr('user'),
    hostname: optStr('hostname'),
    init: optBool('init'),
    tty: optBool('tty'),
    stdinOpen: optBool('stdin_open'),
    readOnly: optBool('read_only'),
    privileged: optBool('privileged'),
    capAdd: sortedList('cap_add'),
    capDrop: sortedList('cap_drop'),
    dns: get('dns') ? (r.strList(get('dns')!, p('dns')) ?? []) : [],
    extraHosts: get('extra_hosts') ? readExtraHosts(r, get('extra_hosts')!, p('extra_hosts')) : [],
    sysctls: get('sysctls') ? r.stringRecord(get('sysctls')!, p('sysctls')) : {},
    shmSizeBytes: get('shm_size') ? (r.bytes(get('shm_size')!, p('shm_size')) ?? null) : null,
    stopSignal: optStr('stop_signal'),
    stopGracePeriodMs:
      (get('stop_grace_period') && r.duration(get('stop_grace_period')!, p('stop_grace_period'))) ?? 10_000,
    logging: get('logging') ? readLogging(r, get('logging')!, p('logging')) : null,
    ports: host.networkMode ? [] : ports,
    expose: get('expose') ? (r.strList(get('expose')!, p('expose'), false) ?? []).sort() : [],
    volumes: finishMounts(r, mounts, get('volumes') ?? entry.value, p('volumes')),
    healthcheck: get('healthcheck') ? readHealthcheck(r, get('healthcheck')!, p('healthcheck')) : null,
    dependsOn: get('depends_on') ? readDependsOn(r, get('depends_on')!, p('depends_on'), refs.dependsOn) : [],
    networks: host.networkMode ? [] : readServiceNetworks(r, get('networks'), p('networks'), refs.networks),
    deploy: { ...dr.deploy, replicas: kind === 'replicated' ? dr.deploy.replicas : 0, restartPolicy },
    scheduling: {
      priority: shoal.priority ?? (batch ? DEFAULT_PRIORITY.batch : DEFAULT_PRIORITY.service),
      strategy: shoal.strategy ?? 'spread',
      affinity: shoal.affinity,
      namespace: shoal.namespace ?? defaults.namespace,
      owner: shoal.owner ?? defaults.owner,
      gang: shoal.gang ?? false,
      preemptible: shoal.preemptible ?? batch,
      ...(shoal.onDisconnect === undefined ? {} : { onDisconnect: shoal.onDisconnect }),
      ...(shoal.rebalance === false ? { rebalance: false as const } : {}),
    },
    job,
    cron,
    autoscale,
    ...host,
    ...rolloutOf(r, shoal.update, kind),
    ...imageUpdateOf(readImageUpdateSpec(r, shoal.imageUpdate, { kind, runtime })),
    ...fileRefs(r, get('secrets'), p('secrets'), 'secret', refs.secrets),
    ...fileRefs(r, get('configs'), p('configs'), 'config', refs.configs),
  };
  refs.affinity.push(...shoal.affinityRefs);
  const meshPort = spec.ports.some((port) => port.protocol === 'tcp') || spec.expose.some(isTcpPort);
  if (autoscale?.min === 0 && !meshPort)
    r.error(
      shoal.autoscale!.node,
      p('x-shoal.autoscale.min'),
      'min: 0 (scale to zero) needs a TCP port the service mesh listens on (ports: or expose:), as a connection to it wakes the service; use min: 1',
    );
  const rpsNode =
    shoal.autoscale?.node.kind === 'map' ? shoal.autoscale.node.entries.get('target_rps')?.value : undefined;
  if (autoscale?.targetRps !== undefined && !meshPort)
    r.error(
      rpsNode ?? shoal.autoscale!.node,
      p('x-shoal.autoscale.target_rps'),
      'target_rps counts requests through the service mesh: the service needs a TCP port it listens on (ports: or expose:)',
    );
  return { spec, refs };
}

/** `{ rollout }` when `x-shoal.update` is given, else nothing (older specs hash the same). */
function rolloutOf(
  r: Reader,
  at: { node: PNode; path: string } | undefined,
  kind: ServiceKind,
): { rollout?: RolloutSpec } {
  const rollout = readRolloutSpec(r, at, kind);
  return rollout === undefined ? {} : { rollout };
}

/** `{ imageUpdate }` when `x-shoal.image_update` is given, else nothing (older specs hash the same). */
function imageUpdateOf(imageUpdate: ImageUpdateSpec | false | undefined): { imageUpdate?: ImageUpdateSpec | false } {
  return imageUpdate === undefined ? {} : { imageUpdate };
}

/** `{ secrets: [...] }` when the service lists some, else nothing (older specs hash the same). */
function fileRefs(
  r: Reader,
  node: PNode | undefined,
  path: string,
  kind: 'secret' | 'config',
  refs: FileObjectRef[],
): { secrets?: ServiceSpec['secrets']; configs?: ServiceSpec['configs'] } {
  if (node === undefined || (node.kind === 'scalar' && node.value === null)) return {};
  const list = readServiceFileRefs(r, node, path, kind, refs);
  return list.length === 0 ? {} : { [`${kind}s`]: list };
}

function resolveKind(
  r: Reader,
  shoalKind: 'service' | 'job' | 'cron' | undefined,
  kindNode: PNode | undefined,
  mode: string | undefined,
  modeNode: PNode | undefined,
  p: (k: string) => string,
): ServiceKind {
  if (shoalKind === 'job' || shoalKind === 'cron') {
    if (mode === 'global')
      r.error(
        modeNode,
        p('deploy.mode'),
        `x-shoal.kind: ${shoalKind} cannot run with mode: global; remove deploy.mode`,
      );
    return shoalKind;
  }
  if (mode === 'replicated-job') {
    if (shoalKind === 'service')
      r.error(kindNode, p('x-shoal.kind'), 'x-shoal.kind: service contradicts deploy.mode: replicated-job');
    return 'job';
  }
  return mode === 'global' ? 'global' : 'replicated';
}

// extra_hosts: ["host:1.2.3.4"], ["host=1.2.3.4"] or {host: 1.2.3.4}; normalized to "host:ip", sorted.
function readExtraHosts(r: Reader, node: PNode, path: string): string[] {
  if (node.kind === 'map') {
    const rec = r.stringRecord(node, path);
    return Object.entries(rec).map(([h, ip]) => `${h}:${ip}`);
  }
  const list = r.strList(node, path, false) ?? [];
  return list.map((s) => s.replace(/^([^:=]+)=/, '$1:')).sort();
}

/** `expose:` entry that is TCP (`8080`, `8080-8090`, `8080/tcp`). */
function isTcpPort(entry: string): boolean {
  return /^\d{1,5}(?:-\d{1,5})?(?:\/tcp)?$/.test(entry.trim());
}
