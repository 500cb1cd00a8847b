/**
 * The web UI's shell: the header, the page of the URL's fragment, and keeping it current (the
 * event stream, or polling while there is none; live.ts). Plain TypeScript and the DOM, compiled
 * by esbuild into one script the agent serves at /ui/app.js.
 * @module
 */
import { Api, ApiFailure, type Query } from './api.js';
import { sessionTokens } from './dialogs.js';
import { h, replace } from './dom.js';
import { EventLog } from './event-log.js';
import { isUiEvent, LiveFeed, type LiveMode } from './live.js';
import { clusterPage } from './pages/cluster.js';
import { eventsPage } from './pages/events.js';
import { jobsPage } from './pages/jobs.js';
import { logsPage } from './pages/logs.js';
import { nodesPage } from './pages/nodes.js';
import type { Page, PageContext } from './pages/page.js';
import { servicePage } from './pages/service.js';
import { stackPage, stacksPage } from './pages/stacks.js';
import { href, parseRoute, type UiRoute } from './routes.js';

/**
 * Events come in bursts (a deploy, a thousand tasks starting): the page refreshes at most this
 * often, and a page that takes long to draw waits three times its drawing time, so redrawing
 * never takes more than a quarter of the browser's time.
 */
const REFRESH_EVERY_MS = 500;
let lastDrawMs = 0;

const api = new Api(sessionTokens);
const events = new EventLog();
const main = h('main');
const staleBanner = h('div', { class: 'banner', hidden: true });
const liveBadge = h('span', { class: 'live-badge', 'data-live': 'connecting' }, 'connecting');
let page: Page | undefined;
let stale = false;
/** Time spent waiting for the agent's answers since the page opened, to tell it from drawing. */
let readMs = 0;

const ctx: PageContext = {
  api,
  events,
  async read<T>(path: string, query: Query = {}) {
    const started = performance.now();
    try {
      const value = await api.get<T>(path, query);
      stale = false;
      return value;
    } catch (error) {
      if (!(error instanceof ApiFailure) || error.status !== 503) throw error;
      stale = true;
      return api.get<T>(path, { ...query, stale: true });
    } finally {
      readMs += performance.now() - started;
    }
  },
  refresh: () => void refresh(),
  now: () => Date.now(),
};

function pageFor(route: UiRoute): Page {
  switch (route.page) {
    case 'cluster':
      return clusterPage(ctx);
    case 'nodes':
      return nodesPage(ctx);
    case 'stacks':
      return stacksPage(ctx);
    case 'stack':
      return stackPage(ctx, route.name);
    case 'service':
      return servicePage(ctx, route.id);
    case 'jobs':
      return jobsPage(ctx);
    case 'events':
      return eventsPage(ctx);
    case 'service-logs':
      return logsPage(ctx, { kind: 'service', service: route.service, ...(route.task ? { task: route.task } : {}) });
    case 'job-logs':
      return logsPage(ctx, { kind: 'job', job: route.job });
  }
}

/** Open the page of the current fragment and draw it; logs how long the first draw took. */
async function open(): Promise<void> {
  page?.dispose?.();
  const route = parseRoute(location.hash);
  const started = performance.now();
  page = pageFor(route);
  document.title = `${page.title} · shoal`;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    link.classList.toggle('current', link.dataset.page === navKey(route));
  }
  replace(main, page.element);
  const shown = page;
  document.body.dataset.state = 'loading';
  readMs = 0;
  const rows = await draw(shown);
  if (shown !== page) return;
  const ms = Math.round(performance.now() - started);
  // The browser test reads these: how long this page took, and since the document was requested.
  document.body.dataset.state = 'ready';
  document.body.dataset.renderMs = String(ms);
  document.body.dataset.readMs = String(Math.round(readMs));
  document.body.dataset.sinceLoadMs = String(Math.round(performance.now()));
  console.info(`shoal ui: ${route.page} drawn in ${ms} ms (${Math.round(readMs)} ms of it reading; ${rows} rows)`);
}

/** Refresh, showing a failure on the page instead of throwing. */
async function draw(target: Page): Promise<number> {
  try {
    const rows = await target.refresh();
    target.element.querySelector(':scope > .failure')?.remove();
    staleBanner.hidden = !stale;
    staleBanner.textContent = stale
      ? 'The cluster has no quorum right now: this page shows this agent’s own copy, which may be behind.'
      : '';
    return rows;
  } catch (error) {
    if (target === page) {
      target.element.querySelector(':scope > .failure')?.remove();
      target.element.prepend(h('div', { class: 'failure', role: 'alert' }, (error as Error).message));
    }
    return 0;
  }
}

let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing = false;

/** Refresh the open page soon: one refresh for a burst of events, never two at once. */
function refresh(): void {
  if (refreshTimer !== undefined || page === undefined || !page.live) return;
  refreshTimer = setTimeout(
    async () => {
      if (refreshing) {
        refreshTimer = undefined;
        refresh();
        return;
      }
      refreshing = true;
      const target = page;
      const started = performance.now();
      if (target) await draw(target);
      lastDrawMs = performance.now() - started;
      refreshing = false;
      refreshTimer = undefined;
    },
    Math.max(REFRESH_EVERY_MS, 3 * lastDrawMs),
  );
}

function navKey(route: UiRoute): string {
  if (route.page === 'stack' || route.page === 'service' || route.page === 'service-logs') return 'stacks';
  if (route.page === 'job-logs') return 'jobs';
  return route.page;
}

function showMode(mode: LiveMode): void {
  events.setMode(mode);
  liveBadge.dataset.live = mode.kind;
  liveBadge.textContent = mode.kind === 'polling' ? 'polling' : mode.kind;
  liveBadge.title =
    mode.kind === 'polling' ? `No event stream (${mode.reason}): the page refreshes every 3 s` : 'Following /v1/events';
}

function start(): void {
  const nav = (label: string, route: UiRoute, key: string) => h('a', { href: href(route), 'data-page': key }, label);
  document.body.replaceChildren(
    h(
      'header',
      null,
      h('a', { class: 'brand', href: '#/' }, 'shoal'),
      h(
        'nav',
        null,
        nav('Cluster', { page: 'cluster' }, 'cluster'),
        nav('Nodes', { page: 'nodes' }, 'nodes'),
        nav('Stacks', { page: 'stacks' }, 'stacks'),
        nav('Jobs', { page: 'jobs' }, 'jobs'),
        nav('Events', { page: 'events' }, 'events'),
      ),
      liveBadge,
    ),
    staleBanner,
    main,
    h('div', { id: 'notices' }),
  );
  window.addEventListener('hashchange', () => void open());
  const feed = new LiveFeed({
    stream: (index, handlers, signal) =>
      api.stream(
        '/v1/events',
        { index, follow: true },
        {
          onOpen: handlers.onOpen,
          onLine: (value) => {
            if (isUiEvent(value)) handlers.onEvent(value);
          },
        },
        signal,
      ),
    onEvent: (event) => {
      events.add(event);
      refresh();
    },
    onMode: showMode,
    poll: refresh,
    timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (t) => clearTimeout(t as number) },
  });
  void open().then(() => feed.start());
}

start();
