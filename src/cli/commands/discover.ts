/** `shoal discover`: shoal agents that mDNS found on the LAN (agents started with --mdns). */
import type { DiscoveredView } from '../../api/types.js';
import { outputOption, type CommandSpec } from '../command.js';
import { ExitCode } from '../errors.js';
import { ago, renderTable, shortId, toJson } from '../format.js';

export const discoverCommand: CommandSpec = {
  words: ['discover'],
  summary: 'List shoal agents found on the LAN with mDNS (agents started with --mdns)',
  description:
    'Useful to find a join address: members of this cluster are marked, the others can join it with `shoal join ADDRESS --token T`.',
  options: {
    output: outputOption(['table', 'json']),
    'no-trunc': { type: 'boolean', description: 'show full peer ids' },
  },
  outputs: ['table', 'json'],
  maxArgs: 0,
  remote: true,
  examples: ['shoal discover', 'shoal discover -o json'],
  async run(context) {
    const peers = await context.client().call<DiscoveredView[]>('GET', '/v1/discovered');
    if (context.output === 'json') {
      context.stdout.write(toJson(peers));
      return ExitCode.ok;
    }
    const noTrunc = context.options['no-trunc'] === true;
    const now = context.now();
    context.stdout.write(
      renderTable(
        ['PEER ID', 'MEMBER', 'LAST SEEN', 'ADDRESS'],
        peers.map((peer) => [
          shortId(peer.peerId, noTrunc),
          peer.member ? 'yes' : 'no',
          ago(peer.lastSeen, now),
          peer.addresses[0] ?? '-',
        ]),
      ),
    );
    return ExitCode.ok;
  },
};
