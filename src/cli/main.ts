/**
 * The admin CLI: `runCli(argv, io)` parses a command line, calls the agent's admin API and
 * returns an exit code. It imports only node built-ins and its own files (no libp2p, no agent),
 * so a call starts fast enough for shell loops.
 * @module
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { resolveAddress, type ResolvedAddress } from './address.js';
import { tooLargeMessage } from './agent-errors.js';
// Loaded on demand: node:http costs several ms, which `version`, help and `job submit` need not pay.
import type { ApiClient, ApiClientOptions } from './client.js';
import type { CliOutput, CommandContext, CommandSpec, OptionSpec, OutputFormat } from './command.js';
import { initCommand, joinCommand, leaderTransferCommand } from './commands/cluster.js';
import { nodeLsCommand, nodeRmCommand } from './commands/node.js';
import {
  nodeActivateCommand,
  nodeDrainCommand,
  nodeLabelAddCommand,
  nodeLabelRmCommand,
  nodePauseCommand,
} from './commands/node-update.js';
import { serviceInspectCommand, serviceLsCommand, servicePsCommand, serviceScaleCommand } from './commands/service.js';
import { serviceLogsCommand } from './commands/service-logs.js';
import {
  serviceHistoryCommand,
  servicePromoteCommand,
  serviceRollbackCommand,
  serviceUpdateCommand,
} from './commands/service-rollout.js';
import { eventsCommand } from './commands/events.js';
import { stackDeployCommand, stackLsCommand, stackPsCommand, stackRmCommand } from './commands/stack.js';
import { statusCommand } from './commands/status.js';
import { tokenRotateCommand, tokenShowCommand } from './commands/token.js';
import { discoverCommand } from './commands/discover.js';
import { versionCommand } from './commands/version.js';
import { jobCancelCommand, jobInspectCommand, jobLogsCommand } from './commands/job.js';
import { jobHistoryCommand } from './commands/job-history.js';
import { jobSubmitCommand } from './commands/job-submit.js';
import { queueCommand } from './commands/queue.js';
import { quotaLsCommand, quotaRmCommand, quotaSetCommand } from './commands/quota.js';
import {
  configCreateCommand,
  configInspectCommand,
  configLsCommand,
  configRmCommand,
  secretCreateCommand,
  secretInspectCommand,
  secretLsCommand,
  secretRmCommand,
} from './commands/secret.js';
import {
  AgentTimeoutError,
  AgentUnreachableError,
  ApiRequestError,
  ExitCode,
  UsageError,
  exitCodeForApiError,
} from './errors.js';
import { HELP_OPTION, REMOTE_OPTIONS, commandHelp, commandName, groupHelp, mainHelp, usageLine } from './help.js';
import { negativeValueError, parseDuration } from './options.js';

/** Every command `runCli` knows, in the order help lists them. */
export const COMMAND_SPECS: readonly CommandSpec[] = [
  initCommand,
  joinCommand,
  statusCommand,
  nodeLsCommand,
  nodeRmCommand,
  nodeDrainCommand,
  nodeActivateCommand,
  nodePauseCommand,
  nodeLabelAddCommand,
  nodeLabelRmCommand,
  stackDeployCommand,
  stackLsCommand,
  stackPsCommand,
  stackRmCommand,
  serviceLsCommand,
  servicePsCommand,
  serviceInspectCommand,
  serviceScaleCommand,
  serviceUpdateCommand,
  serviceRollbackCommand,
  servicePromoteCommand,
  serviceHistoryCommand,
  serviceLogsCommand,
  eventsCommand,
  jobSubmitCommand,
  queueCommand,
  jobCancelCommand,
  jobHistoryCommand,
  jobInspectCommand,
  jobLogsCommand,
  quotaLsCommand,
  quotaSetCommand,
  quotaRmCommand,
  secretCreateCommand,
  secretLsCommand,
  secretInspectCommand,
  secretRmCommand,
  configCreateCommand,
  configLsCommand,
  configInspectCommand,
  configRmCommand,
  tokenShowCommand,
  tokenRotateCommand,
  discoverCommand,
  leaderTransferCommand,
  versionCommand,
];

/** First words `runCli` handles (`agent` is not among them: the top-level entry runs the daemon). */
export const CLI_COMMANDS: readonly string[] = [...new Set([...COMMAND_SPECS.map((spec) => spec.words[0]!), 'help'])];

/**
 * What `runCli` reads and writes; `fileExists` lets tests fix the default-address probe, `now`
 * the clock that ages in tables ("Running 2 minutes ago") are counted from.
 */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  readonly fileExists?: (path: string) => boolean;
  readonly now?: () => number;
}

export { fdOutput, processIo } from './process-io.js';

/** Every proper prefix of a command's words, e.g. `node` and `node label` for `node label add`. */
const GROUPS: ReadonlySet<string> = new Set(
  COMMAND_SPECS.flatMap((spec) => spec.words.slice(0, -1).map((_, i) => spec.words.slice(0, i + 1).join(' '))),
);

/** Flags that take a value, so the command-word scan skips their values (`--addr x status`). */
const VALUE_FLAGS: ReadonlySet<string> = new Set(
  [...COMMAND_SPECS.flatMap((spec) => Object.entries(spec.options ?? {})), ...Object.entries(REMOTE_OPTIONS)]
    .filter(([, option]) => option.type === 'string')
    .flatMap(([name, option]) => [`--${name}`, ...(option.short ? [`-${option.short}`] : [])]),
);

/** The positional words of `argv` (before `--`), with their indexes. */
function positionalWords(argv: readonly string[]): { word: string; index: number }[] {
  const words: { word: string; index: number }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') break;
    if (token.startsWith('-') && token !== '-') {
      if (VALUE_FLAGS.has(token)) i++;
      continue;
    }
    words.push({ word: token, index: i });
  }
  return words;
}

/** The command named by the leading positional words (the last word may be an alias). */
function findSpec(words: readonly string[]): CommandSpec | undefined {
  return COMMAND_SPECS.find((spec) =>
    spec.words.every((word, i) => {
      const given = words[i];
      if (given === undefined) return false;
      return given === word || (i === spec.words.length - 1 && i > 0 && (spec.aliases ?? []).includes(given));
    }),
  );
}

/** The longest group the leading words name (`node label` for `node label frob`). */
function findGroup(words: readonly string[]): string[] | undefined {
  for (let n = words.length; n > 0; n--) {
    if (GROUPS.has(words.slice(0, n).join(' '))) return words.slice(0, n);
  }
  return undefined;
}

function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((token) => token === '-h' || token === '--help');
}

function parseOptions(spec: CommandSpec, args: string[]) {
  // Connection options are accepted even by local commands, so `alias shoal='shoal --addr …'` keeps working.
  const all: Record<string, OptionSpec> = { ...spec.options, ...REMOTE_OPTIONS, help: HELP_OPTION };
  const options = Object.fromEntries(
    Object.entries(all).map(([name, option]) => [
      name,
      {
        type: option.type,
        ...(option.short ? { short: option.short } : {}),
        ...(option.multiple ? { multiple: true } : {}),
      },
    ]),
  );
  const negative = negativeValueError(args, all);
  if (negative !== undefined) throw new UsageError(negative.message, usageLine(spec));
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    // parseArgs' messages name the flag ("Unknown option '--frce'"); they are usage errors.
    const message = (error as Error).message.split('. To specify a positional')[0]!;
    // `job submit python x.py --lr 3`: the command's own flags need the `--` separator.
    const hint = spec.argsUsage?.startsWith('-- ') ? ' (put the command to run after `--`)' : '';
    throw new UsageError(message + hint, usageLine(spec));
  }
}

function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read the ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** Build the command context; the client (and with it the address) is made on first use. */
function makeContext(
  spec: CommandSpec,
  values: Record<string, string | boolean | undefined>,
  args: string[],
  io: CliIo,
  Client: typeof ApiClient | undefined,
) {
  const output = (values.output as string | undefined) ?? 'table';
  if (spec.outputs !== undefined && !(spec.outputs as readonly string[]).includes(output)) {
    throw new UsageError(`-o ${output}: unknown output format; expected ${spec.outputs.join(', ')}`, usageLine(spec));
  }
  let resolved: ResolvedAddress | undefined;
  let client: ApiClient | undefined;
  let connection: ApiClientOptions | undefined;
  const context: CommandContext & { resolved(): ResolvedAddress | undefined } = {
    args,
    options: values,
    output: output as OutputFormat,
    env: io.env,
    stdout: io.stdout,
    stderr: io.stderr,
    now: io.now ?? Date.now,
    resolved: () => resolved,
    connection() {
      if (connection) return connection;
      resolved = resolveAddress({ flag: values.addr as string | undefined, env: io.env, fileExists: io.fileExists });
      const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout as string, '--timeout');
      const tokenFile = (values['token-file'] as string | undefined) ?? io.env.SHOAL_TOKEN_FILE;
      const token = tokenFile ? readTextFile(tokenFile, 'admin token').trim() : io.env.SHOAL_TOKEN || undefined;
      const ca = values.cacert === undefined ? undefined : readTextFile(values.cacert as string, 'CA certificate');
      const onRetry = (message: string) => void io.stderr.write(`shoal: ${message}\n`);
      connection = { address: resolved.address, token, timeoutMs, ca, onRetry };
      return connection;
    },
    client() {
      if (client) return client;
      if (Client === undefined) throw new Error(`internal: "${commandName(spec)}" has no API client (fastStart)`);
      client = new Client(context.connection());
      return client;
    },
  };
  return context;
}

function unreachableAdvice(resolved: ResolvedAddress | undefined): string {
  const from =
    resolved === undefined
      ? ''
      : ` (this address came from ${resolved.source === 'default' ? 'the defaults' : resolved.source})`;
  return `Point shoal at a running agent with --addr ADDR or SHOAL_ADDR=ADDR${from}, e.g. --addr unix:///var/lib/shoal/shoal.sock or --addr 10.0.0.5:7900.\n`;
}

/** Print `error` as `shoal: …` and return its exit code. */
function report(
  error: unknown,
  io: CliIo,
  spec: CommandSpec | undefined,
  resolved: ResolvedAddress | undefined,
): number {
  const say = (text: string) => io.stderr.write(`shoal: ${text}\n`);
  if (error instanceof UsageError) {
    say(error.message);
    const usage = error.usage ?? (spec ? usageLine(spec) : undefined);
    if (usage) io.stderr.write(`${usage}\n`);
    io.stderr.write(`Run 'shoal ${spec ? commandName(spec) + ' --help' : 'help'}' for more.\n`);
    return ExitCode.usage;
  }
  if (error instanceof ApiRequestError) {
    // The agent's 413 names its own field ("body: larger than the limit of N bytes").
    say(error.status === 413 && error.message.startsWith('body:') ? tooLargeMessage(error.message) : error.message);
    return exitCodeForApiError(error.code);
  }
  if (error instanceof AgentUnreachableError || (error instanceof AgentTimeoutError && !error.connected)) {
    say(error.message);
    io.stderr.write(unreachableAdvice(resolved));
    return ExitCode.unreachable;
  }
  if (error instanceof AgentTimeoutError) {
    say(error.message);
    return ExitCode.unavailable;
  }
  say(error instanceof Error ? error.message : String(error));
  return ExitCode.failed;
}

/**
 * Run one CLI invocation. Never throws: failures are printed to `io.stderr` as `shoal: …` and
 * turned into an exit code (see `shoal help`).
 * @example process.exitCode = await runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const words = positionalWords(argv);
  const first = words[0]?.word;
  if (first === undefined) {
    if (argv.includes('--version') || argv.includes('-v')) return runCli(['version'], io);
    if (argv.length === 0 || wantsHelp(argv)) {
      io.stdout.write(mainHelp(COMMAND_SPECS));
      return ExitCode.ok;
    }
    return report(new UsageError('missing a command', 'Usage: shoal <command> [options]'), io, undefined, undefined);
  }
  if (first === 'help') {
    const rest = words.slice(1).map((w) => w.word);
    if (rest.length === 0) {
      io.stdout.write(mainHelp(COMMAND_SPECS));
      return ExitCode.ok;
    }
    return runCli([...rest, '--help'], io);
  }
  const spec = findSpec(words.map((w) => w.word));
  if (spec === undefined) {
    const group = findGroup(words.map((w) => w.word));
    if (group !== undefined) {
      const name = group.join(' ');
      const next = words[group.length]?.word;
      if (next === undefined && wantsHelp(argv)) {
        io.stdout.write(groupHelp(group, COMMAND_SPECS));
        return ExitCode.ok;
      }
      const what = next === undefined ? `missing a command after "${name}"` : `unknown command "${name} ${next}"`;
      io.stderr.write(`shoal: ${what}\n${groupHelp(group, COMMAND_SPECS)}`);
      return ExitCode.usage;
    }
    return report(
      new UsageError(`unknown command "${first}"`, 'Usage: shoal <command> [options]'),
      io,
      undefined,
      undefined,
    );
  }
  const used = new Set(words.slice(0, spec.words.length).map((w) => w.index));
  const rest = argv.filter((_, index) => !used.has(index));
  let context: ReturnType<typeof makeContext> | undefined;
  try {
    const { values, positionals } = parseOptions(spec, rest);
    if (values.help === true) {
      io.stdout.write(commandHelp(spec));
      return ExitCode.ok;
    }
    const min = spec.minArgs ?? 0;
    const max = spec.maxArgs ?? Number.POSITIVE_INFINITY;
    if (positionals.length < min)
      throw new UsageError(`"${commandName(spec)}" needs ${spec.argsUsage ?? 'an argument'}`);
    if (positionals.length > max) {
      throw new UsageError(
        `"${commandName(spec)}" takes ${max === 0 ? 'no arguments' : `at most ${max}`}; got "${positionals.join(' ')}"`,
      );
    }
    // An option with `multiple` holds a string array; its command reads it as such.
    const Client = spec.remote && spec.fastStart !== true ? (await import('./client.js')).ApiClient : undefined;
    context = makeContext(spec, values as Record<string, string | boolean | undefined>, positionals, io, Client);
    return await spec.run(context);
  } catch (error) {
    return report(error, io, spec, context?.resolved());
  }
}
