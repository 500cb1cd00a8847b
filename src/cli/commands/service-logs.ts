/**
 * `shoal service logs`: the merged output of a service's tasks, prefixed like
 * `docker service logs` (`web_api.2@alpha | …`), streamed as it comes.
 * @module
 */
import type { LogLine, NodeView } from '../../api/types.js';
import { outputOption, type CommandSpec } from '../command.js';
import type { ApiClient } from '../client.js';
import { ApiRequestError, ExitCode, UsageError } from '../errors.js';
import { shortId } from '../format.js';
import { servicePath } from './service.js';

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `--since`: a duration back from now (`90s`, `10m`, `2h`, `1d`) or a date (`2024-05-01T10:00:00Z`),
 * as ms since epoch.
 * @example parseSince('10m', Date.parse('2024-01-01T00:10:00Z')) // Date.parse('2024-01-01T00:00:00Z')
 */
export function parseSince(text: string, now: number): number {
  const relative = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  if (relative) return Math.max(0, Math.round(now - Number(relative[1]) * UNITS[relative[2]!]!));
  const absolute = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isFinite(absolute)) return absolute;
  throw new UsageError(
    `--since ${JSON.stringify(text)}: expected a duration such as 10m or 2h, or a date such as 2024-05-01T10:00:00Z`,
  );
}

/** `--tail`: a count of lines, or `all`. */
export function parseTail(text: string): number | undefined {
  if (text === 'all') return undefined;
  if (!/^\d{1,9}$/.test(text))
    throw new UsageError(`--tail ${JSON.stringify(text)}: expected a number of lines or "all"`);
  return Number(text);
}

/**
 * Hostnames by node id, for the prefixes; when the agent refuses the list, short ids do. An
 * unreachable or slow agent is reported at once rather than again by the logs request.
 */
async function hostnames(client: ApiClient): Promise<Map<string, string>> {
  try {
    const nodes = await client.call<NodeView[]>('GET', '/v1/nodes', { query: { stale: true } });
    return new Map(nodes.map((node) => [node.id, node.hostname]));
  } catch (error) {
    if (error instanceof ApiRequestError) return new Map();
    throw error;
  }
}

/** One log line as the table output prints it. */
export function formatLogLine(line: LogLine, host: string, timestamps: boolean): string {
  const time = timestamps ? `${new Date(line.time).toISOString()} ` : '';
  return `${line.taskName}@${host} | ${time}${line.line}\n`;
}

/** `shoal service logs`. */
export const serviceLogsCommand: CommandSpec = {
  words: ['service', 'logs'],
  argsUsage: '<service>',
  summary: "Print the logs of a service's tasks",
  description:
    'Lines come from the nodes that run the tasks, merged, each prefixed with `task@node |`.\n' +
    "A task's stderr goes to stderr. With -f the command keeps printing new lines until interrupted (Ctrl-C).\n" +
    '-o json prints each line as one JSON object per line (NDJSON), as the API sends it.',
  options: {
    follow: { type: 'boolean', short: 'f', description: 'keep printing new lines as they come' },
    tail: { type: 'string', short: 'n', value: 'N', description: 'only the last N lines of each task (default all)' },
    since: {
      type: 'string',
      value: 'WHEN',
      description: 'only lines since a duration ago (10m, 2h, 1d) or a date (2024-05-01T10:00:00Z)',
    },
    timestamps: { type: 'boolean', short: 't', description: 'show the time of each line' },
    output: outputOption(['table', 'json']),
  },
  outputs: ['table', 'json'],
  minArgs: 1,
  maxArgs: 1,
  remote: true,
  examples: [
    'shoal service logs web_api',
    'shoal service logs -f --tail 20 web_api',
    'shoal service logs --since 10m -t web_api',
    'shoal service logs -o json web_api | jq -r \'select(.stream == "stderr") | .line\'',
  ],
  async run(context) {
    const tail = context.options.tail === undefined ? undefined : parseTail(context.options.tail as string);
    const since =
      context.options.since === undefined ? undefined : parseSince(context.options.since as string, context.now());
    const client = context.client();
    const json = context.output === 'json';
    const hosts = json ? new Map<string, string>() : await hostnames(client);
    const timestamps = context.options.timestamps === true;
    await client.stream<LogLine>(
      'GET',
      servicePath(context.args[0]!, '/logs'),
      {
        query: {
          follow: context.options.follow === true,
          tail: tail === undefined ? undefined : String(tail),
          since: since === undefined ? undefined : String(since),
        },
      },
      (line) => {
        if (json) {
          context.stdout.write(JSON.stringify(line) + '\n');
          return;
        }
        const host = hosts.get(line.nodeId) ?? shortId(line.nodeId);
        const out = line.stream === 'stderr' ? context.stderr : context.stdout;
        out.write(formatLogLine(line, host, timestamps));
      },
    );
    return ExitCode.ok;
  },
};
