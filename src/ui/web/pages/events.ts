/** Live events: what the cluster did, newest first, each added as it comes. */
import { h, replace, table } from '../dom.js';
import { clock } from '../format.js';
import type { UiEvent } from '../live.js';
import { href, type UiRoute } from '../routes.js';
import type { Page, PageContext } from './page.js';

/** Rows drawn at most: the log keeps more, the filter reaches them. */
const SHOWN = 500;
/** New events are drawn together, at most this often. */
const DRAW_EVERY_MS = 200;

export function eventsPage(ctx: PageContext): Page {
  const status = h('p', { class: 'muted', 'data-live-status': '' });
  const filter = h('input', {
    type: 'search',
    placeholder: 'Filter: type, name, message',
    'aria-label': 'Filter events',
  });
  const list = h('div');

  const matches = (event: UiEvent, words: readonly string[]) => {
    const text = `${event.type} ${event.action} ${event.name} ${event.message}`.toLowerCase();
    return words.every((w) => text.includes(w));
  };
  const draw = (): number => {
    const words = filter.value
      .toLowerCase()
      .split(/\s+/)
      .filter((w) => w !== '');
    const shown = ctx.events
      .all()
      .filter((e) => matches(e, words))
      .slice(-SHOWN)
      .reverse();
    const now = ctx.now();
    replace(
      list,
      table<UiEvent>(
        [
          { title: 'Time', cell: (e) => clock(e.time, now) },
          { title: '#', cell: (e) => e.index, class: 'num' },
          { title: 'Type', cell: (e) => h('span', { class: 'tag' }, e.type) },
          { title: 'Action', cell: (e) => e.action },
          { title: 'Name', cell: (e) => link(e) },
          { title: 'Message', cell: (e) => e.message },
        ],
        shown,
        { empty: 'No events yet.', rowAttrs: (e) => ({ 'data-event': `${e.index}.${e.sub ?? 0}` }) },
      ),
    );
    return shown.length;
  };
  const showMode = () => {
    const mode = ctx.events.mode;
    status.textContent =
      mode.kind === 'live'
        ? 'Following the event stream.'
        : mode.kind === 'connecting'
          ? 'Connecting to the event stream…'
          : `The event stream is not available (${mode.reason}): pages refresh every few seconds instead.`;
  };
  filter.addEventListener('input', () => draw());
  // A burst (a thousand tasks starting) is thousands of events: draw once for all of them.
  let pending: ReturnType<typeof setTimeout> | undefined;
  const unsubscribe = ctx.events.subscribe(() => {
    pending ??= setTimeout(() => {
      pending = undefined;
      draw();
    }, DRAW_EVERY_MS);
  });
  const unwatch = ctx.events.onMode(showMode);
  showMode();

  return {
    title: 'Events',
    live: false,
    element: h(
      'div',
      { class: 'page', 'data-page': 'events' },
      h('h1', null, 'Events'),
      status,
      h('div', { class: 'toolbar' }, filter),
      list,
    ),
    refresh: async () => draw(),
    dispose() {
      unsubscribe();
      clearTimeout(pending);
      unwatch();
    },
  };
}

/** The event's name, linked to what it belongs to. */
function link(event: UiEvent): HTMLElement | string {
  const route: UiRoute | undefined =
    typeof event.service === 'string'
      ? { page: 'service', id: event.service }
      : typeof event.stack === 'string'
        ? { page: 'stack', name: event.stack }
        : typeof event.job === 'string'
          ? { page: 'jobs' }
          : undefined;
  return route === undefined ? event.name : h('a', { href: href(route) }, event.name);
}
