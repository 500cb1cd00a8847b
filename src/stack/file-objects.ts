/**
 * Compose's `secrets:` and `configs:`: the top-level definitions (`file:`, `environment:`,
 * `external:`, `name:`) and a service's references (short `- name` or long `{source, target,
 * uid, gid, mode}`), with Swarm's defaults and limits. Names and sizes are checked here and again
 * by the state (`src/state/secrets.ts`), which shares {@link fileObjectNameProblem}.
 *
 * @module
 */
import { posix } from 'node:path';
import { join, Reader, show } from './reader.js';
import type { FileObjectSpec, FileRefSpec } from './spec.js';
import type { PMap, PNode } from './tree.js';

/** Swarm's limit on one secret or config: 500 KB. */
export const MAX_FILE_OBJECT_BYTES = 500 * 1024;
/** Docker's longest secret or config name. */
export const MAX_FILE_OBJECT_NAME = 64;
/** Docker's names: letters and digits, with `-`, `_`, `.` inside. */
const NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]*[a-zA-Z0-9])?$/;

/** Secrets or configs: the words messages use, and where a short reference puts the file. */
export type FileObjectKind = 'secret' | 'config';

/**
 * Why `name` cannot name a secret or config, or null when it can.
 * @example fileObjectNameProblem('db password') // 'use letters, digits, ...'
 */
export function fileObjectNameProblem(name: string): string | null {
  if (name.length > MAX_FILE_OBJECT_NAME) return `at most ${MAX_FILE_OBJECT_NAME} characters, got ${name.length}`;
  if (!NAME.test(name))
    return `use letters, digits, "-", "_" and ".", starting and ending with a letter or digit, got ${JSON.stringify(name)}`;
  return null;
}

/** Context of {@link readFileObjects}: the stack name, variables and the files the request carries. */
export interface FileObjectContext {
  readonly stack: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly baseDir: string;
  readonly readFile: ((path: string) => string) | undefined;
}

/** Reads top-level `secrets:` or `configs:` into definitions by Compose key. */
export function readFileObjects(
  r: Reader,
  node: PNode,
  kind: FileObjectKind,
  ctx: FileObjectContext,
): Record<string, FileObjectSpec> {
  const path = `${kind}s`;
  const out: Record<string, FileObjectSpec> = {};
  const m = r.map(node, path, true);
  for (const [key, e] of m?.entries ?? []) {
    if (key.startsWith('x-')) continue;
    const p = join(path, key);
    const def = r.map(e.value, p);
    if (!def) continue;
    r.checkKeys(def, p, ['file', 'environment', 'external', 'name', 'labels', 'template_driver'], true);
    const read = readDefinition(r, def, p, key, kind, ctx);
    if (read) out[key] = read;
  }
  return out;
}

function readDefinition(
  r: Reader,
  def: PMap,
  p: string,
  key: string,
  kind: FileObjectKind,
  ctx: FileObjectContext,
): FileObjectSpec | undefined {
  const get = (k: string) => def.entries.get(k)?.value;
  const nameNode = get('name');
  const given = nameNode ? r.name(nameNode, join(p, 'name')) : undefined;
  const ext = get('external');
  const external = ext ? (r.bool(ext, join(p, 'external')) ?? false) : false;
  const sources = ['file', 'environment'].filter((k) => get(k) !== undefined);
  if (get('template_driver')) r.warn(get('template_driver'), join(p, 'template_driver'), 'is ignored: no templating');
  if (external && sources.length > 0) {
    r.error(
      get(sources[0]!),
      join(p, sources[0]!),
      `an external ${kind} exists in the cluster already: remove ${sources[0]}`,
    );
    return undefined;
  }
  if (!external && sources.length !== 1) {
    const what = sources.length === 0 ? 'give one of' : 'give only one of';
    r.error(def, p, `${what} file, environment or external: true (\`shoal ${kind} create\` makes an external one)`);
    return undefined;
  }
  const name = given ?? (external ? key : `${ctx.stack}_${key}`);
  const problem = fileObjectNameProblem(name);
  if (problem !== null) {
    r.error(nameNode ?? def, nameNode ? join(p, 'name') : p, `invalid ${kind} name: ${problem}`);
    return undefined;
  }
  if (external) return { name, external: true, content: null };
  const content =
    sources[0] === 'file'
      ? readContentFile(r, get('file')!, join(p, 'file'), ctx)
      : readEnv(r, get('environment')!, join(p, 'environment'), ctx);
  if (content === undefined) return undefined;
  const bytes = Buffer.byteLength(content, 'utf8');
  if (bytes > MAX_FILE_OBJECT_BYTES) {
    r.error(
      get(sources[0]!),
      join(p, sources[0]!),
      `a ${kind} holds at most 500 KB (${MAX_FILE_OBJECT_BYTES} bytes), got ${bytes} bytes`,
    );
    return undefined;
  }
  return { name, external: false, content };
}

function readContentFile(r: Reader, node: PNode, path: string, ctx: FileObjectContext): string | undefined {
  const file = r.name(node, path);
  if (file === undefined) return undefined;
  if (ctx.readFile === undefined) {
    r.error(node, path, `cannot read ${JSON.stringify(file)}: no file access was given to the parser (pass readFile)`);
    return undefined;
  }
  const full = posix.isAbsolute(file) ? file : posix.join(ctx.baseDir, file);
  try {
    return ctx.readFile(full);
  } catch (e) {
    r.error(node, path, `cannot read ${JSON.stringify(file)}: ${(e as Error).message}`);
    return undefined;
  }
}

function readEnv(r: Reader, node: PNode, path: string, ctx: FileObjectContext): string | undefined {
  const variable = r.name(node, path);
  if (variable === undefined) return undefined;
  const value = ctx.env[variable];
  if (value === undefined) r.error(node, path, `the variable ${variable} is not set: set it where you run shoal`);
  return value;
}

/** A service reference to check against the top-level definitions. */
export interface FileObjectRef {
  readonly key: string;
  readonly node: PNode;
  readonly path: string;
}

/**
 * A service's `secrets:` or `configs:` list. Targets and modes follow Swarm: a secret goes to
 * `/run/secrets/<target or key>`, a config to `/<key>` unless `target` says otherwise; uid and
 * gid 0; mode 0444. `source` is the Compose key here; {@link resolveFileRefs} turns it into the
 * cluster name once the top-level definitions are known.
 */
export function readServiceFileRefs(
  r: Reader,
  node: PNode,
  path: string,
  kind: FileObjectKind,
  refs: FileObjectRef[],
): FileRefSpec[] {
  if (node.kind !== 'seq') {
    r.error(
      node,
      path,
      `expected a list of ${kind} names or {source, target, uid, gid, mode} mappings, got ${show(node)}`,
    );
    return [];
  }
  const out: FileRefSpec[] = [];
  node.items.forEach((item, i) => {
    const p = join(path, i);
    const ref = item.kind === 'map' ? readLongRef(r, item, p, kind) : readShortRef(r, item, p, kind);
    if (!ref) return;
    refs.push({ key: ref.source, node: item, path: p });
    out.push(ref);
  });
  const seen = new Map<string, number>();
  out.forEach((ref, i) => {
    if (seen.has(ref.target))
      r.error(node.items[i], join(path, i), `target ${ref.target} is used by item ${seen.get(ref.target)} already`);
    else seen.set(ref.target, i);
  });
  return out;
}

function defaultTarget(kind: FileObjectKind, name: string): string {
  return kind === 'secret' ? `/run/secrets/${name}` : `/${name}`;
}

function readShortRef(r: Reader, node: PNode, path: string, kind: FileObjectKind): FileRefSpec | undefined {
  const key = r.name(node, path);
  if (key === undefined) return undefined;
  return { source: key, target: defaultTarget(kind, key), uid: 0, gid: 0, mode: 0o444 };
}

function readLongRef(r: Reader, m: PMap, path: string, kind: FileObjectKind): FileRefSpec | undefined {
  r.checkKeys(m, path, ['source', 'target', 'uid', 'gid', 'mode'], true);
  const get = (k: string) => m.entries.get(k)?.value;
  const sourceNode = get('source');
  if (!sourceNode) {
    r.error(m, path, 'source is required: the name of a top-level ' + kind);
    return undefined;
  }
  const source = r.name(sourceNode, join(path, 'source'));
  if (source === undefined) return undefined;
  let target = defaultTarget(kind, source);
  const targetNode = get('target');
  if (targetNode) {
    const t = r.name(targetNode, join(path, 'target'));
    if (t !== undefined) target = targetPath(r, targetNode, join(path, 'target'), kind, t) ?? target;
  }
  const id = (k: string) => {
    const n = get(k);
    if (!n) return 0;
    // Compose writes uid and gid as strings ("103"); numbers are accepted too.
    const text =
      n.kind === 'scalar' && (typeof n.value === 'string' || typeof n.value === 'number') ? String(n.value) : '';
    if (!/^[0-9]{1,10}$/.test(text) || Number(text) > 0xffff_fffe) {
      r.error(n, join(path, k), `expected a numeric ${k} (0 to 4294967294), got ${show(n)}`);
      return 0;
    }
    return Number(text);
  };
  return { source, target, uid: id('uid'), gid: id('gid'), mode: readMode(r, get('mode'), join(path, 'mode')) };
}

function targetPath(r: Reader, node: PNode, path: string, kind: FileObjectKind, t: string): string | undefined {
  // Swarm: a relative secret target is a file name under /run/secrets; a config's is relative to /.
  const full = posix.isAbsolute(t) ? t : kind === 'secret' ? `/run/secrets/${t}` : `/${t}`;
  const normal = posix.normalize(full);
  if (normal !== full || normal === '/' || normal.endsWith('/') || t.includes('\0')) {
    r.error(node, path, `expected a file path without "..", "." or a trailing "/", got ${JSON.stringify(t)}`);
    return undefined;
  }
  return normal;
}

/**
 * `mode: 0440` as Compose files write it. The YAML 1.2 reader takes `0440` for the decimal 440,
 * so a number whose digits are all octal ones is read as octal digits (`440` → 0o440), as Compose
 * (YAML 1.1) reads it; a number with an 8 or a 9 is taken as is (`0o440` arrives as 288). A
 * string (`"0440"`, `"0o440"`) is always octal.
 */
function readMode(r: Reader, node: PNode | undefined, path: string): number {
  if (!node) return 0o444;
  if (node.kind === 'scalar' && typeof node.value === 'number' && Number.isInteger(node.value) && node.value >= 0) {
    const digits = String(node.value);
    const mode = /^[0-7]+$/.test(digits) ? parseInt(digits, 8) : node.value;
    if (mode <= 0o777) return mode;
  } else if (node.kind === 'scalar' && typeof node.value === 'string' && /^0o?[0-7]{1,4}$/.test(node.value)) {
    const mode = parseInt(node.value.replace(/^0o?/, ''), 8);
    if (mode <= 0o777) return mode;
  }
  r.error(node, path, `expected permission bits such as 0440 (at most 0777), got ${show(node)}`);
  return 0o444;
}

/**
 * Each reference's source turned from the Compose key into the cluster name; an unknown key is an
 * error at the reference, naming the keys that exist.
 */
export function resolveFileRefs(
  r: Reader,
  refs: readonly FileRefSpec[],
  located: readonly FileObjectRef[],
  defined: Readonly<Record<string, FileObjectSpec>>,
  kind: FileObjectKind,
): FileRefSpec[] {
  const out: FileRefSpec[] = [];
  refs.forEach((ref, i) => {
    const def = defined[ref.source];
    const at = located[i];
    if (!def) {
      const known = Object.keys(defined);
      const hint = known.length === 0 ? `declare it under top-level ${kind}s:` : `declared: ${known.join(', ')}`;
      r.error(at?.node, at?.path ?? '', `unknown ${kind} ${JSON.stringify(ref.source)}: ${hint}`);
      return;
    }
    out.push({ ...ref, source: def.name });
  });
  return out;
}
