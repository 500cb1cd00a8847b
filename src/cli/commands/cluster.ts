/**
 * `shoal init`, `shoal join` and `shoal leader transfer`: creating, growing and steering the cluster.
 * @module
 */
import type { InitResult, JoinResult } from '../../api/types.js';
import { outputOption, type CommandSpec } from '../command.js';
import { ExitCode, UsageError } from '../errors.js';
import { shortId, toJson } from '../format.js';
import { resolveNodeId } from './node.js';

/** `shoal init`. */
export const initCommand: CommandSpec = {
  words: ['init'],
  summary: 'Create a new cluster with the local agent as its first member',
  description: 'Prints the join token; give it to `shoal join` on the other machines.',
  options: {
    name: { type: 'string', value: 'NAME', description: 'a name for the cluster (letters, digits, . _ -)' },
    quiet: { type: 'boolean', short: 'q', description: 'print only the join token' },
    output: outputOption(['table', 'json']),
  },
  outputs: ['table', 'json'],
  maxArgs: 0,
  remote: true,
  examples: ['shoal init', 'shoal init --name lab', 'TOKEN=$(shoal init -q)'],
  async run(context) {
    const name = context.options.name as string | undefined;
    const result = await context
      .client()
      .call<InitResult>('POST', '/v1/init', { body: name === undefined ? {} : { clusterName: name } });
    if (context.output === 'json') context.stdout.write(toJson(result));
    else if (context.options.quiet === true) context.stdout.write(`${result.token}\n`);
    else {
      context.stdout.write(
        `Cluster ${result.clusterId} created; this node (${result.nodeId}) is its leader.\n\n` +
          `To add a node, run on it:\n\n    shoal join <this-node-multiaddr> --token ${result.token}\n\n` +
          '`shoal token show` prints that command with the address filled in.\n',
      );
    }
    return ExitCode.ok;
  },
};

/** `shoal join`. */
export const joinCommand: CommandSpec = {
  words: ['join'],
  argsUsage: '<multiaddr>',
  summary: 'Make the local agent join a cluster through one of its members',
  description:
    "The multiaddr is any member's address including /p2p/<peer id>, as `shoal token show` prints it.\n" +
    'The join token comes from --token or SHOAL_JOIN_TOKEN (safer: it stays out of `ps` and shell history).',
  options: {
    token: { type: 'string', value: 'TOKEN', description: 'the join token (default: $SHOAL_JOIN_TOKEN)' },
    output: outputOption(['table', 'json']),
  },
  outputs: ['table', 'json'],
  minArgs: 1,
  maxArgs: 1,
  remote: true,
  examples: [
    'shoal join /ip4/10.0.0.5/tcp/7946/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo --token shoal-join-...',
    'SHOAL_JOIN_TOKEN=$(ssh node1 shoal token show -q) shoal join /dns4/node1/tcp/7946/p2p/12D3KooW...',
  ],
  async run(context) {
    const token = (context.options.token as string | undefined) ?? context.env.SHOAL_JOIN_TOKEN;
    if (token === undefined || token === '') {
      throw new UsageError(
        'join needs a join token: give --token TOKEN or set SHOAL_JOIN_TOKEN (`shoal token show` on a member prints it)',
      );
    }
    const address = context.args[0]!;
    if (!address.startsWith('/') || !address.includes('/p2p/')) {
      throw new UsageError(
        `"${address}" is not a member multiaddr with its peer id, e.g. /ip4/10.0.0.5/tcp/7946/p2p/12D3KooW...`,
      );
    }
    const result = await context.client().call<JoinResult>('POST', '/v1/join', { body: { address, token } });
    if (context.output === 'json') context.stdout.write(toJson(result));
    else
      context.stdout.write(
        `Joined cluster ${result.clusterId} as node ${result.nodeId} (Raft members: ${result.members}).\n`,
      );
    return ExitCode.ok;
  },
};

/** `shoal leader transfer`. */
export const leaderTransferCommand: CommandSpec = {
  words: ['leader', 'transfer'],
  argsUsage: '[<node>]',
  summary: 'Hand Raft leadership to another voter (the most up-to-date one by default)',
  description: "Use it before maintenance on the leader's machine. The node is an id, unique id prefix or hostname.",
  options: {
    output: outputOption(['table', 'json']),
    'no-trunc': { type: 'boolean', description: 'show the full node id' },
  },
  outputs: ['table', 'json'],
  maxArgs: 1,
  remote: true,
  examples: ['shoal leader transfer', 'shoal leader transfer node2'],
  async run(context) {
    const client = context.client();
    const reference = context.args[0];
    const to = reference === undefined ? undefined : await resolveNodeId(client, reference);
    const result = await client.call<{ leader: string }>('POST', '/v1/leader/transfer', {
      body: to === undefined ? {} : { to },
    });
    if (context.output === 'json') context.stdout.write(toJson(result));
    else
      context.stdout.write(
        `Leadership transferred to ${shortId(result.leader, context.options['no-trunc'] === true)}.\n`,
      );
    return ExitCode.ok;
  },
};
