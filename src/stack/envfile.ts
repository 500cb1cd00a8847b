/**
 * `.env` / `env_file` contents, read the way Compose reads them.
 *
 * @module
 */
import { interpolate } from './interpolate.js';

/** One problem in an env file, by line. */
export interface EnvFileProblem {
  readonly line: number;
  readonly message: string;
}

/**
 * Parses env-file text: `KEY=VALUE` lines, `#` comments, blank lines, an
 * optional `export ` prefix, single quotes (literal), double quotes (with
 * `\n`, `\"`, `\\` escapes and `${VAR}` interpolation), unquoted values (inline
 * ` #` comments stripped, interpolated). A bare `KEY` takes its value from
 * `env` and is dropped when unset.
 *
 * @example
 * ```ts
 * parseEnvFile('A=1\n# c\nB="x y"\n', {}).vars; // { A: '1', B: 'x y' }
 * ```
 */
export function parseEnvFile(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): { vars: Record<string, string>; problems: EnvFileProblem[] } {
  const vars: Record<string, string> = {};
  const problems: EnvFileProblem[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trim();
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) {
      problems.push({ line: i + 1, message: `invalid variable name ${JSON.stringify(key)}` });
      continue;
    }
    if (eq < 0) {
      const v = env[key];
      if (v !== undefined) vars[key] = v;
      continue;
    }
    let raw = line.slice(eq + 1).trim();
    const q = raw[0];
    if (q === "'" || q === '"') {
      // A quoted value may span lines until its closing quote.
      let body = raw.slice(1);
      while (!hasClosing(body, q) && i + 1 < lines.length) body += '\n' + lines[++i];
      const end = closingIndex(body, q);
      if (end < 0) {
        problems.push({ line: i + 1, message: `unterminated ${q === '"' ? 'double' : 'single'} quote for ${key}` });
        continue;
      }
      raw = body.slice(0, end);
      vars[key] =
        q === "'"
          ? raw
          : expand(
              raw.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c)),
              env,
              problems,
              i + 1,
            );
      continue;
    }
    const hash = raw.search(/\s#/);
    if (hash >= 0) raw = raw.slice(0, hash).trim();
    vars[key] = expand(raw, env, problems, i + 1);
  }
  return { vars, problems };
}

function closingIndex(body: string, q: string): number {
  for (let j = 0; j < body.length; j++) {
    if (q === '"' && body[j] === '\\') {
      j++;
      continue;
    }
    if (body[j] === q) return j;
  }
  return -1;
}

function hasClosing(body: string, q: string): boolean {
  return closingIndex(body, q) >= 0;
}

function expand(
  v: string,
  env: Readonly<Record<string, string | undefined>>,
  problems: EnvFileProblem[],
  line: number,
): string {
  if (!v.includes('$')) return v;
  const r = interpolate(v, env);
  for (const e of r.errors) problems.push({ line, message: e });
  return r.value;
}
