/**
 * What `shoal stack deploy` sends with a Compose file: the variables for interpolation (`.env`
 * next to the file, with the CLI's environment over it) and the files its `env_file:` keys name.
 * The agent parses the Compose file; the CLI reads only as much of it as it needs to find those
 * files (a line scan, no YAML parser: the CLI's import graph stays node built-ins only).
 * @module
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, posix, resolve } from 'node:path';
import type { StackDeployRequest } from '../api/types.js';
import { findObjectFiles } from './compose-object-files.js';
import { UsageError } from './errors.js';

/**
 * Parse `.env` text: `KEY=VALUE` lines, `#` comments, an optional `export `, single quotes
 * (literal), double quotes (`\n`, `\"`, `\\` escapes). Unquoted values lose a trailing ` # comment`.
 * Values are not interpolated here (Compose's `.env` rarely needs it).
 * @example parseDotEnv('A=1\n# note\nB="x y"\n') // { A: '1', B: 'x y' }
 */
export function parseDotEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trim();
    const eq = line.indexOf('=');
    if (eq <= 0) continue; // a bare KEY takes its value from the environment, which is sent anyway
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.length > 1 && value.endsWith(quote)) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\([n"\\])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    vars[key] = value;
  }
  return vars;
}

function unquote(text: string): string {
  const value = text.trim().replace(/\s+#.*$/, '');
  const quote = value[0];
  return (quote === '"' || quote === "'") && value.endsWith(quote) && value.length > 1 ? value.slice(1, -1) : value;
}

/**
 * The paths the `env_file:` keys of a Compose file name, as written: `env_file: a.env`,
 * `env_file: [a.env, b.env]`, a block list of paths, and `- path: x.env` entries. `${VAR}` in a
 * path is replaced from `env` (`${VAR:-default}` and `${VAR-default}` too).
 * @example findEnvFiles('services:\n  api:\n    env_file:\n      - app.env\n', {}) // ['app.env']
 */
export function findEnvFiles(compose: string, env: Readonly<Record<string, string | undefined>>): string[] {
  const found: string[] = [];
  const lines = compose.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const match = /^(\s*)(?:-\s+)?["']?env_file["']?\s*:\s*(.*)$/.exec(lines[i]!);
    if (!match) continue;
    const indent = match[1]!.length;
    const rest = match[2]!.replace(/\s+#.*$/, '').trim();
    if (rest.startsWith('[')) {
      found.push(
        ...rest
          .replace(/^\[|\]$/g, '')
          .split(',')
          .map(unquote),
      );
    } else if (rest !== '') {
      found.push(unquote(rest));
    } else {
      // A block below the key: everything indented deeper belongs to it.
      for (let j = i + 1; j < lines.length; j++) {
        const line = lines[j]!;
        if (line.trim() === '' || line.trim().startsWith('#')) continue;
        if (line.length - line.trimStart().length <= indent) break;
        const item = /^\s*(?:-\s+)?(?:(path|required|format)\s*:\s*)?(.*)$/.exec(line)!;
        if (item[1] === undefined || item[1] === 'path') found.push(unquote(item[2]!));
      }
    }
  }
  return [...new Set(found.filter((path) => path !== '').map((path) => substitute(path, env)))];
}

function substitute(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_, name, op, fallback, bare) => {
      const value = env[(name ?? bare) as string];
      if (op === ':-') return value === undefined || value === '' ? (fallback as string) : value;
      if (op === '-') return value === undefined ? (fallback as string) : value;
      return value ?? '';
    },
  );
}

/**
 * The top-level `name:` of a Compose file, when it is a plain value (not interpolated).
 * @example topLevelName('name: shop\nservices: {}\n') // 'shop'
 */
export function topLevelName(compose: string): string | undefined {
  const match = /^name\s*:\s*(.+)$/m.exec(compose);
  const name = match ? unquote(match[1]!) : '';
  return name === '' || name.includes('$') ? undefined : name;
}

/**
 * The stack name Compose would give a file in `dir`: its base name, lower-cased, with the
 * characters a stack name cannot hold left out.
 * @example defaultStackName('/srv/My.Shop') // 'myshop'
 */
export function defaultStackName(dir: string): string {
  return basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[-_]+/, '');
}

/** Reads a file for the deploy request; a missing `.env` or env file is the agent's to judge. */
export type ReadText = (path: string) => string | undefined;

/** `readFileSync`, with "no such file" as undefined and any other failure as a usage error. */
export const readTextOrUndefined: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new UsageError(`cannot read ${path}: ${code ?? (error as Error).message}`);
  }
};

/**
 * Build the deploy request for the Compose file at `path`. Only variables whose names appear
 * in the Compose file or its env files are sent, so the rest of the caller's environment
 * (tokens, keys) stays on this machine. A `~` in the file sends `HOME` too: the agent expands
 * `~/data` with it as Compose does, to the home of the user running the CLI (`$HOME`, else
 * `home`, else the account's home directory).
 */
export function buildDeployRequest(
  path: string,
  options: { name?: string; env: Readonly<Record<string, string | undefined>>; read?: ReadText; home?: string },
): StackDeployRequest {
  const read = options.read ?? readTextOrUndefined;
  const compose = read(path);
  if (compose === undefined) throw new UsageError(`cannot read the Compose file ${path}: no such file`);
  const dir = dirname(path);
  const dotEnv = read(resolve(dir, '.env'));
  const merged: Record<string, string> = dotEnv === undefined ? {} : parseDotEnv(dotEnv);
  for (const [key, value] of Object.entries(options.env)) if (value !== undefined) merged[key] = value;

  const files: Record<string, string> = {};
  for (const file of findEnvFiles(compose, merged)) {
    const text = read(isAbsolute(file) ? file : resolve(dir, file));
    if (text === undefined) continue; // the agent reports it, with the line, unless it is optional
    files[file] = text;
    const normalized = posix.normalize(file);
    if (normalized !== file) files[normalized] = text;
  }

  const words = new Set(
    [compose, ...Object.values(files)].flatMap((text) => text.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []),
  );
  const env = Object.fromEntries(Object.entries(merged).filter(([key]) => words.has(key)));
  if (compose.includes('~')) env.HOME = merged.HOME ?? options.home ?? homedir();
  const name = options.name ?? topLevelName(compose) ?? defaultStackName(dir);
  if (name === '') throw new UsageError(`cannot derive a stack name from the directory of ${path}: give --name NAME`);
  // Secret and config files go along too, after the scan above: their words pick no variables.
  for (const file of findObjectFiles(compose, (text) => substitute(text, merged))) {
    const text = read(isAbsolute(file) ? file : resolve(dir, file));
    if (text !== undefined) files[posix.normalize(file)] = files[file] = text;
  }
  return { name, compose, file: basename(path), env, files };
}
