/**
 * The one entry point of the `shoal` binary. `shoal agent ...` runs the daemon; every other
 * command is the admin CLI, which must start fast: the agent (libp2p, Raft, ...) is a separate
 * bundle, loaded only for `agent` (from build/agent.cjs, or the single executable's asset).
 */
import { loadAgentModule } from './agent-loader.js';

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'agent') {
    const { runAgentCommand } = await loadAgentModule();
    const code = await runAgentCommand(argv.slice(1));
    // An agent that could not start exits now, whatever timers its libraries left behind.
    if (code >= 0) process.exit(code);
    return code;
  }
  const { runCli, processIo } = await import('./cli/main.js');
  return runCli(argv, processIo());
}

main(process.argv.slice(2)).then(
  (code) => {
    // The agent keeps running (its servers hold the loop open); the CLI exits with its code.
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`shoal: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
