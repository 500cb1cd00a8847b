/**
 * `shoal node ls` and `shoal node rm`.
 * @module
 */
import type { NodeView } from '../../api/types.js';
import { STALE_OPTION, outputOption, type CommandContext, type CommandSpec } from '../command.js';
import type { ApiClient } from '../client.js';
import { ApiRequestError, ExitCode } from '../errors.js';
import { capitalize, formatBytes, renderTable, shortId, toJson } from '../format.js';

const NO_TRUNC = { type: 'boolean', description: 'show full node ids' } as const;

/** The human table of nodes, docker-style; `wide` adds resources, version and labels. */
export function renderNodes(nodes: readonly NodeView[], options: { noTrunc: boolean; wide: boolean }): string {
  const headers = ['ID', 'HOSTNAME', 'STATUS', 'REACHABLE', 'AVAILABILITY', 'RAFT', 'LEADER', 'ADDRESS'];
  if (options.wide) headers.push('CPUS', 'MEMORY', 'GPUS', 'VERSION', 'LABELS', 'MESSAGE');
  const rows = [...nodes]
    .sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id))
    .map((node) => {
      const row = [
        shortId(node.id, options.noTrunc),
        node.hostname,
        capitalize(node.status),
        node.reachable === null ? '?' : node.reachable ? 'yes' : 'no',
        capitalize(node.availability),
        capitalize(node.raftRole),
        node.leader ? 'yes' : '',
        (options.wide ? node.addresses.join(',') : node.addresses[0]) || '-',
      ];
      if (options.wide) {
        const labels = Object.entries(node.labels).map(([key, value]) => `${key}=${value}`);
        row.push(
          String(node.resources.cpus),
          formatBytes(node.resources.memoryBytes),
          String(node.resources.gpus),
          node.version,
          labels.join(',') || '-',
          node.message ?? '-',
        );
      }
      return row;
    });
  return renderTable(headers, rows);
}

/** `shoal node ls`. */
export const nodeLsCommand: CommandSpec = {
  words: ['node', 'ls'],
  aliases: ['list'],
  summary: 'List the nodes of the cluster',
  description:
    'STATUS is Down once the leader heard nothing from a node for the node grace (5 s by default): its ' +
    'replicas are then placed elsewhere. REACHABLE is whether the leader hears its Raft traffic right now ' +
    '(no within about a second of a cut): a node can be unreachable and still Ready during a short blip.',
  options: {
    output: outputOption(['table', 'wide', 'json']),
    quiet: { type: 'boolean', short: 'q', description: 'print only node ids (full), one per line' },
    stale: STALE_OPTION,
    'no-trunc': NO_TRUNC,
  },
  outputs: ['table', 'wide', 'json'],
  maxArgs: 0,
  remote: true,
  examples: [
    'shoal node ls',
    'shoal node ls -o wide',
    'shoal node ls -o json | jq -r \'.[] | select(.status == "down") | .id\'',
    'for id in $(shoal node ls -q); do echo "$id"; done',
  ],
  async run(context) {
    const nodes = await context
      .client()
      .call<NodeView[]>('GET', '/v1/nodes', { query: { stale: context.options.stale === true } });
    if (context.output === 'json') context.stdout.write(toJson(nodes));
    else if (context.options.quiet === true) context.stdout.write(nodes.map((node) => `${node.id}\n`).join(''));
    else
      context.stdout.write(
        renderNodes(nodes, { noTrunc: context.options['no-trunc'] === true, wide: context.output === 'wide' }),
      );
    return ExitCode.ok;
  },
};

/**
 * The node id `reference` stands for: an exact id, a unique id prefix (what the tables show) or
 * a unique hostname. Unknown references are returned as they are, for the agent to judge.
 */
export async function resolveNodeId(client: ApiClient, reference: string): Promise<string> {
  let nodes: NodeView[];
  try {
    nodes = await client.call<NodeView[]>('GET', '/v1/nodes', { query: { stale: true } });
  } catch (error) {
    if (error instanceof ApiRequestError) return reference; // let the real request report the problem
    throw error;
  }
  if (nodes.some((node) => node.id === reference)) return reference;
  const matches = nodes.filter((node) => node.id.startsWith(reference) || node.hostname === reference);
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length > 1) {
    const names = matches.map((node) => `${node.id} (${node.hostname})`).join(', ');
    throw new ApiRequestError(
      400,
      'bad_request',
      `"${reference}" matches ${matches.length} nodes: ${names}; give more of the id`,
    );
  }
  return reference;
}

async function removeOne(context: CommandContext, reference: string): Promise<{ removed: string }> {
  const client = context.client();
  const id = await resolveNodeId(client, reference);
  return client.call<{ removed: string }>('DELETE', `/v1/nodes/${encodeURIComponent(id)}`, {
    query: { force: context.options.force === true },
  });
}

/** `shoal node rm`. */
export const nodeRmCommand: CommandSpec = {
  words: ['node', 'rm'],
  aliases: ['remove'],
  argsUsage: '<node>...',
  summary: 'Remove nodes from the cluster and revoke them',
  description:
    'A node is named by its id, a unique prefix of it (as `shoal node ls` shows) or its hostname.\n' +
    'A removed node is revoked: its connections are refused from then on; it must join again with a token.\n' +
    'The agent may refuse a node that is still up, or a voter whose removal would cost the quorum; --force overrides that.',
  options: {
    force: { type: 'boolean', short: 'f', description: 'remove even a node that is up, or a voter the quorum needs' },
    output: outputOption(['table', 'json']),
  },
  outputs: ['table', 'json'],
  minArgs: 1,
  remote: true,
  examples: [
    'shoal node rm 12D3KooWQYhTNQdm',
    'shoal node rm gpu-07 --force',
    'shoal node rm $(shoal node ls -q | head -1)',
  ],
  async run(context) {
    const results: { removed: string }[] = [];
    for (const reference of context.args) {
      const result = await removeOne(context, reference);
      results.push(result);
      if (context.output !== 'json') context.stdout.write(`${result.removed}\n`);
    }
    if (context.output === 'json') context.stdout.write(toJson(results));
    return ExitCode.ok;
  },
};
