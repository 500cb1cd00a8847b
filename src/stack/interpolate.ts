/**
 * Compose variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`,
 * `${VAR+alt}`, nested defaults (`${A:-${B}}`) and `$$` for a literal `$`.
 *
 * @module
 */
import type { PEntry, PNode, Pos } from './tree.js';

/** Result of interpolating one string. */
export interface InterpolationResult {
  readonly value: string;
  /** Problems such as `${DB:?set DB}` with DB unset, or an unclosed `${`. */
  readonly errors: string[];
  /** Variables used without a default and not set (Compose substitutes ""). */
  readonly unset: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/**
 * Interpolates `${...}` references in `text` from `env`.
 *
 * @example
 * ```ts
 * interpolate('${TAG:-latest}', {}).value; // 'latest'
 * ```
 */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): InterpolationResult {
  const errors: string[] = [];
  const unset: string[] = [];
  const value = expand(text, env, errors, unset, 0);
  return { value, errors, unset };
}

function expand(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  errors: string[],
  unset: string[],
  depth: number,
): string {
  if (depth > 8) {
    errors.push('interpolation nested too deeply');
    return text;
  }
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const close = matchingBrace(text, i + 1);
      if (close < 0) {
        errors.push(`unclosed "\${" in ${JSON.stringify(text)}: add "}" or write "$$" for a literal "$"`);
        return out + text.slice(i);
      }
      out += substitute(text.slice(i + 2, close), env, errors, unset, depth);
      i = close + 1;
      continue;
    }
    const m = NAME.exec(text.slice(i + 1));
    if (m) {
      out += lookup(m[0], env, unset);
      i += 1 + m[0].length;
      continue;
    }
    out += '$';
    i++;
  }
  return out;
}

function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === '{') depth++;
    else if (text[j] === '}' && --depth === 0) return j;
  }
  return -1;
}

function lookup(name: string, env: Readonly<Record<string, string | undefined>>, unset: string[]): string {
  const v = env[name];
  if (v === undefined) {
    if (!unset.includes(name)) unset.push(name);
    return '';
  }
  return v;
}

function substitute(
  inner: string,
  env: Readonly<Record<string, string | undefined>>,
  errors: string[],
  unset: string[],
  depth: number,
): string {
  const m = NAME.exec(inner);
  if (!m) {
    errors.push(`invalid interpolation "\${${inner}}": expected a variable name such as \${TAG} or \${TAG:-latest}`);
    return '';
  }
  const name = m[0];
  const rest = inner.slice(name.length);
  if (rest === '') return lookup(name, env, unset);
  const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest);
  if (!op) {
    errors.push(`invalid interpolation "\${${inner}}": after ${name} expected one of :- - :? ? :+ +`);
    return '';
  }
  const arg = rest.slice(op[0].length);
  const v = env[name];
  const colon = op[0].startsWith(':');
  const missing = colon ? v === undefined || v === '' : v === undefined;
  switch (op[0].replace(':', '')) {
    case '-':
      return missing ? expand(arg, env, errors, unset, depth + 1) : v!;
    case '?':
      if (missing) {
        const msg = expand(arg, env, errors, unset, depth + 1);
        errors.push(`required variable ${name} is ${v === undefined ? 'not set' : 'empty'}${msg ? `: ${msg}` : ''}`);
        return '';
      }
      return v!;
    default: // '+'
      return missing ? '' : expand(arg, env, errors, unset, depth + 1);
  }
}

/** Callbacks for {@link interpolateTree}. */
export interface InterpolateSink {
  error(pos: Pos, path: string, message: string): void;
  warn(pos: Pos, path: string, message: string): void;
}

/**
 * Interpolates every string value (not keys) of a positioned tree, like Compose
 * does before validation. Unset variables without a default become "" with a warning.
 */
export function interpolateTree(
  node: PNode,
  env: Readonly<Record<string, string | undefined>>,
  sink: InterpolateSink,
  path = '',
): PNode {
  switch (node.kind) {
    case 'scalar': {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return node;
      const r = interpolate(node.value, env);
      for (const e of r.errors) sink.error(node.pos, path, e);
      for (const u of r.unset) sink.warn(node.pos, path, `variable ${u} is not set, using an empty string`);
      return r.unset.length === 0 ? { ...node, value: r.value } : { ...node, value: r.value, unset: r.unset };
    }
    case 'seq':
      return { ...node, items: node.items.map((n, i) => interpolateTree(n, env, sink, `${path}[${i}]`)) };
    case 'map': {
      const entries = new Map<string, PEntry>();
      for (const [k, e] of node.entries)
        entries.set(k, { ...e, value: interpolateTree(e.value, env, sink, path === '' ? k : `${path}.${k}`) });
      return { ...node, entries };
    }
  }
}
