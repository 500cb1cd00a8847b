/**
 * What this node's service mesh should hold, computed from the replicated state and what this
 * node's runtime observes: the service addresses (VIPs) to put on `shoal0`, the listeners
 * (VIP:port per declared port, and every `ingress` published port), the endpoints of each
 * service, and the name table the mesh DNS answers from. Pure: no I/O, no clock.
 *
 * In rotation: a task that is `running` (which, with a healthcheck, means it passed) and still
 * wanted (`desiredState: running`). The moment the leader asks a task to stop, every node's
 * balancer takes it out on applying that entry; its own node also drains it before stopping it
 * (mesh-node.ts). Only the node that runs a task knows where to connect to it (its container
 * address on that node's bridge, or 127.0.0.1 for a host process): other nodes reach it through a
 * mesh stream to that node, so the address is not replicated.
 * @module
 */
import { policyOf } from '../autoscale/index.js';
import type { Endpoint, ProxyListener } from '../mesh/index.js';
import type { ObservedContainer } from '../runtime/index.js';
import { MESH_DNS_ADDRESS, type IndexedState, type ServiceRecord, type TaskGroup } from '../state/index.js';

/** Where this node's tasks are reached, by task id. */
export type LocalAddresses = ReadonlyMap<string, string>;

export interface MeshTableInput {
  readonly selfId: string;
  readonly state: Pick<IndexedState, 'services' | 'stacks' | 'tasks'>;
  /** This node's containers and processes, as its runtime last observed them. */
  readonly observed: readonly ObservedContainer[];
}

/** One service as the mesh sees it. */
export interface MeshServiceEntry {
  readonly service: ServiceRecord;
  readonly vip: string;
  readonly endpoints: readonly Endpoint[];
}

export interface MeshTable {
  /** Every address `shoal0` holds: the DNS address and each service's VIP. */
  readonly vips: ReadonlySet<string>;
  readonly listeners: readonly ProxyListener[];
  /** By service id: the services that have a VIP. */
  readonly services: ReadonlyMap<string, MeshServiceEntry>;
  /** Where this node reaches its own tasks (container IP, 127.0.0.1 for host processes). */
  readonly local: LocalAddresses;
  /** The stack of a local container, by its address (a DNS client's stack). */
  readonly stackOfAddress: ReadonlyMap<string, string>;
  /** Service ids by lower-case service name (a bare name from a client of no known stack). */
  readonly byName: ReadonlyMap<string, readonly string[]>;
  /** Lower-case stack names (`<service>.<stack>` is in the zone). */
  readonly stacks: ReadonlySet<string>;
}

/** Ports of `expose:` entries in a range are listened on up to this many per entry. */
const MAX_EXPOSED_RANGE = 100;

/**
 * Build the table. Per-service work is cached by the identity of the service's task group (apply
 * copies it only when one of its tasks changed), so a burst of changes elsewhere costs O(services).
 *
 * @example
 * const cache = new EndpointCache();
 * const table = buildMeshTable({ selfId, state: store.state.view(), observed: workloads.observed() }, cache);
 */
export function buildMeshTable(input: MeshTableInput, cache: EndpointCache = new EndpointCache()): MeshTable {
  const { state, selfId } = input;
  const local = localAddresses(input);
  const stackOfAddress = new Map<string, string>();
  for (const c of input.observed) {
    const task = c.taskId === null ? undefined : state.tasks.get(c.taskId);
    const stack = task === undefined ? undefined : state.services[task.serviceId]?.stack;
    if (c.address && stack !== undefined) stackOfAddress.set(c.address, stack);
  }
  const vips = new Set<string>([MESH_DNS_ADDRESS]);
  const listeners: ProxyListener[] = [];
  const services = new Map<string, MeshServiceEntry>();
  const byName = new Map<string, string[]>();
  for (const id of Object.keys(state.services).sort()) {
    const service = state.services[id]!;
    if (service.vip === undefined) continue;
    vips.add(service.vip);
    const endpoints = cache.endpoints(service, state.tasks.ofService(id), selfId, local);
    services.set(id, { service, vip: service.vip, endpoints });
    const name = service.name.toLowerCase();
    byName.set(name, [...(byName.get(name) ?? []), id]);
    const hold = coldStartHold(service);
    for (const port of servicePorts(service)) listeners.push({ service: id, address: service.vip, port, ...hold });
    for (const p of service.spec.ports) {
      if (p.mode !== 'ingress' || p.protocol !== 'tcp' || p.published === null) continue;
      listeners.push({
        service: id,
        address: p.hostIp ?? '0.0.0.0',
        port: p.published,
        targetPort: p.target,
        ...hold,
      });
    }
  }
  const stacks = new Set(Object.keys(state.stacks).map((s) => s.toLowerCase()));
  return { vips, listeners, services, local, stackOfAddress, byName, stacks };
}

/** A scale-to-zero service's connections wait for a cold start (x-shoal.autoscale), others the proxy's default. */
function coldStartHold(service: ServiceRecord): { holdMs?: number; maxHeld?: number } {
  const policy = policyOf(service.spec);
  if (policy?.min !== 0) return {};
  return { holdMs: policy.coldStartTimeoutMs, maxHeld: policy.coldStartQueue };
}

/** The TCP ports a service's VIP listens on: its published ports' targets and its `expose:` entries. */
export function servicePorts(service: ServiceRecord): number[] {
  const ports = new Set<number>();
  for (const p of service.spec.ports) if (p.protocol === 'tcp') ports.add(p.target);
  for (const entry of service.spec.expose) {
    const match = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/.exec(entry.trim());
    if (match === null || (match[3] ?? 'tcp') !== 'tcp') continue;
    const first = Number(match[1]);
    const last = Math.min(Number(match[2] ?? match[1]), first + MAX_EXPOSED_RANGE - 1);
    for (let port = first; port <= last; port++) if (port >= 1 && port <= 65535) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

/**
 * Where this node reaches each of its running tasks: a host-process task (or a container on the
 * host's network) at 127.0.0.1, a container at its address on its stack network.
 */
function localAddresses(input: MeshTableInput): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of input.observed) {
    if (c.taskId === null || c.status !== 'running') continue;
    const task = input.state.tasks.get(c.taskId);
    if (task === undefined || task.nodeId !== input.selfId || task.generation !== c.generation) continue;
    const spec = input.state.services[task.serviceId]?.spec;
    if (spec === undefined) continue;
    if (spec.runtime === 'process' || spec.networkMode === 'host') out.set(task.id, '127.0.0.1');
    else if (c.address) out.set(task.id, c.address);
  }
  return out;
}

/** Endpoints of each service, rebuilt only when its tasks or this node's local addresses changed. */
export class EndpointCache {
  #entries = new Map<string, { group: TaskGroup; local: string; endpoints: readonly Endpoint[] }>();

  endpoints(service: ServiceRecord, group: TaskGroup, selfId: string, local: LocalAddresses): readonly Endpoint[] {
    // The local part of the key: only this service's local tasks matter.
    const localKey = localKeyOf(group, selfId, local);
    const hit = this.#entries.get(service.id);
    if (hit !== undefined && hit.group === group && hit.local === localKey) return hit.endpoints;
    const endpoints: Endpoint[] = [];
    for (const task of group) {
      if (task.state !== 'running' || task.nodeId === null) continue;
      const address = task.nodeId === selfId ? local.get(task.id) : undefined;
      endpoints.push({
        taskId: task.id,
        nodeId: task.nodeId,
        ...(address === undefined ? {} : { address }),
        healthy: task.nodeId !== selfId || address !== undefined,
        draining: task.desiredState !== 'running',
      });
    }
    endpoints.sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
    this.#entries.set(service.id, { group, local: localKey, endpoints });
    return endpoints;
  }

  /** Forget services no longer in the state. */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.#entries.keys()) if (!ids.has(id)) this.#entries.delete(id);
  }
}

function localKeyOf(group: TaskGroup, selfId: string, local: LocalAddresses): string {
  let key = '';
  for (const task of group) if (task.nodeId === selfId) key += `${task.id}=${local.get(task.id) ?? ''};`;
  return key;
}

/**
 * The addresses the mesh DNS answers for `name` asked by `client` (null: not a name of ours).
 * `web` means the client's own stack's service (or the only service of that name); `web.shop`
 * service web of stack shop; `tasks.web` every task in rotation this client can reach directly:
 * this node's tasks at their addresses, and the VIP when others run elsewhere (there is no
 * overlay network: another node's container address is not reachable from here). A service with
 * `endpoint_mode: dnsrr` answers its name as `tasks.` does.
 */
export function lookupName(table: MeshTable, asked: string, client: string): readonly string[] | null {
  const name = withoutSuffix(asked);
  const tasks = name.startsWith('tasks.');
  const entry = serviceFor(table, tasks ? name.slice('tasks.'.length) : name, client);
  if (entry === null) return null;
  if (!tasks && entry.service.spec.deploy.endpointMode !== 'dnsrr') return [entry.vip];
  const inRotation = entry.endpoints.filter((e) => e.healthy && !e.draining);
  const direct = inRotation.flatMap((e) => (e.address === undefined || e.address === '127.0.0.1' ? [] : [e.address]));
  return direct.length === inRotation.length ? direct : [...direct, entry.vip];
}

function serviceFor(table: MeshTable, name: string, client: string): MeshServiceEntry | null {
  const dot = name.indexOf('.');
  if (dot > 0) {
    if (name.indexOf('.', dot + 1) !== -1) return null;
    return matchIn(table, name.slice(0, dot), name.slice(dot + 1));
  }
  const stack = table.stackOfAddress.get(client);
  if (stack !== undefined) return matchIn(table, name, stack.toLowerCase());
  const ids = table.byName.get(name) ?? [];
  return ids.length === 1 ? (table.services.get(ids[0]!) ?? null) : null;
}

function matchIn(table: MeshTable, service: string, stack: string): MeshServiceEntry | null {
  for (const id of table.byName.get(service) ?? []) {
    const entry = table.services.get(id)!;
    if (entry.service.stack.toLowerCase() === stack) return entry;
  }
  return null;
}

/**
 * Every name may also be asked with the suffix `.shoal` (`web.shop.shoal`): a host's resolver
 * can route that one domain to the mesh DNS (host processes: docs/ARCHITECTURE.md).
 */
const SUFFIX = '.shoal';

function withoutSuffix(name: string): string {
  return name.endsWith(SUFFIX) ? name.slice(0, -SUFFIX.length) : name;
}

/** Names the mesh DNS denies (NXDOMAIN) rather than forwards: bare names, `tasks.*`, `*.<stack>`, `*.shoal`. */
export function inZone(table: MeshTable, name: string): boolean {
  if (name.endsWith(SUFFIX)) return true;
  if (!name.includes('.') || name.startsWith('tasks.')) return true;
  return table.stacks.has(name.slice(name.lastIndexOf('.') + 1));
}
