/**
 * `shoal events`: what happened in the cluster (nodes, leader, stacks, services, tasks, jobs),
 * from any agent, one line per event; `-f` keeps printing new ones as they happen.
 * @module
 */
import type { ClusterEvent, EventLine, StreamNotice } from '../../events/types.js';
import { outputOption, type CommandSpec } from '../command.js';
import { ExitCode, UsageError } from '../errors.js';
import { parseSince } from './service-logs.js';

/** What `--filter` takes, and the query parameter each becomes. */
const FILTER_KEYS = ['type', 'name'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];

/**
 * `--filter type=service,name=web` (repeatable): values of one key are alternatives, keys combine.
 * @example parseFilters(['type=service,type=task', 'name=web']) // { type: ['service', 'task'], name: ['web'] }
 */
export function parseFilters(texts: readonly string[]): Record<FilterKey, string[]> {
  const out: Record<FilterKey, string[]> = { type: [], name: [] };
  for (const text of texts) {
    for (const pair of text.split(',')) {
      if (pair === '') continue;
      const at = pair.indexOf('=');
      const key = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const known = FILTER_KEYS.find((k) => k === key);
      if (at < 1 || value === '' || known === undefined)
        throw new UsageError(
          `--filter ${JSON.stringify(pair)}: expected KEY=VALUE with KEY one of ${FILTER_KEYS.join(', ')}, e.g. type=service,name=web`,
        );
      out[known].push(value);
    }
  }
  return out;
}

/** `--index`: a Raft log index to resume from. */
function parseIndex(text: string): number {
  if (!/^\d{1,15}$/.test(text))
    throw new UsageError(`--index ${JSON.stringify(text)}: expected a log index (an integer >= 0)`);
  return Number(text);
}

/**
 * One event as the table output prints it: time, index, type and action, name, message.
 * @example formatEvent(event) // "2024-05-01T10:00:00.000Z  812   service  scaled     web_api    service web_api scaled from 2 to 5 replicas\n"
 */
export function formatEvent(event: ClusterEvent): string {
  const time = new Date(event.time).toISOString();
  const index = String(event.index).padEnd(5);
  return `${time}  ${index} ${event.type.padEnd(7)}  ${event.action.padEnd(9)}  ${event.name.padEnd(10)}  ${event.message}\n`;
}

/** A repeatable option's values (parseArgs gives an array for `multiple`). */
function repeated(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

const isNotice = (line: EventLine): line is StreamNotice => line.type === 'stream';

/** `shoal events`. */
export const eventsCommand: CommandSpec = {
  words: ['events'],
  summary: 'Show what happened in the cluster, or follow it as it happens',
  description:
    'Events are what a person would want to know: a node went down or came back, the leader changed, a stack was\n' +
    'deployed or removed, a service scaled, a task started, failed (and why), was preempted, a job ended.\n' +
    'Every agent keeps the last 10,000 events (4 MiB), numbered by the Raft log index they come from, so any agent\n' +
    'answers the same and --index resumes where a previous run stopped. Leader changes are what the answering agent saw.\n' +
    'With -f the command keeps printing new events until interrupted (Ctrl-C).\n' +
    '-o json prints each event as one JSON object per line (NDJSON), as the API sends it (GET /v1/events).',
  options: {
    follow: { type: 'boolean', short: 'f', description: 'keep printing new events as they happen' },
    since: {
      type: 'string',
      value: 'WHEN',
      description: 'only events since a duration ago (10m, 2h, 1d) or a date (2024-05-01T10:00:00Z)',
    },
    index: { type: 'string', value: 'N', description: 'only events at Raft log index N and after (resume)' },
    filter: {
      type: 'string',
      multiple: true,
      value: 'KEY=VALUE',
      description: 'type=node|leader|stack|service|task|job|cluster, name=<node, stack, service, task or job>',
    },
    output: outputOption(['table', 'json']),
  },
  outputs: ['table', 'json'],
  maxArgs: 0,
  remote: true,
  examples: [
    'shoal events',
    'shoal events -f',
    'shoal events --since 10m --filter type=service,name=web',
    'shoal events --filter type=task --filter name=web_api',
    'shoal events -f -o json | jq -r \'select(.action == "failed") | .message\'',
  ],
  async run(context) {
    const since =
      context.options.since === undefined ? undefined : parseSince(context.options.since as string, context.now());
    const index = context.options.index === undefined ? undefined : parseIndex(context.options.index as string);
    const filters = parseFilters(repeated(context.options.filter));
    const json = context.output === 'json';
    let lagged = false;
    await context.client().stream<EventLine>(
      'GET',
      '/v1/events',
      {
        query: {
          follow: context.options.follow === true,
          since: since === undefined ? undefined : String(since),
          index: index === undefined ? undefined : String(index),
          type: filters.type.length > 0 ? filters.type.join(',') : undefined,
          name: filters.name.length > 0 ? filters.name.join(',') : undefined,
        },
      },
      (line) => {
        if (isNotice(line)) {
          // about the stream, not the cluster: on stderr, so stdout stays a clean list of events
          context.stderr.write(`shoal events: ${line.message}\n`);
          lagged ||= line.action === 'lagged';
          return;
        }
        context.stdout.write(json ? JSON.stringify(line) + '\n' : formatEvent(line));
      },
    );
    return lagged ? ExitCode.failed : ExitCode.ok;
  },
};
