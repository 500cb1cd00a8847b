/**
 * The UI's pages and their addresses. The page lives in the URL's fragment (`/ui/#/services/web_api`),
 * so the agent serves one document and a reload or a shared link opens the same page.
 * @module
 */

export type UiRoute =
  | { readonly page: 'cluster' }
  | { readonly page: 'nodes' }
  | { readonly page: 'stacks' }
  | { readonly page: 'stack'; readonly name: string }
  | { readonly page: 'service'; readonly id: string }
  | { readonly page: 'jobs' }
  | { readonly page: 'events' }
  | { readonly page: 'service-logs'; readonly service: string; readonly task?: string }
  | { readonly page: 'job-logs'; readonly job: string };

/**
 * The route of a fragment; anything unknown is the cluster page.
 * @example parseRoute('#/services/web_api') // { page: 'service', id: 'web_api' }
 */
export function parseRoute(hash: string): UiRoute {
  const parts = hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter((p) => p !== '')
    .map(decode);
  const [first, second, third] = parts;
  switch (first) {
    case 'nodes':
      return { page: 'nodes' };
    case 'stacks':
      return second === undefined ? { page: 'stacks' } : { page: 'stack', name: second };
    case 'services':
      if (second === undefined) return { page: 'stacks' };
      if (third === 'logs')
        return parts[3] === undefined
          ? { page: 'service-logs', service: second }
          : { page: 'service-logs', service: second, task: parts[3] };
      return { page: 'service', id: second };
    case 'jobs':
      return second !== undefined && third === 'logs' ? { page: 'job-logs', job: second } : { page: 'jobs' };
    case 'events':
      return { page: 'events' };
    default:
      return { page: 'cluster' };
  }
}

/**
 * The fragment of a route, the inverse of {@link parseRoute}.
 * @example href({ page: 'stack', name: 'web' }) // '#/stacks/web'
 */
export function href(route: UiRoute): string {
  const e = encodeURIComponent;
  switch (route.page) {
    case 'cluster':
      return '#/';
    case 'nodes':
    case 'jobs':
    case 'events':
    case 'stacks':
      return `#/${route.page}`;
    case 'stack':
      return `#/stacks/${e(route.name)}`;
    case 'service':
      return `#/services/${e(route.id)}`;
    case 'service-logs':
      return `#/services/${e(route.service)}/logs${route.task === undefined ? '' : `/${e(route.task)}`}`;
    case 'job-logs':
      return `#/jobs/${e(route.job)}/logs`;
  }
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
