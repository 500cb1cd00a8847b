/**
 * One service: its replicas and tasks (a thousand stay usable: one read, the table built in one
 * pass, and the filter and "include finished" narrow it without asking the agent again), scale
 * and roll back, each task's logs.
 */
import type { ServiceInspectView, ServiceUpdateView, TaskView } from '../../../api/types.js';
import { rollbackService, scaleService } from '../actions.js';
import { fact, h, replace, section, table } from '../dom.js';
import { ago, shortId } from '../format.js';
import { href } from '../routes.js';
import { stateBadge } from './cluster.js';
import type { Page, PageContext } from './page.js';
import { replicas } from './stacks.js';

export function servicePage(ctx: PageContext, id: string): Page {
  const summary = h('div');
  const stackLink = h('span');
  const tasksArea = h('div');
  let service: ServiceInspectView | undefined;
  /** Every task the agent keeps, finished ones too (inspect answers with them all). */
  let tasks: readonly TaskView[] = [];

  const filter = h('input', {
    type: 'search',
    placeholder: 'Filter tasks: name, state, node, error',
    'aria-label': 'Filter tasks',
  });
  const showAll = h('input', { type: 'checkbox', 'aria-label': 'Include finished tasks' });
  const drawTasks = (): number => {
    const words = filter.value
      .toLowerCase()
      .split(/\s+/)
      .filter((w) => w !== '');
    const current = showAll.checked ? tasks : tasks.filter(isCurrent);
    const shown = words.length === 0 ? current : current.filter((t) => words.every((w) => taskText(t).includes(w)));
    const now = ctx.now();
    replace(
      tasksArea,
      h('p', { class: 'muted', 'data-task-count': shown.length }, `${shown.length} of ${current.length} tasks`),
      table<TaskView>(
        [
          { title: 'Task', cell: (t) => t.name },
          { title: 'ID', cell: (t) => h('code', { title: t.id }, shortId(t.id)) },
          { title: 'State', cell: (t) => stateBadge(t.state) },
          { title: 'Desired', cell: (t) => t.desiredState },
          { title: 'Node', cell: (t) => t.nodeHostname ?? '-' },
          { title: 'Since', cell: (t) => ago(t.stateSince, now) },
          { title: 'Restarts', cell: (t) => t.restarts, class: 'num' },
          { title: 'Exit', cell: (t) => t.exitCode ?? '-', class: 'num' },
          { title: 'Error', cell: (t) => h('span', { class: 'error-text' }, t.message) },
          {
            title: '',
            cell: (t) => h('a', { href: href({ page: 'service-logs', service: id, task: t.id }) }, 'logs'),
          },
        ],
        shown,
        { empty: 'No tasks.', rowAttrs: (t) => ({ 'data-task': t.id, 'data-state': t.state }) },
      ),
    );
    return shown.length;
  };
  filter.addEventListener('input', () => drawTasks());

  const refresh = async (): Promise<number> => {
    const inspected = await ctx.read<ServiceInspectView>(`/v1/services/${encodeURIComponent(id)}`);
    service = inspected;
    tasks = inspected.tasks;
    replace(stackLink, h('a', { href: href({ page: 'stack', name: inspected.stack }) }, inspected.stack), ' / ');
    scale.disabled = inspected.kind !== 'replicated';
    scale.title = scale.disabled ? `a ${inspected.kind} service has no replica count` : '';
    const update = inspected.update;
    replace(
      summary,
      h(
        'dl',
        { class: 'facts' },
        fact('Replicas', replicas(inspected.running, inspected.desired), 'replicas'),
        fact('Mode', inspected.kind),
        fact('Image', h('code', null, inspected.image)),
        fact('Ports', inspected.ports.join(', ') || '-'),
        fact('Version', inspected.version),
        fact('Updated', ago(inspected.updatedAt, ctx.now())),
        update ? fact('Rollout', rolloutText(update), 'rollout') : null,
      ),
      h(
        'ul',
        { class: 'warnings' },
        [...(inspected.warnings ?? []), ...(update?.reason ? [update.reason] : [])].map((w) => h('li', null, w)),
      ),
    );
    return drawTasks() + 1;
  };
  showAll.addEventListener('change', () => drawTasks());

  const scale = h(
    'button',
    {
      'data-action': 'scale',
      onclick: async () => {
        if (service?.kind !== 'replicated') return;
        if (await scaleService(ctx.api, service)) ctx.refresh();
      },
    },
    'Scale…',
  );
  const actions = h(
    'div',
    { class: 'actions' },
    scale,
    h(
      'button',
      {
        'data-action': 'rollback',
        onclick: async () => {
          if (service && (await rollbackService(ctx.api, service))) ctx.refresh();
        },
      },
      'Roll back…',
    ),
    h('a', { class: 'button', href: href({ page: 'service-logs', service: id }) }, 'All logs'),
  );

  return {
    title: `Service ${id}`,
    live: true,
    element: h(
      'div',
      { class: 'page', 'data-page': 'service' },
      h('h1', null, h('a', { href: href({ page: 'stacks' }) }, 'Stacks'), ' / ', stackLink, id),
      actions,
      summary,
      section(
        'Tasks',
        h('div', { class: 'toolbar' }, filter, h('label', null, showAll, ' include finished')),
        tasksArea,
      ),
    ),
    refresh,
  };
}

/** `rolling back: 2/3 updated, 1 failed`. */
function rolloutText(update: ServiceUpdateView): string {
  const failed = update.failed > 0 ? `, ${update.failed} failed` : '';
  return `${update.state.replace(/_/g, ' ')}: ${update.updated}/${update.total} updated${failed}`;
}

/** Finished states, as the agent orders them (src/state/workloads.ts): complete and after. */
const FINISHED = new Set(['complete', 'shutdown', 'failed', 'rejected', 'orphaned']);

/** What `GET /v1/services/:id/tasks` lists without `all`: wanted running, or not finished yet. */
function isCurrent(task: TaskView): boolean {
  return task.desiredState === 'running' || !FINISHED.has(task.state);
}

function taskText(task: TaskView): string {
  return `${task.name} ${task.id} ${task.state} ${task.nodeHostname ?? ''} ${task.message}`.toLowerCase();
}
