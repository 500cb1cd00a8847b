/**
 * The dependencies of a WorkloadService that must never be used: a Compose file refused by the
 * parser reaches neither the store nor a node's logs, and each of them throws if it is.
 */
import type { WorkloadServiceDeps } from '../../../src/agent/workload-api.js';
import { ClusterStateMachine } from '../../../src/state/index.js';

function unused(): never {
  throw new Error('a refused Compose file must not reach the cluster');
}

export function refusedWorkloadDeps(): WorkloadServiceDeps {
  return {
    store: {
      state: new ClusterStateMachine(),
      requireJoined: unused,
      read: unused,
      propose: unused,
      on: unused,
      off: unused,
    },
    taskLogs: unused,
    nodeHealth: () => null,
    raftView: () => null,
  };
}
