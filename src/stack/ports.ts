/**
 * `ports:` in short (`"127.0.0.1:8080-8081:80-81/udp"`, `80`) and long
 * (`{target, published, protocol, mode, host_ip}`) syntax.
 *
 * @module
 */
import { MAX_LIST_ITEMS } from './limits.js';
import { join, Reader, show } from './reader.js';
import type { PortSpec } from './spec.js';
import type { PNode } from './tree.js';

const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
const LONG_KEYS = ['target', 'published', 'host_ip', 'protocol', 'mode', 'name', 'app_protocol'];

/** Reads a service's `ports:` list into sorted {@link PortSpec}s. */
export function readPorts(r: Reader, node: PNode, path: string): PortSpec[] {
  if (node.kind !== 'seq') {
    r.error(node, path, `expected a list of ports, got ${show(node)}`);
    return [];
  }
  if (!r.within(node, path, node.items.length, MAX_LIST_ITEMS)) return [];
  const out: PortSpec[] = [];
  node.items.forEach((item, i) => {
    const p = join(path, i);
    if (item.kind === 'map') out.push(...readLong(r, item, p));
    else if (item.kind === 'scalar' && (typeof item.value === 'string' || typeof item.value === 'number')) {
      try {
        out.push(...parsePortShort(String(item.value)));
      } catch (e) {
        r.error(item, p, (e as Error).message);
      }
    } else r.error(item, p, `expected a port such as "8080:80" or a mapping with target, got ${show(item)}`);
  });
  const seen = new Set<string>();
  for (const port of out) {
    if (port.published === null) continue;
    const k = `${port.hostIp ?? ''}:${port.published}/${port.protocol}`;
    if (seen.has(k)) r.error(node, path, `published port ${port.published}/${port.protocol} is listed twice`);
    seen.add(k);
  }
  return out.sort(comparePorts);
}

function comparePorts(a: PortSpec, b: PortSpec): number {
  return (
    a.target - b.target ||
    a.protocol.localeCompare(b.protocol) ||
    (a.published ?? -1) - (b.published ?? -1) ||
    (a.hostIp ?? '').localeCompare(b.hostIp ?? '') ||
    a.mode.localeCompare(b.mode)
  );
}

/**
 * Parses short port syntax `[[host_ip:][published]:]target[/protocol]`,
 * where published and target may be equal-length ranges (`8080-8081:80-81`).
 * Throws a `RangeError` describing the expected form.
 *
 * @example
 * ```ts
 * parsePortShort('8080:80'); // [{ target: 80, published: 8080, protocol: 'tcp', mode: 'ingress', hostIp: null }]
 * ```
 */
export function parsePortShort(text: string): PortSpec[] {
  const bad = (why: string) =>
    new RangeError(
      `invalid port ${JSON.stringify(text)}: ${why} (expected [host_ip:][published:]target[/protocol], e.g. "8080:80")`,
    );
  let rest = text.trim();
  let protocol: PortSpec['protocol'] = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const proto = rest.slice(slash + 1);
    if (!(PROTOCOLS as readonly string[]).includes(proto)) throw bad(`unknown protocol "${proto}"`);
    protocol = proto as PortSpec['protocol'];
    rest = rest.slice(0, slash);
  }
  let hostIp: string | null = null;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']:');
    if (end < 0) throw bad('unclosed IPv6 address');
    hostIp = rest.slice(1, end);
    rest = rest.slice(end + 2);
  }
  const parts = rest.split(':');
  if (hostIp === null && parts.length === 3) hostIp = parts.shift()!;
  if (parts.length > 2 || parts.length === 0) throw bad('too many ":"');
  if (hostIp !== null && !/^[0-9a-fA-F.:]+$/.test(hostIp)) throw bad(`bad host address "${hostIp}"`);
  const targetText = parts[parts.length - 1]!;
  const publishedText = parts.length === 2 ? parts[0]! : '';
  const targets = range(targetText, bad);
  const published = publishedText === '' ? null : range(publishedText, bad);
  if (published !== null && published.length !== targets.length) {
    throw bad('published and target ranges must have the same length');
  }
  return targets.map((target, i) => ({
    target,
    published: published === null ? null : published[i]!,
    protocol,
    mode: 'ingress',
    hostIp,
  }));
}

function range(text: string, bad: (why: string) => RangeError): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) throw bad(`"${text}" is not a port number or range`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a < 1 || b > 65535 || b < a) throw bad(`ports must be between 1 and 65535 and ranges ascending`);
  if (b - a >= 1000) throw bad('port ranges are limited to 1000 ports');
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

function readLong(r: Reader, m: import('./tree.js').PMap, path: string): PortSpec[] {
  r.checkKeys(m, path, LONG_KEYS);
  const get = (k: string) => m.entries.get(k)?.value;
  const tNode = get('target');
  if (tNode === undefined) {
    r.error(m, path, 'target is required (the port inside the container)');
    return [];
  }
  const target = r.int(tNode, join(path, 'target'), 1, 65535);
  let published: number[] | null = null;
  const pNode = get('published');
  if (pNode !== undefined && !(pNode.kind === 'scalar' && pNode.value === null)) {
    const s = pNode.kind === 'scalar' ? String(pNode.value) : '';
    try {
      published = range(s, (why) => new RangeError(`invalid published port ${show(pNode)}: ${why}`));
    } catch (e) {
      r.error(pNode, join(path, 'published'), (e as Error).message);
    }
  }
  const protocol = get('protocol') ? r.oneOf(get('protocol')!, join(path, 'protocol'), PROTOCOLS) : 'tcp';
  const mode = get('mode') ? r.oneOf(get('mode')!, join(path, 'mode'), ['ingress', 'host'] as const) : 'ingress';
  const hostIp = get('host_ip') ? r.str(get('host_ip')!, join(path, 'host_ip')) : null;
  if (get('name')) r.str(get('name')!, join(path, 'name'));
  if (get('app_protocol')) r.str(get('app_protocol')!, join(path, 'app_protocol'));
  if (target === undefined || protocol === undefined || mode === undefined || hostIp === undefined) return [];
  if (published !== null && published.length > 1) {
    r.error(
      pNode!,
      join(path, 'published'),
      'a published range needs a target range: use the short syntax "8080-8081:80-81"',
    );
    return [];
  }
  return [{ target, published: published === null ? null : published[0]!, protocol, mode, hostIp }];
}
