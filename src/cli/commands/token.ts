/**
 * `shoal token show` and `shoal token rotate`: the join token.
 * @module
 */
import type { StatusView, TokenResult } from '../../api/types.js';
import { STALE_OPTION, outputOption, type CommandContext, type CommandSpec } from '../command.js';
import { ExitCode } from '../errors.js';
import { toJson } from '../format.js';

const QUIET = { type: 'boolean', short: 'q', description: 'print only the token' } as const;

/**
 * A multiaddr to join through: the answering agent's first address with its peer id, best effort
 * (a stale read, so it works without a quorum). Falls back to a placeholder.
 */
async function joinAddress(context: CommandContext): Promise<string> {
  try {
    const status = await context.client().call<StatusView>('GET', '/v1/status', { query: { stale: true } });
    const self = status.members.find((member) => member.id === status.nodeId);
    const address = self?.addresses[0];
    if (address === undefined) return '<member-multiaddr>';
    return address.includes('/p2p/') ? address : `${address}/p2p/${status.nodeId}`;
  } catch {
    return '<member-multiaddr>';
  }
}

async function printToken(context: CommandContext, result: TokenResult, headline: string): Promise<void> {
  if (context.output === 'json') {
    context.stdout.write(toJson(result));
    return;
  }
  if (context.options.quiet === true) {
    context.stdout.write(`${result.token}\n`);
    return;
  }
  const address = await joinAddress(context);
  context.stdout.write(
    `${headline}\n\n    shoal join ${address} --token ${result.token}\n\nToken fingerprint: ${result.fingerprint}\n`,
  );
}

/** `shoal token show`. */
export const tokenShowCommand: CommandSpec = {
  words: ['token', 'show'],
  summary: 'Print the current join token and the command that joins a node with it',
  description:
    'Anyone holding the join token can add a machine to the cluster: keep it secret, rotate it when it leaks.',
  options: { output: outputOption(['table', 'json']), quiet: QUIET, stale: STALE_OPTION },
  outputs: ['table', 'json'],
  maxArgs: 0,
  remote: true,
  examples: [
    'shoal token show',
    'ssh node7 shoal join /ip4/10.0.0.5/tcp/7946/p2p/12D3KooW... --token "$(shoal token show -q)"',
  ],
  async run(context) {
    const result = await context
      .client()
      .call<TokenResult>('GET', '/v1/token', { query: { stale: context.options.stale === true } });
    await printToken(context, result, 'To add a node to this cluster, run on it:');
    return ExitCode.ok;
  },
};

/** `shoal token rotate`. */
export const tokenRotateCommand: CommandSpec = {
  words: ['token', 'rotate'],
  summary: 'Replace the join token (the old one stops admitting new nodes; members are not affected)',
  options: { output: outputOption(['table', 'json']), quiet: QUIET },
  outputs: ['table', 'json'],
  maxArgs: 0,
  remote: true,
  examples: ['shoal token rotate', 'shoal token rotate -q > /root/shoal-join-token'],
  async run(context) {
    const result = await context.client().call<TokenResult>('POST', '/v1/token/rotate');
    await printToken(
      context,
      result,
      'Join token rotated; the old one no longer admits nodes. To add a node, run on it:',
    );
    return ExitCode.ok;
  },
};
