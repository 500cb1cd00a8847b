/**
 * Bundles shoal into two CommonJS files:
 * - build/shoal.cjs: the entry point and the admin CLI, small so a CLI call starts fast;
 * - build/agent.cjs: the agent (libp2p, Raft, ...), loaded only by `shoal agent`.
 * The single executable (scripts/build.sh) runs the first and carries the second as an asset;
 * integration tests run both as real processes.
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { buildUiAssets } from './ui-assets.mjs';

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  logLevel: 'error',
  // Pure ASCII without comments or layout: V8 holds a script with one non-ASCII character as
  // UTF-16 (twice the bytes), and every agent holds its whole source. Names stay, for stack traces.
  // Measured on an idle agent: 101 MB RSS before, 94 MB after (script source 10.0 MB → 5.3 MB).
  charset: 'ascii',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
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

/**
 * dockerode carries an SSH transport (ssh2) and BuildKit sessions (gRPC + protobuf): 1.4 MB of
 * the agent's 4.5 MB, parsed by every agent at start (about 15 MB of its memory). shoal talks to
 * the local engine's socket and never builds images, so both become modules that say so if used.
 */
const withoutUnusedDockerParts = {
  name: 'without-unused-docker-parts',
  setup(b) {
    const stub = (what) => ({
      contents: `const fail = () => { throw new Error('${what} is not part of shoal: it talks to the local Docker Engine socket'); };
module.exports = Object.assign(fail, { Client: fail });`,
      loader: 'js',
    });
    b.onResolve({ filter: /^ssh2$/ }, () => ({ path: 'ssh2', namespace: 'unused-docker-part' }));
    b.onResolve({ filter: /^\.\/session$/ }, (args) =>
      /dockerode/.test(args.importer) ? { path: 'dockerode-session', namespace: 'unused-docker-part' } : undefined,
    );
    b.onLoad({ filter: /^ssh2$/, namespace: 'unused-docker-part' }, () => stub('the SSH transport to a remote engine'));
    b.onLoad({ filter: /^dockerode-session$/, namespace: 'unused-docker-part' }, () =>
      stub('building images with BuildKit'),
    );
  },
};

/**
 * The agent's web UI (src/ui/embedded.ts) becomes a module holding its compiled files as
 * strings: the single executable serves them from memory and reads nothing from disk.
 */
const uiInlined = {
  name: 'ui-inlined',
  setup(b) {
    b.onResolve({ filter: /\/ui\/embedded\.js$/ }, () => ({ path: 'ui-embedded', namespace: 'ui-inlined' }));
    b.onLoad({ filter: /^ui-embedded$/, namespace: 'ui-inlined' }, async () => ({
      contents: `export async function loadUiAssets() { return ${JSON.stringify(await buildUiAssets())}; }`,
      loader: 'js',
    }));
  },
};

export async function bundle(outfile = 'build/shoal.cjs') {
  const agentFile = join(dirname(outfile), 'agent.cjs');
  await Promise.all([
    build({ ...common, entryPoints: ['src/main.ts'], outfile, plugins: [agentAsSeparateBundle] }),
    build({
      ...common,
      entryPoints: ['src/agent/run.ts'],
      outfile: agentFile,
      plugins: [withoutUnusedDockerParts, uiInlined],
    }),
  ]);
  return { cli: outfile, agent: agentFile };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await bundle(process.argv[2]);
}
