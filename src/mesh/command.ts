/**
 * How the mesh runs the node's network tools: a command runner is injected so that the logic
 * around it is tested without root, and so that tests can run the same code inside a network
 * namespace (`nsenter --net=/run/netns/NAME --`).
 */
import { execFile } from 'node:child_process';

export interface CommandResult {
  /** Exit code; null when a signal ended it. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command args...` and reports how it ended; rejects only when it cannot be started at all. */
export type CommandRunner = (
  command: string,
  args: readonly string[],
  options?: { readonly signal?: AbortSignal },
) => Promise<CommandResult>;

/**
 * A runner that executes commands on this machine, after `prefix` when given.
 *
 * @example
 * const run = execRunner(['nsenter', '--net=/run/netns/blue', '--']);
 * await run('ip', ['-j', 'addr', 'show']);
 */
export function execRunner(prefix: readonly string[] = [], timeoutMs = 10_000): CommandRunner {
  return (command, args, options = {}) =>
    new Promise((resolve, reject) => {
      const [file, ...rest] = [...prefix, command, ...args];
      execFile(
        file!,
        rest,
        { encoding: 'utf8', timeout: timeoutMs, ...(options.signal === undefined ? {} : { signal: options.signal }) },
        (err, stdout, stderr) => {
          if (err === null) return resolve({ code: 0, stdout, stderr });
          if (typeof err.code === 'number' || err.code === undefined || err.code === null) {
            return resolve({ code: typeof err.code === 'number' ? err.code : null, stdout, stderr });
          }
          reject(err); // ENOENT and the like: the tool is missing
        },
      );
    });
}
