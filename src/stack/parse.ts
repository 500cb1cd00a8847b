/**
 * `parseStack`: Compose file text in, a validated, fully defaulted
 * {@link StackSpec} (or every error at once) out. Pure: files are read only
 * through the injected `readFile`, variables come only from `env`.
 *
 * @module
 */
import { posix } from 'node:path';
import { StackValidationError, type StackError } from './errors.js';
import { interpolateTree } from './interpolate.js';
import { MAX_STACK_FILE_BYTES } from './limits.js';
import { readFileObjects, resolveFileRefs } from './file-objects.js';
import { join, Reader } from './reader.js';
import { readService, type ServiceRefs } from './service.js';
import { readName } from './shoal.js';
import {
  MAX_STACK_SERVICES,
  type FileObjectSpec,
  type NetworkSpec,
  type ServiceSpec,
  type StackSpec,
  type VolumeSpec,
} from './spec.js';
import { readStackGraph } from './stack-refs.js';
import { parseYamlTree, type PMap, type PNode } from './tree.js';

/** Options of {@link parseStack}. */
export interface ParseStackOptions {
  /** File name used in error messages (`compose.yml`), and to find relative paths unless `baseDir` is set. */
  readonly file: string;
  /** Stack name (`--name`); else the file's `name:`; else the file's directory name. */
  readonly name?: string;
  /** Variables for `${VAR}` interpolation and bare `environment` keys. Default: none. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Reads an `env_file` (absolute path); throws when missing. Without it, `env_file` is an error. */
  readonly readFile?: (path: string) => string;
  /** Directory for relative bind mounts and env files. Default: the directory of `file`. */
  readonly baseDir?: string;
}

/** Result of {@link parseStack}. Warnings (ignored keys, unset variables) come in both cases. */
export type ParseStackResult =
  | { readonly ok: true; readonly spec: StackSpec; readonly warnings: readonly StackError[] }
  | { readonly ok: false; readonly errors: readonly StackError[]; readonly warnings: readonly StackError[] };

const TOP_KEYS = ['version', 'name', 'services', 'networks', 'volumes', 'configs', 'secrets', 'x-shoal'];
const NETWORK_KEYS = ['driver', 'driver_opts', 'external', 'name', 'labels', 'attachable', 'internal'];
const VOLUME_KEYS = ['driver', 'driver_opts', 'external', 'name', 'labels'];

/**
 * Parses and validates a Compose file into a {@link StackSpec}, collecting
 * every error (with file, line, column and key path) instead of stopping at
 * the first.
 *
 * @example
 * ```ts
 * const r = parseStack('services:\n  web:\n    image: nginx\n', { file: 'compose.yml', name: 'web' });
 * if (r.ok) r.spec.services.web.deploy.replicas; // 1
 * else console.error(r.errors.map(formatStackError).join('\n'));
 * ```
 */
export function parseStack(text: string, options: ParseStackOptions): ParseStackResult {
  const r = new Reader(options.file);
  const env = options.env ?? {};
  const baseDir = options.baseDir ?? posix.dirname(options.file.replace(/\\/g, '/'));
  const bytes = text.length > MAX_STACK_FILE_BYTES / 4 ? Buffer.byteLength(text, 'utf8') : text.length;
  if (bytes > MAX_STACK_FILE_BYTES) {
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    r.error(
      undefined,
      '',
      `the file is ${mib(bytes)}, at most ${mib(MAX_STACK_FILE_BYTES)}: split it into several stacks`,
    );
    return done(r, undefined);
  }
  const tree = parseYamlTree(text);
  for (const pr of tree.problems) r.error(pr.pos, '', pr.message);
  if (tree.root === undefined) {
    if (tree.problems.length === 0)
      r.error({ line: 1, column: 1 }, '', 'the file is empty: expected a services: mapping');
    return done(r, undefined);
  }
  const root = interpolateTree(tree.root, env, {
    error: (pos, path, msg) => r.error(pos, path, msg),
    warn: (pos, path, msg) => r.warn(pos, path, msg),
  });
  const top = r.map(root, '');
  if (!top) return done(r, undefined);
  r.checkKeys(top, '', TOP_KEYS, true);
  const get = (k: string) => top.entries.get(k);
  if (get('version'))
    r.warn(get('version')!.keyPos, 'version', 'version is obsolete in the Compose format and ignored');
  const name = stackName(r, options, get('name')?.value, baseDir);
  const objectContext = { stack: name, env, baseDir, readFile: options.readFile };
  const secrets = get('secrets') ? readFileObjects(r, get('secrets')!.value, 'secret', objectContext) : {};
  const configs = get('configs') ? readFileObjects(r, get('configs')!.value, 'config', objectContext) : {};
  const xs = get('x-shoal') ? r.map(get('x-shoal')!.value, 'x-shoal', true) : undefined;
  if (xs) r.checkKeys(xs, 'x-shoal', ['namespace', 'owner']);
  const nsNode = xs?.entries.get('namespace')?.value;
  const ownerNode = xs?.entries.get('owner')?.value;
  const namespace = (nsNode && readName(r, nsNode, 'x-shoal.namespace')) || 'default';
  const owner = (ownerNode && r.name(ownerNode, 'x-shoal.owner')) || null;

  const networks = readTopLevel(r, get('networks')?.value, 'networks', NETWORK_KEYS, readNetwork);
  if (!networks.default)
    networks.default = {
      driver: 'overlay',
      external: false,
      externalName: null,
      attachable: false,
      internal: false,
      labels: {},
      driverOpts: {},
    };
  const volumes = readTopLevel(r, get('volumes')?.value, 'volumes', VOLUME_KEYS, readVolume);

  const services: Record<string, ServiceSpec> = {};
  const refs = new Map<string, ServiceRefs>();
  const sEntry = get('services');
  const sMap = sEntry ? r.map(sEntry.value, 'services') : undefined;
  if (!sEntry) r.error(top, '', 'services is required: a stack needs at least one service');
  else if (sMap && sMap.entries.size === 0) r.error(sEntry.keyPos, 'services', 'a stack needs at least one service');
  const count = [...(sMap?.entries.keys() ?? [])].filter((k) => !k.startsWith('x-')).length;
  if (count > MAX_STACK_SERVICES)
    r.error(
      sEntry!.keyPos,
      'services',
      `a stack holds at most ${MAX_STACK_SERVICES} services, got ${count}: split the file into several stacks`,
    );
  const ctx = { env, baseDir, readFile: options.readFile, home: env.HOME };
  for (const [sname, entry] of sMap?.entries ?? []) {
    if (sname.startsWith('x-')) continue; // extension fields are allowed among services too
    const res = readService(r, entry, ctx, { namespace, owner });
    if (!res) continue;
    services[sname] = withClusterNames(r, res.spec, res.refs, secrets, configs);
    refs.set(sname, res.refs);
  }
  readStackGraph(r, services, refs, Object.keys(networks), Object.keys(volumes));

  const sorted = <T>(rec: Record<string, T>): Record<string, T> =>
    Object.fromEntries(
      Object.keys(rec)
        .sort()
        .map((k) => [k, rec[k]!]),
    );
  return done(r, {
    name,
    services: sorted(services),
    networks: sorted(networks),
    volumes: sorted(volumes),
    ...(Object.keys(secrets).length > 0 ? { secrets: sorted(secrets) } : {}),
    ...(Object.keys(configs).length > 0 ? { configs: sorted(configs) } : {}),
    namespace,
    owner,
  });
}

/** Like {@link parseStack} but throws a {@link StackValidationError} carrying every error. */
export function parseStackOrThrow(text: string, options: ParseStackOptions): StackSpec {
  const res = parseStack(text, options);
  if (!res.ok) throw new StackValidationError(res.errors);
  return res.spec;
}

/** The service's secret and config references named by cluster name instead of Compose key. */
function withClusterNames(
  r: Reader,
  spec: ServiceSpec,
  refs: ServiceRefs,
  secrets: Readonly<Record<string, FileObjectSpec>>,
  configs: Readonly<Record<string, FileObjectSpec>>,
): ServiceSpec {
  if (spec.secrets === undefined && spec.configs === undefined) return spec;
  return {
    ...spec,
    ...(spec.secrets ? { secrets: resolveFileRefs(r, spec.secrets, refs.secrets, secrets, 'secret') } : {}),
    ...(spec.configs ? { configs: resolveFileRefs(r, spec.configs, refs.configs, configs, 'config') } : {}),
  };
}

function done(r: Reader, spec: StackSpec | undefined): ParseStackResult {
  const byPos = (a: StackError, b: StackError) => a.line - b.line || a.column - b.column;
  const warnings = [...r.warnings].sort(byPos);
  if (r.errors.length > 0 || spec === undefined) return { ok: false, errors: [...r.errors].sort(byPos), warnings };
  return { ok: true, spec, warnings };
}

const STACK_NAME = /^[a-z0-9][a-z0-9_-]*$/;

function stackName(r: Reader, options: ParseStackOptions, node: PNode | undefined, baseDir: string): string {
  if (options.name !== undefined) {
    if (!STACK_NAME.test(options.name))
      r.error(
        undefined,
        '',
        `invalid stack name ${JSON.stringify(options.name)}: use lowercase letters, digits, "-" and "_", starting with a letter or digit`,
      );
    return options.name;
  }
  if (node) {
    const s = r.str(node, 'name');
    if (s !== undefined && !STACK_NAME.test(s))
      r.error(node, 'name', `invalid stack name ${JSON.stringify(s)}: use lowercase letters, digits, "-" and "_"`);
    return s ?? '';
  }
  // Compose's default project name: the directory name, lowercased, other characters dropped.
  const dir = posix
    .basename(posix.resolve('/', baseDir))
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[-_]+/, '');
  if (dir === '') r.error(undefined, '', 'cannot derive a stack name from the file location: pass a name (--name)');
  return dir;
}

function readTopLevel<T>(
  r: Reader,
  node: PNode | undefined,
  path: string,
  keys: string[],
  read: (r: Reader, m: PMap, path: string, get: (k: string) => PNode | undefined) => T,
): Record<string, T> {
  const out: Record<string, T> = {};
  if (node === undefined) return out;
  const m = r.map(node, path, true);
  for (const [name, e] of m?.entries ?? []) {
    if (name.startsWith('x-')) continue;
    const p = join(path, name);
    const mm = r.map(e.value, p, true);
    if (!mm) continue;
    r.checkKeys(mm, p, keys, true);
    out[name] = read(r, mm, p, (k) => mm.entries.get(k)?.value);
  }
  return out;
}

function external(
  r: Reader,
  path: string,
  get: (k: string) => PNode | undefined,
): { external: boolean; externalName: string | null } {
  const ext = get('external');
  let isExt = false;
  if (ext?.kind === 'map') {
    // Legacy `external: {name: x}`.
    r.checkKeys(ext, join(path, 'external'), ['name']);
    isExt = true;
    const n = ext.entries.get('name')?.value;
    if (n) return { external: true, externalName: r.name(n, join(path, 'external.name')) ?? null };
  } else if (ext) isExt = r.bool(ext, join(path, 'external')) ?? false;
  const n = get('name');
  return { external: isExt, externalName: n ? (r.name(n, join(path, 'name')) ?? null) : null };
}

function readNetwork(r: Reader, _m: PMap, path: string, get: (k: string) => PNode | undefined): NetworkSpec {
  const bool = (k: string) => (get(k) ? (r.bool(get(k)!, join(path, k)) ?? false) : false);
  const driver = get('driver')
    ? r.oneOf(get('driver')!, join(path, 'driver'), ['overlay', 'bridge', 'host', 'none'] as const)
    : undefined;
  return {
    driver: driver ?? 'overlay',
    ...external(r, path, get),
    attachable: bool('attachable'),
    internal: bool('internal'),
    labels: get('labels') ? r.stringRecord(get('labels')!, join(path, 'labels')) : {},
    driverOpts: get('driver_opts') ? r.stringRecord(get('driver_opts')!, join(path, 'driver_opts')) : {},
  };
}

function readVolume(r: Reader, _m: PMap, path: string, get: (k: string) => PNode | undefined): VolumeSpec {
  return {
    driver: get('driver') ? (r.name(get('driver')!, join(path, 'driver')) ?? 'local') : 'local',
    ...external(r, path, get),
    labels: get('labels') ? r.stringRecord(get('labels')!, join(path, 'labels')) : {},
    driverOpts: get('driver_opts') ? r.stringRecord(get('driver_opts')!, join(path, 'driver_opts')) : {},
  };
}
