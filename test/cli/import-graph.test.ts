/**
 * The CLI must start fast, so its module graph may hold only node built-ins and its own files
 * (plus the import-free API types). This walks the real import graph from src/cli/main.ts.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Runtime imports of a TypeScript file (type-only imports are erased and skipped). */
function runtimeImports(source: string): string[] {
  const specifiers: string[] = [];
  const statement = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g;
  for (const match of source.matchAll(statement)) {
    if (match[2] === undefined) specifiers.push(match[3]!);
  }
  for (const match of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specifiers.push(match[1]!);
  return specifiers;
}

function walk(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of runtimeImports(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) {
        packages.add(specifier);
        continue;
      }
      const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
      if (!existsSync(target)) throw new Error(`${relative(ROOT, file)} imports ${specifier}, which does not exist`);
      queue.push(target);
    }
  }
  return { files: [...files].map((file) => relative(ROOT, file)).sort(), packages: [...packages].sort() };
}

describe('CLI import graph', () => {
  const graph = walk(join(ROOT, 'src/cli/main.ts'));

  it('runtimeImports() sees value imports and skips type-only ones', () => {
    const source =
      "import { a } from './a.js';\nimport type { B } from 'libp2p';\nexport { c } from \"node:fs\";\nconst x = await import('pino');";
    expect(runtimeImports(source)).toEqual(['./a.js', 'node:fs', 'pino']);
  });

  it('reaches main.ts, the commands and the client', () => {
    expect(graph.files).toEqual(
      expect.arrayContaining(['src/cli/main.ts', 'src/cli/client.ts', 'src/cli/commands/status.ts']),
    );
  });

  it('imports only node: built-ins (no libp2p, cbor-x, pino or agent code)', () => {
    expect(graph.packages.filter((name) => !name.startsWith('node:'))).toEqual([]);
  });

  it('stays inside src/cli (and the import-free src/api/types.ts)', () => {
    expect(graph.files.filter((file) => !file.startsWith('src/cli/') && file !== 'src/api/types.ts')).toEqual([]);
    expect(runtimeImports(readFileSync(join(ROOT, 'src/api/types.ts'), 'utf8'))).toEqual([]);
  });
});
