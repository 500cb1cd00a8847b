/**
 * Bundles shoal into one CommonJS file, build/shoal.cjs: the input of the single executable
 * (scripts/build.sh) and what integration tests run as real agent processes.
 */
import { build } from 'esbuild';

export async function bundle(outfile = 'build/shoal.cjs') {
  await build({
    entryPoints: ['src/main.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    outfile,
    logLevel: 'error',
    // Optional native add-ons (the packages fall back to JS); a single executable cannot load .node files.
    external: ['cbor-extract', 'cpu-features', '*.node'],
    // ESM code that reads import.meta.url keeps working in the CommonJS bundle.
    define: { 'import.meta.url': '__shoal_import_meta_url' },
    banner: { js: 'const __shoal_import_meta_url = require("url").pathToFileURL(__filename).href;' },
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await bundle(process.argv[2]);
}
