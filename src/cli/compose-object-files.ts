/**
 * The files the top-level `secrets:` and `configs:` of a Compose file read (`file: ./db.txt`),
 * found by a line scan like the `env_file:` ones (compose-files.ts), so that `stack deploy` can
 * send them: the agent, which parses the file, cannot read the caller's disk.
 * @module
 */

function unquote(text: string): string {
  const value = text.trim().replace(/\s+#.*$/, '');
  const quote = value[0];
  return (quote === '"' || quote === "'") && value.endsWith(quote) && value.length > 1 ? value.slice(1, -1) : value;
}

/**
 * The `file:` values under the top-level `secrets:` and `configs:` keys, as written, with
 * `${VAR}` replaced by `substitute`.
 * @example findObjectFiles('secrets:\n  db:\n    file: ./db.txt\n', (s) => s) // ['./db.txt']
 */
export function findObjectFiles(compose: string, substitute: (text: string) => string): string[] {
  const found: string[] = [];
  let inSection = false;
  for (const line of compose.split(/\r?\n/)) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      inSection = /^["']?(secrets|configs)["']?\s*:/.test(line);
      continue;
    }
    // `file: x` on its own line, or inside a flow mapping (`db: {file: ./db.txt}`).
    const match = inSection ? /(?:^\s+|[{,]\s*)["']?file["']?\s*:\s*("[^"]*"|'[^']*'|[^,}#\s]+)/.exec(line) : null;
    if (match) found.push(substitute(unquote(match[1]!)));
  }
  return [...new Set(found.filter((path) => path !== ''))];
}
