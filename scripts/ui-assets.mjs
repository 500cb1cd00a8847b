/**
 * Compiles the web UI (src/ui/web) into the three files the admin API serves at /ui: index.html,
 * app.js (the TypeScript, bundled and minified by esbuild for browsers) and app.css. Used by
 * scripts/bundle.mjs, which inlines them into the agent bundle as strings, and from source (tsx,
 * jest) by src/ui/embedded.ts.
 */
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = join(dirname(fileURLToPath(import.meta.url)), '../src/ui/web');

export async function buildUiAssets() {
  const [script, html, css] = await Promise.all([
    build({
      entryPoints: [join(WEB, 'main.ts')],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      // Browsers of the last few years: fetch streams, <dialog>, optional chaining, private fields.
      target: ['chrome110', 'firefox110', 'safari16'],
      minify: true,
      legalComments: 'none',
      logLevel: 'error',
    }),
    readFile(join(WEB, 'index.html'), 'utf8'),
    readFile(join(WEB, 'app.css'), 'utf8'),
  ]);
  return {
    'index.html': { type: 'text/html; charset=utf-8', body: html },
    'app.js': { type: 'text/javascript; charset=utf-8', body: script.outputFiles[0].text },
    'app.css': { type: 'text/css; charset=utf-8', body: css },
  };
}
