/** The nodes: state, availability, resources, labels; drain, pause and activate. */
import type { NodeView } from '../../../api/types.js';
import { setAvailability } from '../actions.js';
import { badge, h, replace, table } from '../dom.js';
import { ago, bytes, shortId } from '../format.js';
import { stateBadge } from './cluster.js';
import type { Page, PageContext } from './page.js';

export function nodesPage(ctx: PageContext): Page {
  const body = h('div');
  const act = async (node: NodeView, availability: 'active' | 'drain' | 'pause') => {
    if (await setAvailability(ctx.api, node, availability)) ctx.refresh();
  };
  return {
    title: 'Nodes',
    live: true,
    element: h('div', { class: 'page', 'data-page': 'nodes' }, h('h1', null, 'Nodes'), body),
    async refresh() {
      const nodes = await ctx.read<NodeView[]>('/v1/nodes');
      const now = ctx.now();
      replace(
        body,
        table<NodeView>(
          [
            { title: 'Hostname', cell: (n) => [n.hostname, n.leader ? h('span', { class: 'tag' }, 'leader') : null] },
            { title: 'ID', cell: (n) => h('code', { title: n.id }, shortId(n.id)) },
            { title: 'Status', cell: (n) => stateBadge(n.status) },
            {
              title: 'Reachable',
              cell: (n) => (n.reachable === null ? '-' : badge(n.reachable ? 'yes' : 'no', n.reachable ? 'ok' : 'bad')),
            },
            {
              title: 'Availability',
              cell: (n) => h('span', { 'data-availability': n.availability }, stateBadge(n.availability)),
            },
            { title: 'Role', cell: (n) => n.raftRole },
            { title: 'CPUs', cell: (n) => n.resources.cpus, class: 'num' },
            { title: 'Memory', cell: (n) => bytes(n.resources.memoryBytes), class: 'num' },
            { title: 'GPUs', cell: (n) => n.resources.gpus, class: 'num' },
            {
              title: 'Labels',
              cell: (n) => Object.entries(n.labels).map(([k, v]) => h('span', { class: 'label' }, `${k}=${v}`)),
            },
            { title: 'Version', cell: (n) => n.version },
            { title: 'Joined', cell: (n) => ago(n.joinedAt, now) },
            {
              title: '',
              cell: (n) =>
                h(
                  'span',
                  { class: 'actions' },
                  n.availability === 'active'
                    ? [
                        h('button', { onclick: () => void act(n, 'drain'), 'data-action': 'drain' }, 'Drain'),
                        h('button', { onclick: () => void act(n, 'pause'), 'data-action': 'pause' }, 'Pause'),
                      ]
                    : h('button', { onclick: () => void act(n, 'active'), 'data-action': 'activate' }, 'Activate'),
                ),
            },
          ],
          nodes,
          { empty: 'No nodes.', rowAttrs: (n) => ({ 'data-node': n.id }) },
        ),
      );
      return nodes.length;
    },
  };
}
