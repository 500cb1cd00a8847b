/** The batch queue with the reason each pending job waits, the history, and cancelling. */
import type { HistoryRow, QueueRow } from '../../../api/job-types.js';
import { cancelJob } from '../actions.js';
import { h, replace, section, table } from '../dom.js';
import { ago } from '../format.js';
import { href } from '../routes.js';
import { stateBadge } from './cluster.js';
import type { Page, PageContext } from './page.js';

const HISTORY_ROWS = 200;

export function jobsPage(ctx: PageContext): Page {
  const body = h('div');
  const cancel = async (job: QueueRow) => {
    if (await cancelJob(ctx.api, job)) ctx.refresh();
  };
  return {
    title: 'Jobs',
    live: true,
    element: h('div', { class: 'page', 'data-page': 'jobs' }, h('h1', null, 'Jobs'), body),
    async refresh() {
      const [queue, history] = await Promise.all([
        ctx.read<QueueRow[]>('/v1/queue'),
        ctx.read<HistoryRow[]>('/v1/jobs/history', { limit: HISTORY_ROWS }),
      ]);
      const now = ctx.now();
      replace(
        body,
        section(
          `Queue (${queue.length})`,
          table<QueueRow>(
            [
              { title: 'Job', cell: (j) => j.display },
              { title: 'Name', cell: (j) => j.name },
              { title: 'Owner', cell: (j) => `${j.owner} (${j.namespace})` },
              { title: 'State', cell: (j) => stateBadge(j.state) },
              { title: 'Priority', cell: (j) => j.priority, class: 'num' },
              { title: 'Position', cell: (j) => j.position ?? '-', class: 'num' },
              {
                title: 'Units run/pend/done/fail',
                cell: (j) =>
                  `${j.units.running}/${j.units.pending}/${j.units.done}/${j.units.failed} of ${j.units.total}`,
              },
              { title: 'Nodes', cell: (j) => j.nodes.join(', ') || '-' },
              { title: 'Submitted', cell: (j) => ago(j.submittedAt, now) },
              { title: 'Reason', cell: (j) => h('span', { class: 'reason' }, j.reason) },
              {
                title: '',
                cell: (j) =>
                  h(
                    'span',
                    { class: 'actions' },
                    h('a', { href: href({ page: 'job-logs', job: j.jobId }) }, 'logs'),
                    ' ',
                    h('button', { 'data-action': 'cancel', onclick: () => void cancel(j) }, 'Cancel…'),
                  ),
              },
            ],
            queue,
            { empty: 'The queue is empty.', rowAttrs: (j) => ({ 'data-job': j.jobId }) },
          ),
        ),
        section(
          `History (last ${HISTORY_ROWS})`,
          table<HistoryRow>(
            [
              { title: 'ID', cell: (r) => r.id },
              { title: 'Name', cell: (r) => r.name },
              { title: 'Owner', cell: (r) => r.owner },
              { title: 'State', cell: (r) => stateBadge(r.state) },
              { title: 'Node', cell: (r) => r.node ?? '-' },
              { title: 'Exit', cell: (r) => r.exitCode ?? '-', class: 'num' },
              { title: 'Started', cell: (r) => ago(r.startedAt, now) },
              { title: 'Ended', cell: (r) => ago(r.endedAt, now) },
              { title: 'Reason', cell: (r) => h('span', { class: 'reason' }, r.reason) },
            ],
            history,
            { empty: 'No job has run yet.', rowAttrs: (r) => ({ 'data-run': r.id }) },
          ),
        ),
      );
      return queue.length + history.length;
    },
  };
}
