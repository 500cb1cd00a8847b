/**
 * Service addresses (VIPs): every service gets one address of 10.253.0.0/16, handed out by apply
 * so every peer hands out the same one. The mesh (src/agent/mesh-node.ts) puts them on each
 * node's `shoal0` link and listens on them; the mesh DNS answers service names with them.
 *
 * Allocation: the lowest free address from 10.253.0.2 (10.253.0.1 is the mesh DNS); a removed
 * service's address is free again at once (the DNS answers with TTL 0, so a name never points at
 * it from a cache). A service deployed before VIPs existed (a state restored from an older
 * snapshot) has none: the leader proposes `service.vips`, which gives one to each such service in
 * id order. Allocation is a function of the state at the command's index, never of a restore:
 * peers restore snapshots taken at different indexes, and an allocation made while restoring
 * would differ between them.
 * @module
 */
import type { RecordEdit } from './record-edit.js';
import type { ServiceRecord } from './workloads.js';

/** The mesh DNS listens here on every node. */
export const MESH_DNS_ADDRESS = '10.253.0.1';
/** The first and last host numbers handed to services (10.253.0.2 .. 10.253.255.254). */
const FIRST = 2;
const LAST = 0xfffe;
const PREFIX = '10.253.';

/** The VIP with host number `n` (0 < n < 65535). */
export function vipAddress(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > LAST) throw new RangeError(`Cannot make a VIP from host number ${n}`);
  return `${PREFIX}${n >> 8}.${n & 0xff}`;
}

/** The host number of a VIP, or null when `address` is not a service address. */
export function vipNumber(address: string): number | null {
  const match = /^10\.253\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (match === null) return null;
  const n = Number(match[1]) * 256 + Number(match[2]);
  return Number(match[1]) <= 255 && Number(match[2]) <= 255 && n >= FIRST && n <= LAST ? n : null;
}

/** Shape check for snapshots and records: a service address of the range. */
export function isServiceVip(address: string): boolean {
  return vipNumber(address) !== null;
}

/**
 * Give each of `ids` (in the order given) that has no VIP the lowest free one. `services` holds
 * the edits so far; `all` is every service id after them (their VIPs are taken). Returns false,
 * changing nothing more, when the range is exhausted (65,533 services).
 */
export function allocateVips(
  services: RecordEdit<ServiceRecord>,
  all: Iterable<string>,
  ids: Iterable<string>,
): boolean {
  const used = new Set<number>();
  for (const id of all) {
    const vip = services.get(id)?.vip;
    const n = vip === undefined ? null : vipNumber(vip);
    if (n !== null) used.add(n);
  }
  let next = FIRST;
  for (const id of ids) {
    const service = services.get(id);
    if (service === undefined || service.vip !== undefined || !needsVip(service)) continue;
    while (next <= LAST && used.has(next)) next++;
    if (next > LAST) return false;
    used.add(next);
    services.set(id, { ...service, vip: vipAddress(next) });
  }
  return true;
}

/** The services with no VIP, sorted (what `service.vips` would give one to). */
export function servicesWithoutVip(services: Readonly<Record<string, ServiceRecord>>): string[] {
  const out: string[] = [];
  for (const id in services) {
    const service = services[id]!;
    if (service.vip === undefined && needsVip(service)) out.push(id);
  }
  return out.sort();
}

/** Long-running services are reached by name; jobs and cron runs are not. */
export function needsVip(service: ServiceRecord): boolean {
  return service.spec.kind === 'replicated' || service.spec.kind === 'global';
}
