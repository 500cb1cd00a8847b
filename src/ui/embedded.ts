/**
 * The web UI's files for the admin API to serve at `/ui`.
 *
 * In the single executable this module does not exist as written: scripts/bundle.mjs replaces it
 * with one that returns the compiled files as strings, so the agent reads nothing from disk.
 * Run from source (tsx, jest), it compiles src/ui/web on first use with esbuild, a devDependency.
 * @module
 */
import type { StaticFiles } from '../api/static-files.js';

let compiled: Promise<StaticFiles> | undefined;

/**
 * The UI's files: `index.html`, `app.js`, `app.css`.
 * @example createApiServer(agent.api, { listen, ui: await loadUiAssets() })
 */
export function loadUiAssets(): Promise<StaticFiles> {
  compiled ??= import('../../scripts/ui-assets.mjs').then((m) => m.buildUiAssets());
  return compiled;
}
