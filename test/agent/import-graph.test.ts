/**
 * src/agent is a set of components with explicit dependencies (agent.ts is the composition
 * root): no file may reach itself through its imports, type-only imports included, since a
 * circle of types is how the old service locator (AgentContext) held every part to every other.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const AGENT = join(ROOT, 'src/agent');

/** Relative imports of a TypeScript file, value and type alike. */
function relativeImports(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+['"](\.[^'"]+)['"]/g))
    found.push(match[1]!);
  for (const match of source.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)) found.push(match[1]!);
  return found;
}

/** The import edges among the files of src/agent. */
function agentGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const name of readdirSync(AGENT).filter((f) => f.endsWith('.ts'))) {
    const file = join(AGENT, name);
    const targets = relativeImports(readFileSync(file, 'utf8'))
      .map((specifier) => resolve(dirname(file), specifier.replace(/\.js$/, '.ts')))
      .filter((target) => dirname(target) === AGENT);
    graph.set(file, targets);
  }
  return graph;
}

/** One cycle of the graph as a path of files, or null. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): string[] | null => {
    if (state.get(file) === 'done') return null;
    if (state.get(file) === 'open') return [...path.slice(path.indexOf(file)), file];
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(file, 'done');
    return null;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return null;
}

describe('src/agent import graph', () => {
  it('findCycle() finds a circle of three files and none in a chain', () => {
    const circle = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
    ]);
    expect(findCycle(circle)).toEqual(['a', 'b', 'c', 'a']);
    expect(
      findCycle(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', []],
        ]),
      ),
    ).toBeNull();
  });

  it('relativeImports() sees value, type and re-export imports', () => {
    const source =
      "import { a } from './a.js';\nimport type { B } from './b.js';\nexport { c } from './c.js';\nimport x from 'pino';";
    expect(relativeImports(source)).toEqual(['./a.js', './b.js', './c.js']);
  });

  it('has no import cycle (agent.ts, the composition root, is imported by none of its parts)', () => {
    const graph = agentGraph();
    const cycle = findCycle(graph);
    expect(cycle?.map((file) => relative(ROOT, file)) ?? null).toBeNull();
    const importers = [...graph].filter(([, targets]) => targets.includes(join(AGENT, 'agent.ts')));
    expect(importers.map(([file]) => relative(ROOT, file))).toEqual(['src/agent/run.ts']);
  });
});
