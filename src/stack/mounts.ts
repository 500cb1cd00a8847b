/**
 * `volumes:` (short `./data:/data:ro`, `named:/data`, `/anon`; long
 * `{type, source, target, read_only, ...}`) and `tmpfs:` of a service.
 *
 * @module
 */
import { posix } from 'node:path';
import { MAX_LIST_ITEMS } from './limits.js';
import { join, Reader, show } from './reader.js';
import type { MountSpec } from './spec.js';
import { parseBytes } from './units.js';
import type { PMap, PNode } from './tree.js';

/** Where relative bind sources are resolved and how `~` expands. */
export interface MountContext {
  readonly baseDir: string;
  readonly home: string | undefined;
}

const SHORT_MODES = new Set([
  'ro',
  'rw',
  'z',
  'Z',
  'nocopy',
  'cached',
  'delegated',
  'consistent',
  'shared',
  'slave',
  'private',
  'rshared',
  'rslave',
  'rprivate',
]);
const LONG_KEYS = ['type', 'source', 'target', 'read_only', 'bind', 'volume', 'tmpfs', 'consistency'];

/** Reads a service's `volumes:` list; named volumes used are added to `volumeRefs`. */
export function readMounts(
  r: Reader,
  node: PNode,
  path: string,
  ctx: MountContext,
  volumeRefs: { name: string; node: PNode; path: string }[] = [],
): MountSpec[] {
  if (node.kind !== 'seq') {
    r.error(node, path, `expected a list of volumes, got ${show(node)}`);
    return [];
  }
  if (!r.within(node, path, node.items.length, MAX_LIST_ITEMS)) return [];
  const out: MountSpec[] = [];
  node.items.forEach((item, i) => {
    const p = join(path, i);
    const m = item.kind === 'map' ? readLong(r, item, p, ctx) : readShort(r, item, p, ctx);
    if (!m) return;
    out.push(m);
    if (m.type === 'volume' && m.source !== null) volumeRefs.push({ name: m.source, node: item, path: p });
  });
  return out;
}

/** Reads a service's `tmpfs:` (a path or a list of paths, optionally `path:size=...`). */
export function readTmpfs(r: Reader, node: PNode, path: string): MountSpec[] {
  const list = r.strList(node, path) ?? [];
  const out: MountSpec[] = [];
  for (const entry of list) {
    const [target, opts] = entry.split(':', 2) as [string, string | undefined];
    let size: number | null = null;
    const sm = opts ? /(?:^|,)size=([^,]+)/.exec(opts) : null;
    if (sm) {
      try {
        size = parseBytes(sm[1]!);
      } catch {
        r.error(node, path, `invalid tmpfs size in ${JSON.stringify(entry)}: expected size=64m`);
      }
    }
    if (!target.startsWith('/'))
      r.error(node, path, `tmpfs target must be an absolute path, got ${JSON.stringify(target)}`);
    else out.push({ type: 'tmpfs', source: null, target, readOnly: false, tmpfsSizeBytes: size });
  }
  return out;
}

/** Sorts mounts by target and reports two mounts on the same target. */
export function finishMounts(r: Reader, mounts: MountSpec[], at: PNode, path: string): MountSpec[] {
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.target)) r.error(at, path, `two mounts on the same target ${m.target}`);
    seen.add(m.target);
  }
  return [...mounts].sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}

function isPath(source: string): boolean {
  return source.startsWith('/') || source.startsWith('.') || source.startsWith('~');
}

/** The variables interpolation left unset in `node`, if any. */
function unsetIn(node: PNode): readonly string[] | undefined {
  return node.kind === 'scalar' && node.unset !== undefined && node.unset.length > 0 ? node.unset : undefined;
}

/** A volume made invalid by unset variables: name them and say what to do. */
function emptyFromUnset(result: string, unset: readonly string[]): string {
  const names = unset.join(', ');
  const one = unset.length === 1;
  return (
    `variable${one ? '' : 's'} ${names} ${one ? 'is' : 'are'} not set, so ${result}: ` +
    `an empty part is not a valid volume (Compose substitutes an empty string too); set ${one ? 'it' : 'them'} ` +
    `in the environment or .env, or give a default such as \${${unset[0]}:-/srv/data}`
  );
}

function resolveBind(r: Reader, at: PNode, path: string, source: string, ctx: MountContext): string | undefined {
  if (source.startsWith('~')) {
    if (ctx.home === undefined) {
      r.error(at, path, `cannot expand "~" in ${JSON.stringify(source)}: HOME is not set; use an absolute path`);
      return undefined;
    }
    source = ctx.home + source.slice(1);
  }
  if (source.startsWith('/')) return posix.normalize(source);
  // Callers deploying for real pass an absolute baseDir; a relative one keeps the path visibly relative.
  const joined = posix.join(ctx.baseDir, source);
  return joined.startsWith('/') || joined.startsWith('../') || joined === '..' ? joined : `./${joined}`;
}

function readShort(r: Reader, node: PNode, path: string, ctx: MountContext): MountSpec | undefined {
  const text = r.str(node, path);
  if (text === undefined) return undefined;
  const parts = text.split(':');
  if (parts.some((x) => x === '') && unsetIn(node) !== undefined) {
    r.error(node, path, emptyFromUnset(`the volume reads ${JSON.stringify(text)}`, unsetIn(node)!));
    return undefined;
  }
  if (parts.length > 3 || parts.some((x) => x === '')) {
    r.error(
      node,
      path,
      `invalid volume ${JSON.stringify(text)}: expected [source:]target[:mode], e.g. "./data:/data:ro"`,
    );
    return undefined;
  }
  const [first, second, third] = parts as [string, string?, string?];
  if (second === undefined)
    return target(r, node, path, first)
      ? { type: 'volume', source: null, target: first, readOnly: false, noCopy: false }
      : undefined;
  const modes = third === undefined ? [] : third.split(',');
  for (const mode of modes) {
    if (!SHORT_MODES.has(mode)) {
      r.error(
        node,
        path,
        `unknown volume mode "${mode}" in ${JSON.stringify(text)}: expected ro, rw, nocopy, z, Z or a propagation mode`,
      );
      return undefined;
    }
  }
  if (!target(r, node, path, second)) return undefined;
  const readOnly = modes.includes('ro');
  if (isPath(first)) {
    const source = resolveBind(r, node, path, first, ctx);
    return source === undefined ? undefined : { type: 'bind', source, target: second, readOnly };
  }
  return { type: 'volume', source: first, target: second, readOnly, noCopy: modes.includes('nocopy') };
}

function target(r: Reader, node: PNode, path: string, t: string): boolean {
  if (t.startsWith('/')) return true;
  r.error(node, path, `volume target must be an absolute path in the container, got ${JSON.stringify(t)}`);
  return false;
}

function readLong(r: Reader, m: PMap, path: string, ctx: MountContext): MountSpec | undefined {
  r.checkKeys(m, path, LONG_KEYS);
  const get = (k: string) => m.entries.get(k)?.value;
  const typeNode = get('type');
  if (typeNode === undefined) {
    r.error(m, path, 'type is required: bind, volume or tmpfs');
    return undefined;
  }
  const type = r.oneOf(typeNode, join(path, 'type'), ['bind', 'volume', 'tmpfs'] as const);
  const tNode = get('target');
  const tgt = tNode === undefined ? undefined : r.str(tNode, join(path, 'target'));
  if (tNode === undefined) r.error(m, path, 'target is required (the path in the container)');
  else if (tgt !== undefined && !target(r, tNode, join(path, 'target'), tgt)) return undefined;
  const sNode = get('source');
  let source =
    sNode === undefined || (sNode.kind === 'scalar' && sNode.value === null)
      ? null
      : (r.str(sNode, join(path, 'source')) ?? null);
  const readOnly = get('read_only') ? (r.bool(get('read_only')!, join(path, 'read_only')) ?? false) : false;
  if (get('consistency')) r.str(get('consistency')!, join(path, 'consistency'));
  const sub = (key: string, allowed: string[]) => {
    const n = get(key);
    if (n === undefined) return undefined;
    const mm = r.map(n, join(path, key));
    if (mm) r.checkKeys(mm, join(path, key), allowed);
    if (mm && type !== key) r.error(n, join(path, key), `${key} options need type: ${key}`);
    return mm;
  };
  const bind = sub('bind', ['propagation', 'create_host_path', 'selinux']);
  const vol = sub('volume', ['nocopy', 'subpath']);
  const tmp = sub('tmpfs', ['size', 'mode']);
  if (bind?.entries.get('create_host_path'))
    r.bool(bind.entries.get('create_host_path')!.value, join(path, 'bind.create_host_path'));
  if (bind?.entries.get('propagation')) {
    r.oneOf(bind.entries.get('propagation')!.value, join(path, 'bind.propagation'), [
      'shared',
      'slave',
      'private',
      'rshared',
      'rslave',
      'rprivate',
    ] as const);
  }
  if (vol?.entries.get('subpath'))
    r.error(vol.entries.get('subpath')!.keyPos, join(path, 'volume.subpath'), 'unsupported key "subpath"');
  if (source === '' && unsetIn(sNode!) !== undefined) {
    r.error(sNode!, join(path, 'source'), emptyFromUnset('source is empty', unsetIn(sNode!)!));
    return undefined;
  }
  if (type === undefined || tgt === undefined) return undefined;
  if (type === 'bind') {
    if (source === null) {
      r.error(m, path, 'source is required for a bind mount (a host path)');
      return undefined;
    }
    if (source === '') {
      r.error(sNode!, join(path, 'source'), 'source is empty: expected a host path');
      return undefined;
    }
    const resolved = resolveBind(r, sNode!, join(path, 'source'), source, ctx);
    return resolved === undefined ? undefined : { type, source: resolved, target: tgt, readOnly };
  }
  if (type === 'tmpfs') {
    if (source !== null) r.error(sNode!, join(path, 'source'), 'a tmpfs mount has no source');
    const sizeNode = tmp?.entries.get('size')?.value;
    const size = sizeNode ? (r.bytes(sizeNode, join(path, 'tmpfs.size')) ?? null) : null;
    if (tmp?.entries.get('mode')) r.int(tmp.entries.get('mode')!.value, join(path, 'tmpfs.mode'), 0, 0o7777);
    return { type, source: null, target: tgt, readOnly, tmpfsSizeBytes: size };
  }
  if (source !== null && isPath(source)) {
    r.error(
      sNode!,
      join(path, 'source'),
      `a volume source is a volume name, got the path ${JSON.stringify(source)}; use type: bind`,
    );
    source = null;
  }
  const nc = vol?.entries.get('nocopy');
  const noCopy = nc ? (r.bool(nc.value, join(path, 'volume.nocopy')) ?? false) : false;
  return { type, source, target: tgt, readOnly, noCopy };
}
