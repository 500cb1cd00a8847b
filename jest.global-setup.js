/**
 * Builds the bundled agent (build/shoal.cjs) once before the suite: integration tests start real
 * agent processes from it, so they also test what the single executable is made from. A failed
 * bundle is reported here and fails those tests; the pure suites still run.
 */
import { rmSync } from 'node:fs';
import { bundle } from './scripts/bundle.mjs';

export default async function globalSetup() {
  try {
    await bundle();
  } catch (error) {
    rmSync('build/shoal.cjs', { force: true });
    console.error(`\nglobal setup: cannot bundle src/main.ts, agent integration tests will fail:\n${error.message}\n`);
  }
}
