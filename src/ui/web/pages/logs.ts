/** A task's (or a service's, or a job's) log, followed live: the last lines, then each new one. */
import type { LogLine } from '../../../api/types.js';
import type { Api } from '../api.js';
import { h } from '../dom.js';
import { clock, shortId } from '../format.js';
import { href } from '../routes.js';
import type { Page, PageContext } from './page.js';

const TAIL = 200;
/** Lines kept on the page; older ones are dropped from the top. */
const KEEP = 5_000;

export type LogSource =
  | { readonly kind: 'service'; readonly service: string; readonly task?: string }
  | { readonly kind: 'job'; readonly job: string };

export function logsPage(ctx: PageContext, source: LogSource): Page {
  const status = h('p', { class: 'muted' }, 'Connecting…');
  const output = h('pre', { class: 'log', 'data-log': '' });
  const abort = new AbortController();
  let started = false;
  const title =
    source.kind === 'job'
      ? `Job ${source.job}`
      : source.task === undefined
        ? `Service ${source.service}`
        : `Task ${shortId(source.task)} of ${source.service}`;
  const back = source.kind === 'job' ? href({ page: 'jobs' }) : href({ page: 'service', id: source.service });

  const follow = async (api: Api) => {
    const path =
      source.kind === 'job'
        ? `/v1/jobs/${encodeURIComponent(source.job)}/logs`
        : `/v1/services/${encodeURIComponent(source.service)}/logs`;
    let lines = 0;
    try {
      await api.stream(
        path,
        { tail: TAIL, follow: true },
        {
          onOpen: () => (status.textContent = 'Following; the newest line is at the bottom.'),
          onLine: (value) => {
            const line = value as LogLine;
            if (source.kind === 'service' && source.task !== undefined && line.taskId !== source.task) return;
            const now = ctx.now();
            const row = h(
              'span',
              { class: line.stream === 'stderr' ? 'stderr' : '' },
              `${clock(line.time, now)} ${line.taskName} | ${line.line}\n`,
            );
            output.appendChild(row);
            if (++lines > KEEP) output.firstChild?.remove();
            if (output.scrollHeight - output.scrollTop - output.clientHeight < 80)
              output.scrollTop = output.scrollHeight;
          },
        },
        abort.signal,
      );
      status.textContent = 'The log ended.';
    } catch (error) {
      if (!abort.signal.aborted) status.textContent = `The log stopped: ${(error as Error).message}`;
    }
  };

  return {
    title,
    live: false,
    element: h(
      'div',
      { class: 'page', 'data-page': 'logs' },
      h('h1', null, h('a', { href: back }, '←'), ' ', title, ' logs'),
      status,
      output,
    ),
    async refresh() {
      if (!started) {
        started = true;
        void follow(ctx.api);
      }
      return 0;
    },
    dispose: () => abort.abort(),
  };
}
