/**
 * Bundles shoal into two CommonJS files:
 * - build/shoal.cjs: the entry point and the admin CLI, small so a CLI call starts fast;
 * - build/agent.cjs: the agent (libp2p, Raft, ...), loaded only by `shoal agent`.
 * The single executable (scripts/build.sh) runs the first and carries the second as an asset;
 * integration tests run both as real processes.
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  logLevel: 'error',
  // Optional native add-ons (the packages fall back to JS); a single executable cannot load .node files.
  external: ['cbor-extract', 'cpu-features', '*.node'],
  // ESM code that reads import.meta.url keeps working in CommonJS.
  define: { 'import.meta.url': '__shoal_import_meta_url' },
  banner: { js: 'const __shoal_import_meta_url = require("url").pathToFileURL(__filename).href;' },
};

/** The entry's `import('./agent/run.js')` becomes a require of the separate agent bundle. */
const agentAsSeparateBundle = {
  name: 'agent-as-separate-bundle',
  setup(b) {
    b.onResolve({ filter: /\/agent\/run\.js$/ }, () => ({ path: './agent.cjs', external: true }));
  },
};

export async function bundle(outfile = 'build/shoal.cjs') {
  const agentFile = join(dirname(outfile), 'agent.cjs');
  await Promise.all([
    build({ ...common, entryPoints: ['src/main.ts'], outfile, plugins: [agentAsSeparateBundle] }),
    build({ ...common, entryPoints: ['src/agent/run.ts'], outfile: agentFile }),
  ]);
  return { cli: outfile, agent: agentFile };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await bundle(process.argv[2]);
}
