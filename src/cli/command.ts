/**
 * The shape of a CLI command: its words, options, arguments, help and handler. Commands are
 * rows in a table (`commands/*.ts`), so help, parsing and dispatch are written once.
 * @module
 */
import type { ApiClient, ApiClientOptions } from './client.js';

/** An option as `node:util` parseArgs takes it, plus what help shows. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** May be given several times (`--env A=1 --env B=2`): the value is then a string array. */
  readonly multiple?: boolean;
  /** Placeholder for the value in help, e.g. `FORMAT`. */
  readonly value?: string;
  readonly description: string;
}

/** Output formats a command can print. */
export type OutputFormat = 'table' | 'wide' | 'json';

/** Where the CLI writes. */
export interface CliOutput {
  write(text: string): unknown;
}

/** What a command's handler gets. */
export interface CommandContext {
  readonly args: readonly string[];
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
  readonly output: OutputFormat;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** The clock (ms since epoch) ages are counted from; injected so tables are testable. */
  now(): number;
  /** The client for the chosen agent (address resolved on first use). */
  client(): ApiClient;
  /** What the client connects with (address, token, timeout, CA), for a command that sends its request itself. */
  connection(): ApiClientOptions;
}

/** One command. */
export interface CommandSpec {
  /** The words that name it, e.g. `['node', 'ls']`. */
  readonly words: readonly string[];
  /** Other names for the last word, e.g. `list` for `ls`. */
  readonly aliases?: readonly string[];
  readonly summary: string;
  /** Arguments part of the usage line, e.g. `<id>...`. */
  readonly argsUsage?: string;
  /** Longer explanation shown by `--help`. */
  readonly description?: string;
  readonly options?: Readonly<Record<string, OptionSpec>>;
  readonly minArgs?: number;
  readonly maxArgs?: number;
  /** Formats for `-o`; when absent the command has no `-o`. */
  readonly outputs?: readonly OutputFormat[];
  /** Whether the command talks to an agent (and so takes --addr, --timeout, …). */
  readonly remote: boolean;
  /**
   * The command sends its one request itself through `connection()` (`job submit`, run in shell
   * loops), so the full client and node:http are not loaded for it: `client()` is then unavailable.
   */
  readonly fastStart?: boolean;
  readonly examples: readonly string[];
  run(context: CommandContext): Promise<number>;
}

/** `-o` for commands that print something. */
export function outputOption(formats: readonly OutputFormat[]): OptionSpec {
  return {
    type: 'string',
    short: 'o',
    value: 'FORMAT',
    description: `output format: ${formats.join(', ')} (default table)`,
  };
}

/** `--stale` for reads. */
export const STALE_OPTION: OptionSpec = {
  type: 'boolean',
  description: "answer from this agent's local state without confirming with the leader (faster; may lag)",
};
