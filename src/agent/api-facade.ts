/** The one object the admin API server serves: the cluster and workload halves of the agent. */
import type { EventsApi } from '../api/event-routes.js';
import type { BatchApi } from '../api/job-types.js';
import type { MetricsApi } from '../api/metrics-routes.js';
import type { SecretApi } from '../api/secret-types.js';
import type { RolloutApi } from '../api/rollout-routes.js';
import type { ClusterApi, WorkloadApi } from '../api/types.js';
import type { AdminService } from './admin.js';
import type { BatchService } from './job-api.js';
import type { WorkloadService } from './workload-api.js';

/** Everything the agent's admin API serves. */
export type AgentApi = ClusterApi & WorkloadApi & BatchApi & EventsApi & MetricsApi & SecretApi & RolloutApi;

export function agentApi(
  admin: AdminService,
  workloads: WorkloadService,
  batch: BatchService,
  observability: EventsApi & MetricsApi,
  secrets: SecretApi,
): AgentApi {
  return {
    status: (options) => admin.status(options),
    listNodes: (options) => admin.listNodes(options),
    init: (request, options) => admin.init(request, options),
    join: (request, options) => admin.join(request, options),
    removeNode: (id, options) => admin.removeNode(id, options),
    rotateToken: (options) => admin.rotateToken(options),
    showToken: (options) => admin.showToken(options),
    transferLeader: (to, options) => admin.transferLeader(to, options),
    discover: () => admin.discover(),
    deployStack: (request, options) => workloads.deployStack(request, options),
    listStacks: (options) => workloads.listStacks(options),
    removeStack: (name, options) => workloads.removeStack(name, options),
    stackTasks: (name, options) => workloads.stackTasks(name, options),
    listServices: (options) => workloads.listServices(options),
    inspectService: (id, options) => workloads.inspectService(id, options),
    serviceTasks: (id, options) => workloads.serviceTasks(id, options),
    scaleService: (id, replicas, options) => workloads.scaleService(id, replicas, options),
    serviceLogs: (request, options) => workloads.serviceLogs(request, options),
    setNodeAvailability: (id, availability, options) => workloads.setNodeAvailability(id, availability, options),
    updateNodeLabels: (id, change, options) => workloads.updateNodeLabels(id, change, options),
    serviceHistory: (id, options) => workloads.serviceHistory(id, options),
    rollbackService: (id, request, options) => workloads.rollbackService(id, request, options),
    promoteService: (id, options) => workloads.promoteService(id, options),
    updateService: (id, request, options) => workloads.updateService(id, request, options),
    submitJob: (request, options) => batch.submitJob(request, options),
    queue: (options) => batch.queue(options),
    cancelJobs: (ids, options) => batch.cancelJobs(ids, options),
    history: (options) => batch.history(options),
    inspectJob: (id, options) => batch.inspectJob(id, options),
    jobLogs: (request, options) => batch.jobLogs(request, options),
    listQuotas: (options) => batch.listQuotas(options),
    setQuota: (ns, request, options) => batch.setQuota(ns, request, options),
    events: (query, options) => observability.events(query, options),
    metrics: () => observability.metrics(),
    createFileObject: (kind, request, options) => secrets.createFileObject(kind, request, options),
    listFileObjects: (kind, options) => secrets.listFileObjects(kind, options),
    inspectFileObject: (kind, name, options) => secrets.inspectFileObject(kind, name, options),
    removeFileObject: (kind, name, options) => secrets.removeFileObject(kind, name, options),
  };
}
