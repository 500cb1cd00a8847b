/**
 * `shoal status`: the Raft view of the cluster from the agent asked.
 * @module
 */
import type { MemberView, StatusView } from '../../api/types.js';
import { STALE_OPTION, outputOption, type CommandSpec } from '../command.js';
import { ExitCode } from '../errors.js';
import { capitalize, orDash, renderFields, renderTable, shortId, toJson } from '../format.js';

function reachable(member: MemberView): string {
  return member.reachable === null ? '-' : member.reachable ? 'yes' : 'NO';
}

/** The human rendering of a {@link StatusView}. */
export function renderStatus(status: StatusView, options: { noTrunc: boolean; wide: boolean }): string {
  const id = (value: string | null) => (value === null ? '-' : shortId(value, options.noTrunc));
  if (!status.initialized) {
    return (
      renderFields([
        ['Node', id(status.nodeId)],
        ['Cluster', 'none'],
      ]) + '\nThis agent is not part of a cluster yet: run `shoal init` to create one, or `shoal join` to join one.\n'
    );
  }
  const voters = status.members.filter((member) => member.raftRole === 'voter').length;
  let text = renderFields([
    ['Cluster', orDash(status.clusterId)],
    ['Node', `${id(status.nodeId)} (${status.role})`],
    ['Leader', status.leader === null ? 'none (no quorum?)' : id(status.leader)],
    ['Term', String(status.term)],
    ['Commit index', `${status.commit} (applied ${status.applied})`],
    ['Voters', `${voters} (target ${status.targetVoters})`],
  ]);
  const headers = ['MEMBER', 'HOSTNAME', 'RAFT', 'LEADER', 'REACHABLE', 'MATCH', 'LAG', 'ADDRESS'];
  const rows = [...status.members]
    .sort(
      (a, b) => Number(b.leader) - Number(a.leader) || a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id),
    )
    .map((member) => [
      id(member.id) + (member.id === status.nodeId ? ' *' : ''),
      member.hostname,
      capitalize(member.raftRole),
      member.leader ? 'yes' : '',
      reachable(member),
      orDash(member.match),
      orDash(member.lag),
      (options.wide ? member.addresses.join(',') : member.addresses[0]) ?? '-',
    ]);
  text += '\n' + renderTable(headers, rows);
  if (status.warnings.length > 0) text += '\n' + status.warnings.map((warning) => `WARNING: ${warning}\n`).join('');
  return text;
}

/** `shoal status`. */
export const statusCommand: CommandSpec = {
  words: ['status'],
  summary: 'Show the leader, term, commit index and each member with its replication lag',
  description:
    'Asks the agent for its view of the cluster. By default the answer is confirmed with a quorum (a linearizable read);\n' +
    '--stale answers from the local state at once, which still works when the cluster has lost its quorum.\n' +
    'The member marked * is the agent that answered. MATCH and LAG are known only on the leader.',
  options: {
    output: outputOption(['table', 'wide', 'json']),
    stale: STALE_OPTION,
    'no-trunc': { type: 'boolean', description: 'show full node ids' },
  },
  outputs: ['table', 'wide', 'json'],
  maxArgs: 0,
  remote: true,
  examples: [
    'shoal status',
    'shoal status --stale            # works without a quorum',
    'shoal status -o json | jq .leader',
  ],
  async run(context) {
    const status = await context
      .client()
      .call<StatusView>('GET', '/v1/status', { query: { stale: context.options.stale === true } });
    if (context.output === 'json') context.stdout.write(toJson(status));
    else
      context.stdout.write(
        renderStatus(status, { noTrunc: context.options['no-trunc'] === true, wide: context.output === 'wide' }),
      );
    return ExitCode.ok;
  },
};
