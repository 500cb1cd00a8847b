/** The admin HTTP API: the contract ({@link ClusterApi}, {@link WorkloadApi}), the server around it, and its routing table. */
export * from './types.js';
export {
  createApiServer,
  ApiServerConfigError,
  type ApiServer,
  type ApiServerOptions,
  type ApiListenAddress,
  type ApiLogger,
} from './server.js';
export { Router, type Route, type RouteRequest, type RouteMatch, type HttpMethod } from './router.js';
export { clusterRoutes } from './routes.js';
export { workloadRoutes, isWorkloadApi, MAX_STACK_BODY_BYTES, MAX_REPLICAS } from './workload-routes.js';
export { validateBody, validateQuery, type FieldSpec, type Schema } from './validate.js';
export { isLoopbackHost, createTokenCheck, type TokenCheck } from './auth.js';
export { SocketInUseError, clearStaleSocket } from './unix-socket.js';
export { MAX_BODY_BYTES, NDJSON_TYPE, type ErrorBody } from './http-io.js';
export { jobRoutes, isBatchApi } from './job-routes.js';
export type * from './job-types.js';
export { createStaticSite, type StaticFiles, type StaticFile, type StaticSite } from './static-files.js';
export { eventRoutes, isEventsApi, type EventsApi } from './event-routes.js';
export { metricsRoutes, isMetricsApi, PROMETHEUS_TEXT, type MetricsApi } from './metrics-routes.js';
