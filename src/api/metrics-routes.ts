/**
 * `GET /metrics`: Prometheus' text exposition format. It is served on the admin address under
 * the same rule as the rest of the API: the admin token where the listener requires one (any
 * non-loopback address), so a scrape config sends it as a bearer token (`authorization:
 * credentials_file:`). Metrics name nodes and services; they are not for everyone who can reach
 * the port.
 * @module
 */
import type { Route } from './router.js';

/** Prometheus' content type for the text format. */
export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsApi {
  /** The exposition text, rendered now. */
  metrics(): string;
}

export function isMetricsApi(api: object): api is MetricsApi {
  return typeof (api as Record<string, unknown>).metrics === 'function';
}

export function metricsRoutes(api: MetricsApi): Route[] {
  return [{ method: 'GET', path: '/metrics', contentType: PROMETHEUS_TEXT, handle: async () => api.metrics() }];
}
