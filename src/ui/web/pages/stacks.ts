/** Stacks, and one stack's services with their tasks' states and latest errors. */
import type { ServiceView, StackView, TaskView } from '../../../api/types.js';
import { badge, h, replace, section, table, type Column } from '../dom.js';
import { ago, stateTone } from '../format.js';
import { href } from '../routes.js';
import { stateBadge } from './cluster.js';
import type { Page, PageContext } from './page.js';

export function stacksPage(ctx: PageContext): Page {
  const body = h('div');
  return {
    title: 'Stacks',
    live: true,
    element: h('div', { class: 'page', 'data-page': 'stacks' }, h('h1', null, 'Stacks'), body),
    async refresh() {
      const [stacks, services] = await Promise.all([
        ctx.read<StackView[]>('/v1/stacks'),
        ctx.read<ServiceView[]>('/v1/services'),
      ]);
      const now = ctx.now();
      replace(
        body,
        table<StackView>(
          [
            { title: 'Name', cell: (s) => h('a', { href: href({ page: 'stack', name: s.name }) }, s.name) },
            { title: 'Services', cell: (s) => s.services, class: 'num' },
            { title: 'Tasks', cell: (s) => replicas(s.tasksRunning, s.tasksDesired), class: 'num' },
            { title: 'Created', cell: (s) => ago(s.createdAt, now) },
            { title: 'Updated', cell: (s) => ago(s.updatedAt, now) },
          ],
          stacks,
          { empty: 'No stacks: deploy one with shoal stack deploy.', rowAttrs: (s) => ({ 'data-stack': s.name }) },
        ),
        section(`Services (${services.length})`, servicesTable(services, now)),
      );
      return stacks.length + services.length;
    },
  };
}

export function stackPage(ctx: PageContext, name: string): Page {
  const body = h('div');
  return {
    title: `Stack ${name}`,
    live: true,
    element: h(
      'div',
      { class: 'page', 'data-page': 'stack' },
      h('h1', null, h('a', { href: href({ page: 'stacks' }) }, 'Stacks'), ' / ', name),
      body,
    ),
    async refresh() {
      const [services, tasks] = await Promise.all([
        ctx.read<ServiceView[]>('/v1/services', { stack: name }),
        ctx.read<TaskView[]>(`/v1/stacks/${encodeURIComponent(name)}/tasks`, { all: true }),
      ]);
      const now = ctx.now();
      const errors = tasks
        .filter((t) => t.message !== '' && stateTone(t.state) === 'bad')
        .sort((a, b) => b.stateSince - a.stateSince)
        .slice(0, 20);
      replace(
        body,
        section(`Services (${services.length})`, servicesTable(services, now, tasks)),
        errors.length === 0
          ? null
          : section(
              'Recent task errors',
              table<TaskView>(
                [
                  { title: 'Task', cell: (t) => t.name },
                  { title: 'State', cell: (t) => stateBadge(t.state) },
                  { title: 'Since', cell: (t) => ago(t.stateSince, now) },
                  { title: 'Error', cell: (t) => h('span', { class: 'error-text' }, t.message) },
                ],
                errors,
                { empty: '' },
              ),
            ),
      );
      return services.length + errors.length;
    },
  };
}

/** `3/3`, marked when fewer run than wanted. */
export function replicas(running: number, desired: number): HTMLElement {
  return h('span', { class: running < desired ? 'short' : '' }, `${running}/${desired}`);
}

/** The services table; with `tasks`, a column counting them by state. */
function servicesTable(services: readonly ServiceView[], now: number, tasks?: readonly TaskView[]): HTMLElement {
  const states = new Map<string, Map<string, number>>();
  for (const task of tasks ?? []) {
    if (task.desiredState !== 'running' && stateTone(task.state) !== 'bad') continue;
    const counts = states.get(task.serviceId) ?? new Map<string, number>();
    counts.set(task.state, (counts.get(task.state) ?? 0) + 1);
    states.set(task.serviceId, counts);
  }
  const byState: Column<ServiceView> = {
    title: 'Tasks by state',
    cell: (s) => [...(states.get(s.id) ?? [])].map(([state, n]) => [badge(`${state} ${n}`, stateTone(state)), ' ']),
  };
  const columns: Column<ServiceView>[] = [
    { title: 'Service', cell: (s) => h('a', { href: href({ page: 'service', id: s.id }) }, s.id) },
    { title: 'Mode', cell: (s) => s.kind },
    { title: 'Image', cell: (s) => h('code', null, s.image) },
    { title: 'Replicas', cell: (s) => replicas(s.running, s.desired), class: 'num' },
    ...(tasks === undefined ? [] : [byState]),
    { title: 'Ports', cell: (s) => s.ports.join(', ') || '-' },
    { title: 'Version', cell: (s) => s.version, class: 'num' },
    { title: 'Updated', cell: (s) => ago(s.updatedAt, now) },
  ];
  return table<ServiceView>(columns, services, { empty: 'No services.', rowAttrs: (s) => ({ 'data-service': s.id }) });
}
