/**
 * The Docker create options of a task's container, pure: everything the engine needs from the
 * normalized ServiceSpec, the task and this node. Kept apart from the driver so that the parts no
 * test machine can exercise for real (GPUs, sysctls) are still checked by inspecting the options.
 *
 * @module
 */
import { taskEnvironment, taskLabels } from './task-env.js';
import type Docker from 'dockerode';
import type { HealthcheckSpec, MountSpec, ServiceSpec } from '../stack/spec.js';
import type { RunnableAssignment } from './types.js';

const MS_TO_NS = 1_000_000;

/** `shoal-<stack>_<service>.<slot or node short id>.<task id>`, sanitized to Docker's name alphabet. */
export function containerName(nodeId: string, a: RunnableAssignment): string {
  const slot = a.task.slot > 0 ? String(a.task.slot) : shortNodeId(nodeId);
  return sanitize(`shoal-${a.service.stack}_${a.service.name}.${slot}.${a.task.id}`);
}

/** A node id's last 12 characters: libp2p peer ids share their leading characters. */
export function shortNodeId(nodeId: string): string {
  return nodeId.slice(-12);
}

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

/** The volume a named mount uses on the engine: `<stack>_<name>`, as Compose and Swarm name them. */
export function volumeName(stack: string, source: string): string {
  return `${stack}_${source}`;
}

/** How this node's service mesh changes a container (src/agent/mesh-node.ts); none when it is off. */
export interface MeshCreateOptions {
  /**
   * A resolv.conf naming the mesh DNS, bind-mounted read-only over the container's own, so that
   * names are answered by the mesh and not by Docker's embedded DNS in front of it.
   */
  readonly resolvConf: string;
}

/**
 * The options of `docker create` for a task. Docker's own restart policy is `no`: shoal restarts
 * containers itself, with back-off, and reports each restart. With the mesh, ports published in
 * `ingress` mode are the mesh's (every node listens on them), so the container publishes only
 * its `host` ones.
 */
export function containerCreateOptions(
  nodeId: string,
  a: RunnableAssignment,
  mesh: MeshCreateOptions | null = null,
): Docker.ContainerCreateOptions {
  const { spec } = a.service;
  const gpus = a.task.gpus;
  const env: Record<string, string> = { ...spec.env, ...taskEnvironment(nodeId, a.task) };
  const labels = taskLabels(nodeId, a);
  const { limits, reservations } = spec.deploy.resources;
  const { exposed, bindings } = portOptions(spec, mesh !== null);
  const mounts = spec.volumes.map((m) => mountOption(a.service.stack, m));
  // With `network_mode: host` the container has the node's own resolver; the user's `dns:` or
  // resolv.conf mount wins over the mesh's.
  const ownResolver = spec.dns.length > 0 || spec.volumes.some((m) => m.target === '/etc/resolv.conf');
  if (mesh !== null && spec.networkMode === undefined && !ownResolver)
    mounts.push({ Type: 'bind', Source: mesh.resolvConf, Target: '/etc/resolv.conf', ReadOnly: true });
  const hostConfig: Docker.HostConfig = {
    RestartPolicy: { Name: 'no' },
    Init: spec.init,
    ReadonlyRootfs: spec.readOnly,
    Privileged: spec.privileged,
    CapAdd: [...spec.capAdd],
    CapDrop: [...spec.capDrop],
    Dns: [...spec.dns],
    ExtraHosts: [...spec.extraHosts],
    Sysctls: { ...spec.sysctls },
    PortBindings: bindings,
    // The typings demand fields the engine does not (Source of a tmpfs, Mode of its options).
    Mounts: mounts as unknown as Docker.MountConfig,
  };
  if (limits.cpuMillis > 0) hostConfig.NanoCpus = limits.cpuMillis * MS_TO_NS;
  if (limits.memoryBytes > 0) hostConfig.Memory = limits.memoryBytes;
  if (reservations.memoryBytes > 0) hostConfig.MemoryReservation = reservations.memoryBytes;
  if (limits.pids > 0) hostConfig.PidsLimit = limits.pids;
  if (spec.shmSizeBytes !== null) hostConfig.ShmSize = spec.shmSizeBytes;
  if (spec.logging) hostConfig.LogConfig = { Type: spec.logging.driver, Config: { ...spec.logging.options } };
  if (gpus.length > 0) {
    hostConfig.DeviceRequests = [{ Driver: 'nvidia', DeviceIDs: [...gpus], Capabilities: [['gpu']] }];
  }
  if (spec.ociRuntime !== undefined) hostConfig.Runtime = spec.ociRuntime;
  const options: Docker.ContainerCreateOptions = {
    name: containerName(nodeId, a),
    Image: spec.image,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: labels,
    Tty: spec.tty,
    OpenStdin: spec.stdinOpen,
    ExposedPorts: exposed,
    HostConfig: hostConfig,
  };
  if (spec.networkMode !== undefined) {
    // The node's network stack, or none: no stack network, no aliases, nothing published.
    hostConfig.NetworkMode = spec.networkMode;
  } else {
    const networks = stackNetworks(nodeId, a);
    hostConfig.NetworkMode = networks[0]!.name;

    options.NetworkingConfig = {
      EndpointsConfig: Object.fromEntries(networks.map((n) => [n.name, { Aliases: n.aliases }])),
    };
  }
  if (spec.command !== null) options.Cmd = [...spec.command];
  if (spec.entrypoint !== null) options.Entrypoint = [...spec.entrypoint];
  if (spec.workingDir !== null) options.WorkingDir = spec.workingDir;
  if (spec.user !== null) options.User = spec.user;
  if (spec.hostname !== null) options.Hostname = spec.hostname;
  if (spec.stopSignal !== null) options.StopSignal = spec.stopSignal;
  options.StopTimeout = Math.ceil(spec.stopGracePeriodMs / 1000);
  const health = healthOption(spec.healthcheck);
  if (health) options.Healthcheck = health;
  return options;
}

/**
 * Published ports. Without the mesh, `ingress` ports are published on the node that runs the
 * task, like `host` ports (the scheduler keeps two tasks off one host port); with it, only `host`
 * ports are (every node's mesh listens on the `ingress` ones).
 */
function portOptions(
  spec: ServiceSpec,
  meshIngress: boolean,
): {
  exposed: Record<string, object>;
  bindings: Record<string, { HostIp: string; HostPort: string }[]>;
} {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of spec.ports) {
    const key = `${p.target}/${p.protocol}`;
    exposed[key] = {};
    if (meshIngress && p.mode === 'ingress' && p.protocol === 'tcp') continue;
    (bindings[key] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: p.published === null ? '' : String(p.published) });
  }
  return { exposed, bindings };
}

/** One entry of `HostConfig.Mounts`, as the engine accepts it. */
interface MountOption {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source?: string;
  Target: string;
  ReadOnly: boolean;
  VolumeOptions?: { NoCopy: boolean };
  TmpfsOptions?: { SizeBytes: number };
}

function mountOption(stack: string, m: MountSpec): MountOption {
  switch (m.type) {
    case 'bind':
      return { Type: 'bind', Source: m.source ?? '', Target: m.target, ReadOnly: m.readOnly };
    case 'volume': {
      const base: MountOption = { Type: 'volume', Target: m.target, ReadOnly: m.readOnly };
      if (m.source !== null) base.Source = volumeName(stack, m.source);
      if (m.noCopy) base.VolumeOptions = { NoCopy: true };
      return base;
    }
    case 'tmpfs': {
      const base: MountOption = { Type: 'tmpfs', Target: m.target, ReadOnly: m.readOnly };
      if (m.tmpfsSizeBytes) base.TmpfsOptions = { SizeBytes: m.tmpfsSizeBytes };
      return base;
    }
  }
}

/** Docker's healthcheck: durations in ns; `NONE` turns the image's check off; `null` keeps the image's. */
function healthOption(h: HealthcheckSpec | null): Docker.HealthConfig | null {
  if (h === null) return null;
  if (h.disabled) return { Test: ['NONE'] };
  const out: Docker.HealthConfig = {
    Interval: h.intervalMs * MS_TO_NS,
    Timeout: h.timeoutMs * MS_TO_NS,
    Retries: h.retries,
    StartPeriod: h.startPeriodMs * MS_TO_NS,
  };
  if (h.test !== null) out.Test = [...h.test];
  if (h.startIntervalMs > 0) out.StartInterval = h.startIntervalMs * MS_TO_NS;
  return out;
}

/** The named volumes a task needs (to create them when missing). */
/**
 * The engine networks a task joins: one bridge per stack network per node, named
 * `<stack>_<network>_<node short id>` (`default` when the service names none). Containers of a
 * stack on the same node reach each other by service name; shoal has no overlay network, so
 * across nodes they talk through published ports. The node in the name keeps agents that share
 * an engine (tests, the local demo) from racing to create one name twice: Docker allows
 * duplicate names and then refuses to start containers on them. External networks are not
 * supported yet. None with `network_mode` (`host`, `none`).
 */
export function stackNetworks(nodeId: string, a: RunnableAssignment): { name: string; aliases: string[] }[] {
  if (a.service.spec.networkMode !== undefined) return [];
  const networks = a.service.spec.networks.length > 0 ? a.service.spec.networks : [{ name: 'default', aliases: [] }];
  return networks.map((n) => ({
    name: `${a.service.stack}_${n.name}_${shortNodeId(nodeId)}`,
    aliases: [a.service.name, ...n.aliases],
  }));
}

export function namedVolumes(a: RunnableAssignment): string[] {
  return a.service.spec.volumes
    .filter((m) => m.type === 'volume' && m.source !== null)
    .map((m) => volumeName(a.service.stack, m.source!));
}
