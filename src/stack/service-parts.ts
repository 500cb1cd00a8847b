/**
 * Service keys with more than one syntax: `command`/`entrypoint`,
 * `environment` + `env_file`, `healthcheck`, `depends_on`, `networks`,
 * `restart` and `logging`.
 *
 * @module
 */
import { posix } from 'node:path';
import { parseEnvFile } from './envfile.js';
import { MAX_LIST_ITEMS, MAX_MAP_ENTRIES } from './limits.js';
import { join, Reader, show, sortRecord } from './reader.js';
import type { DependsOnSpec, HealthcheckSpec, LoggingSpec, RestartPolicySpec, ServiceNetworkSpec } from './spec.js';
import type { PNode } from './tree.js';
import { shellSplit } from './units.js';

/** File access and variables a service needs while being read. */
export interface ServiceContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly baseDir: string;
  readonly readFile: ((path: string) => string) | undefined;
}

/** `command` / `entrypoint`: a string is shell-split like Compose does, a list is taken as is. */
export function readCommand(r: Reader, node: PNode, path: string): string[] | null {
  if (node.kind === 'scalar' && node.value === null) return null;
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    try {
      return shellSplit(node.value);
    } catch (e) {
      r.error(node, path, `cannot split ${JSON.stringify(node.value)} into words: ${(e as Error).message}`);
      return null;
    }
  }
  if (node.kind === 'seq') {
    const out: string[] = [];
    if (!r.within(node, path, node.items.length, MAX_LIST_ITEMS)) return null;
    node.items.forEach((it, i) => {
      if (it.kind === 'scalar' && it.value !== null && typeof it.value !== 'object') out.push(String(it.value));
      else r.error(it, join(path, i), `expected a string, got ${show(it)}`);
    });
    return out;
  }
  r.error(node, path, `expected a string or a list of strings, got ${show(node)}`);
  return null;
}

/**
 * The environment: `env_file` entries in order, then `environment` on top.
 * `KEY` with no value takes it from the caller's `env` (when unset, an `env_file` value stays, else it is left out).
 */
export function readEnvironment(
  r: Reader,
  envNode: PNode | undefined,
  fileNode: PNode | undefined,
  path: string,
  ctx: ServiceContext,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (fileNode) readEnvFiles(r, fileNode, join(path, 'env_file'), ctx, out);
  if (envNode) {
    const kv = r.kv(envNode, join(path, 'environment'));
    for (const [k, { value }] of kv ?? []) {
      if (value !== null) out[k] = value;
      else if (ctx.env[k] !== undefined) out[k] = ctx.env[k]!;
    }
  }
  // Each part is bounded on its own; env files and `environment` together must be too.
  const count = Object.keys(out).length;
  if (count > MAX_MAP_ENTRIES) r.within((envNode ?? fileNode)!, join(path, 'environment'), count, MAX_MAP_ENTRIES);
  return sortRecord(out);
}

function readEnvFiles(r: Reader, node: PNode, path: string, ctx: ServiceContext, out: Record<string, string>): void {
  const items = node.kind === 'seq' ? node.items.map((n, i) => ({ n, p: join(path, i) })) : [{ n: node, p: path }];
  for (const { n, p } of items) {
    let file: string | undefined;
    let required = true;
    if (n.kind === 'map') {
      r.checkKeys(n, p, ['path', 'required', 'format']);
      const pn = n.entries.get('path')?.value;
      if (!pn) {
        r.error(n, p, 'path is required');
        continue;
      }
      file = r.name(pn, join(p, 'path'));
      const req = n.entries.get('required')?.value;
      if (req) required = r.bool(req, join(p, 'required')) ?? true;
      const fmt = n.entries.get('format')?.value;
      if (fmt) r.oneOf(fmt, join(p, 'format'), ['raw', 'dotenv'] as const);
    } else file = r.name(n, p);
    if (file === undefined) continue;
    if (ctx.readFile === undefined) {
      r.error(
        n,
        p,
        `cannot read env_file ${JSON.stringify(file)}: no file access was given to the parser (pass readFile)`,
      );
      continue;
    }
    const full = posix.isAbsolute(file) ? file : posix.join(ctx.baseDir, file);
    let text: string;
    try {
      text = ctx.readFile(full);
    } catch (e) {
      if (required) r.error(n, p, `cannot read env_file ${JSON.stringify(full)}: ${(e as Error).message}`);
      continue;
    }
    const parsed = parseEnvFile(text, ctx.env);
    for (const pr of parsed.problems) r.error(n, p, `${file}:${pr.line}: ${pr.message}`);
    Object.assign(out, parsed.vars);
  }
}

const HEALTH_KEYS = ['test', 'interval', 'timeout', 'retries', 'start_period', 'start_interval', 'disable'];

/** `healthcheck:` with Compose's defaults (30 s interval and timeout, 3 retries). */
export function readHealthcheck(r: Reader, node: PNode, path: string): HealthcheckSpec | null {
  const m = r.map(node, path);
  if (!m) return null;
  r.checkKeys(m, path, HEALTH_KEYS);
  const get = (k: string) => m.entries.get(k)?.value;
  const p = (k: string) => join(path, k);
  let test: string[] | null = null;
  let disabled = get('disable') ? (r.bool(get('disable')!, p('disable')) ?? false) : false;
  const t = get('test');
  if (t) {
    if (t.kind === 'scalar' && typeof t.value === 'string') test = ['CMD-SHELL', t.value];
    else if (t.kind === 'seq') {
      const list = r.strList(t, p('test'), false) ?? [];
      const head = list[0];
      if (head === 'NONE') disabled = true;
      else if ((head === 'CMD' || head === 'CMD-SHELL') && list.length > 1)
        test = head === 'CMD-SHELL' ? ['CMD-SHELL', list.slice(1).join(' ')] : list;
      else
        r.error(
          t,
          p('test'),
          'expected ["CMD", "prog", "arg"...], ["CMD-SHELL", "script"], ["NONE"] or a shell string',
        );
    } else r.error(t, p('test'), `expected a string or a list, got ${show(t)}`);
  }
  const dur = (k: string, d: number) => (get(k) && r.duration(get(k)!, p(k))) ?? d;
  return {
    disabled,
    test: disabled ? null : test,
    intervalMs: dur('interval', 30_000),
    timeoutMs: dur('timeout', 30_000),
    retries: (get('retries') && r.int(get('retries')!, p('retries'))) ?? 3,
    startPeriodMs: dur('start_period', 0),
    startIntervalMs: dur('start_interval', 5000),
  };
}

const CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully'] as const;

/** `depends_on:` as a list of names or a mapping with conditions. Refs are checked by the caller. */
export function readDependsOn(
  r: Reader,
  node: PNode,
  path: string,
  refs: { name: string; node: PNode; path: string }[],
): DependsOnSpec[] {
  const out: DependsOnSpec[] = [];
  if (node.kind === 'seq') {
    node.items.forEach((it, i) => {
      const s = r.name(it, join(path, i));
      if (s === undefined) return;
      out.push({ service: s, condition: 'service_started', required: true });
      refs.push({ name: s, node: it, path: join(path, i) });
    });
  } else if (node.kind === 'map') {
    for (const [name, e] of node.entries) {
      const p = join(path, name);
      const m = r.map(e.value, p, true);
      if (!m) continue;
      r.checkKeys(m, p, ['condition', 'restart', 'required']);
      const c = m.entries.get('condition')?.value;
      const condition = (c && r.oneOf(c, join(p, 'condition'), CONDITIONS)) || 'service_started';
      const rs = m.entries.get('restart')?.value;
      if (rs) r.bool(rs, join(p, 'restart'));
      const rq = m.entries.get('required')?.value;
      const required = (rq && r.bool(rq, join(p, 'required'))) ?? true;
      out.push({ service: name, condition, required });
      refs.push({ name, node: { kind: 'scalar', value: name, pos: e.keyPos }, path: p });
    }
  } else r.error(node, path, `expected a list of service names or a mapping, got ${show(node)}`);
  return out.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
}

/** Service `networks:` as a list of names or a mapping with aliases; `default` when absent. */
export function readServiceNetworks(
  r: Reader,
  node: PNode | undefined,
  path: string,
  refs: { name: string; node: PNode; path: string }[],
): ServiceNetworkSpec[] {
  if (node === undefined) return [{ name: 'default', aliases: [] }];
  const out: ServiceNetworkSpec[] = [];
  if (node.kind === 'seq') {
    node.items.forEach((it, i) => {
      const s = r.name(it, join(path, i));
      if (s === undefined) return;
      out.push({ name: s, aliases: [] });
      refs.push({ name: s, node: it, path: join(path, i) });
    });
  } else if (node.kind === 'map') {
    for (const [name, e] of node.entries) {
      const p = join(path, name);
      const m = r.map(e.value, p, true);
      if (!m) continue;
      // A fixed address: refused with the reason, not as an unknown key.
      const fixed = (k: string) => k === 'ipv4_address' || k === 'ipv6_address';
      const rest = new Map(
        [...m.entries].filter(([k, f]) => {
          if (!fixed(k)) return true;
          r.error(
            f.keyPos,
            join(p, k),
            `${k} is not supported: shoal allocates each task's address on its node's network; remove it and reach the service by name`,
          );
          return false;
        }),
      );
      r.checkKeys({ ...m, entries: rest }, p, ['aliases']);
      const a = m.entries.get('aliases')?.value;
      out.push({ name, aliases: a ? (r.strList(a, join(p, 'aliases'), false) ?? []).sort() : [] });
      refs.push({ name, node: { kind: 'scalar', value: name, pos: e.keyPos }, path: p });
    }
  } else r.error(node, path, `expected a list of network names or a mapping, got ${show(node)}`);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Compose's (non-Swarm) `restart:` translated to a restart policy. */
export function readRestart(
  r: Reader,
  node: PNode,
  path: string,
  base: RestartPolicySpec,
): RestartPolicySpec | undefined {
  const s = r.str(node, path);
  if (s === undefined) return undefined;
  const m = /^(no|always|unless-stopped|on-failure)(?::(\d+))?$/.exec(s);
  if (!m || (m[2] !== undefined && m[1] !== 'on-failure')) {
    r.error(node, path, `expected no, always, unless-stopped or on-failure[:max-retries], got ${JSON.stringify(s)}`);
    return undefined;
  }
  const condition = m[1] === 'no' ? 'none' : m[1] === 'on-failure' ? 'on-failure' : 'any';
  return { ...base, condition, maxAttempts: m[2] === undefined ? base.maxAttempts : Number(m[2]) };
}

/** `logging: {driver, options}`. */
export function readLogging(r: Reader, node: PNode, path: string): LoggingSpec | null {
  const m = r.map(node, path);
  if (!m) return null;
  r.checkKeys(m, path, ['driver', 'options']);
  const d = m.entries.get('driver')?.value;
  const o = m.entries.get('options')?.value;
  return {
    driver: (d && r.name(d, join(path, 'driver'))) || 'json-file',
    options: o ? r.stringRecord(o, join(path, 'options')) : {},
  };
}
