/** The one object the admin API server serves: the cluster and workload halves of the agent. */
import type { BatchApi } from '../api/job-types.js';
import type { ClusterApi, WorkloadApi } from '../api/types.js';
import type { AdminService } from './admin.js';
import type { BatchService } from './job-api.js';
import type { WorkloadService } from './workload-api.js';

export function agentApi(
  admin: AdminService,
  workloads: WorkloadService,
  batch: BatchService,
): ClusterApi & WorkloadApi & BatchApi {
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
    submitJob: (request, options) => batch.submitJob(request, options),
    queue: (options) => batch.queue(options),
    cancelJobs: (ids, options) => batch.cancelJobs(ids, options),
    history: (options) => batch.history(options),
    inspectJob: (id, options) => batch.inspectJob(id, options),
    jobLogs: (request, options) => batch.jobLogs(request, options),
    listQuotas: (options) => batch.listQuotas(options),
    setQuota: (ns, request, options) => batch.setQuota(ns, request, options),
  };
}
