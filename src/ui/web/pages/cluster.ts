/** The cluster: who leads, the Raft members and how far behind each is, and the warnings. */
import type { MemberView, StatusView } from '../../../api/types.js';
import { badge, fact, h, replace, section, table } from '../dom.js';
import { shortId, stateTone } from '../format.js';
import type { Page, PageContext } from './page.js';

export function clusterPage(ctx: PageContext): Page {
  const body = h('div');
  return {
    title: 'Cluster',
    live: true,
    element: h('div', { class: 'page', 'data-page': 'cluster' }, h('h1', null, 'Cluster'), body),
    async refresh() {
      const status = await ctx.read<StatusView>('/v1/status');
      if (!status.initialized) {
        replace(
          body,
          h('p', { class: 'empty' }, 'This agent is not part of a cluster yet: run shoal init or shoal join.'),
        );
        return 0;
      }
      const byId = new Map(status.members.map((m) => [m.id, m]));
      const leader = status.leader === null ? 'none' : (byId.get(status.leader)?.hostname ?? shortId(status.leader));
      const self = byId.get(status.nodeId)?.hostname ?? shortId(status.nodeId);
      replace(
        body,
        h(
          'dl',
          { class: 'facts' },
          fact('Cluster', shortId(status.clusterId, 16)),
          fact('Leader', leader, 'leader'),
          fact('Term', status.term),
          fact('Commit / applied', `${status.commit} / ${status.applied}`),
          fact('This agent', `${self} (${status.role})`),
          fact(
            'Voters',
            `${status.members.filter((m) => m.raftRole === 'voter').length} of ${status.targetVoters} wanted`,
          ),
        ),
        status.warnings.length === 0
          ? null
          : section(
              'Warnings',
              h(
                'ul',
                { class: 'warnings' },
                status.warnings.map((w) => h('li', null, w)),
              ),
            ),
        section(
          `Members (${status.members.length})`,
          table<MemberView>(
            [
              { title: 'Hostname', cell: (m) => [m.hostname, m.leader ? h('span', { class: 'tag' }, 'leader') : null] },
              { title: 'ID', cell: (m) => h('code', { title: m.id }, shortId(m.id, 16)) },
              { title: 'Raft role', cell: (m) => m.raftRole },
              { title: 'Match', cell: (m) => m.match ?? '-', class: 'num' },
              { title: 'Lag', cell: (m) => (m.lag === null ? '-' : m.lag), class: 'num' },
              {
                title: 'Reachable',
                cell: (m) =>
                  m.reachable === null ? '-' : badge(m.reachable ? 'yes' : 'no', m.reachable ? 'ok' : 'bad'),
              },
              {
                title: 'Addresses',
                // the peer id ending each address is in the ID column already
                cell: (m) =>
                  h('span', { class: 'muted' }, m.addresses.map((a) => a.replace(/\/p2p\/[^/]+$/, '')).join(' ')),
              },
            ],
            status.members,
            { empty: 'No members.', rowAttrs: (m) => ({ 'data-member': m.id }) },
          ),
        ),
      );
      return status.members.length;
    },
  };
}

/** Used by the nodes page too: a node's state word with its colour. */
export function stateBadge(state: string): HTMLElement {
  return badge(state, stateTone(state));
}
