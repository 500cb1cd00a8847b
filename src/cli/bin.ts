/**
 * A process entry for the admin CLI alone (`tsx src/cli/bin.ts status`, or bundled with esbuild):
 * what `src/main.ts` does for every command but `agent`, without importing the agent.
 * @module
 */
import { processIo, runCli } from './main.js';

// No top-level await: the file must also bundle to CommonJS.
void runCli(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
