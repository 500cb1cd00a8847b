/**
 * Help texts: `shoal help`, `shoal <command> --help`, usage lines for errors.
 * @module
 */
import type { CommandSpec, OptionSpec } from './command.js';

/** Options every command that talks to an agent takes. */
export const REMOTE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  addr: {
    type: 'string',
    value: 'ADDR',
    description:
      'agent to talk to: unix:///path/shoal.sock, /path/x.sock, host:port, http(s)://host:port (default: $SHOAL_ADDR)',
  },
  'token-file': {
    type: 'string',
    value: 'PATH',
    description: 'file holding the admin token (default: $SHOAL_TOKEN, $SHOAL_TOKEN_FILE)',
  },
  timeout: {
    type: 'string',
    value: 'DURATION',
    description: 'how long to wait for an answer, e.g. 500ms, 30s, 2m (default 10s)',
  },
  cacert: { type: 'string', value: 'PATH', description: 'CA certificate to trust for an https:// address' },
};

/** `-h/--help`, taken everywhere. */
export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

/** The full name of a command, e.g. `node ls`. */
export function commandName(spec: CommandSpec): string {
  return spec.words.join(' ');
}

/** The usage line, e.g. `Usage: shoal node rm [options] <node>...`. */
export function usageLine(spec: CommandSpec): string {
  return `Usage: shoal ${commandName(spec)} [options]${spec.argsUsage ? ' ' + spec.argsUsage : ''}`;
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const entries = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(...entries.map(([flag]) => flag.length));
  return entries.map(([flag, description]) => `  ${flag.padEnd(width)}   ${description}`);
}

/** `shoal <command> --help`. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [usageLine(spec), '', spec.summary + '.'];
  if (spec.description) lines.push('', spec.description);
  lines.push('', 'Options:', ...optionLines({ ...spec.options, help: HELP_OPTION }));
  if (spec.remote) lines.push('', 'Connection options:', ...optionLines(REMOTE_OPTIONS));
  lines.push('', 'Examples:', ...spec.examples.map((example) => `  ${example}`));
  return lines.join('\n') + '\n';
}

/** `shoal <group> --help`, e.g. `shoal node --help` or `shoal node label --help`. */
export function groupHelp(group: readonly string[], specs: readonly CommandSpec[]): string {
  const members = specs.filter(
    (spec) => spec.words.length > group.length && group.every((word, i) => spec.words[i] === word),
  );
  const rest = members.map((spec) => spec.words.slice(group.length).join(' '));
  const width = Math.max(...rest.map((name) => name.length));
  const name = group.join(' ');
  return (
    [
      `Usage: shoal ${name} <command> [options]`,
      '',
      'Commands:',
      ...members.map((spec, i) => `  ${rest[i]!.padEnd(width)}   ${spec.summary}`),
      '',
      `Run 'shoal ${name} <command> --help' for more.`,
    ].join('\n') + '\n'
  );
}

/** `shoal help`: commands, connection settings and exit codes. */
export function mainHelp(specs: readonly CommandSpec[]): string {
  const names = specs.map((spec) => commandName(spec));
  const width = Math.max(...names.map((name) => name.length), 'agent'.length);
  const lines = [
    'Usage: shoal <command> [options]',
    '',
    'shoal runs services and batch jobs on a small cluster. Every machine runs `shoal agent`;',
    'these commands talk to any agent, which forwards writes to the Raft leader.',
    '',
    'Commands:',
    `  ${'agent'.padEnd(width)}   Run the agent daemon on this machine ('shoal agent --help')`,
    ...specs.map((spec, i) => `  ${names[i]!.padEnd(width)}   ${spec.summary}`),
    '',
    'Connection options (every command that talks to an agent):',
    ...optionLines(REMOTE_OPTIONS),
    '',
    'The agent address is, in order: --addr, $SHOAL_ADDR, unix://$SHOAL_DATA_DIR/shoal.sock,',
    'unix:///var/lib/shoal/shoal.sock if it exists, else 127.0.0.1:7900. The unix socket and',
    'loopback need no token; other addresses need the admin token ($SHOAL_TOKEN or --token-file).',
    '',
    "Output: human tables by default; -o json prints the API's JSON for scripts; -o wide adds columns.",
    '',
    'Exit codes:',
    '  0   success',
    '  1   the request failed (the agent reported an error)',
    '  2   usage error: unknown command or flag, missing or extra argument',
    '  3   cannot reach the agent (see --addr / SHOAL_ADDR)',
    '  4   not found (e.g. no such node, stack or service)',
    '  5   unavailable: no leader or no quorum right now, or no answer in time; retry',
    '',
    'Examples:',
    '  shoal init --name lab',
    '  shoal status',
    '  shoal stack deploy -f compose.yml && shoal stack ps web',
    '  SHOAL_ADDR=10.0.0.5:7900 SHOAL_TOKEN=shoal-admin-... shoal node ls -o json',
    '',
    "Run 'shoal <command> --help' for more about a command.",
  ];
  return lines.join('\n') + '\n';
}
