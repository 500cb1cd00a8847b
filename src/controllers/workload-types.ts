/**
 * What the workload controllers read and what they return.
 *
 * The input is the part of the replicated state they need (`nodes`, `services`, `tasks`), so
 * the real state is passed as is: the leader passes the indexed state (`ClusterStateMachine.view()`,
 * tasks in a `TaskTable` whose indexes apply keeps); tests build plain records by hand, which are
 * indexed once per pass. The output is a list of command inputs
 * (commands without `v` and `at`, which the leader stamps when it proposes them).
 * @module
 */
import type { TaskMap } from '../state/indexed-state.js';
import type { NodeRecord } from '../state/model.js';
import type { NamespaceQuota } from '../scheduler/queue/types.js';
import type { JobUpdate, PreemptedBy } from '../state/job-commands.js';
import type { JobRecord, UsageRecord } from '../state/jobs.js';
import type { NodeStatus, ServiceRecord } from '../state/workloads.js';
import type { RolloutCommandInput } from './rollout/plan.js';

/** A node record, with the health status (`ready`/`down`) the node-health controller keeps. */
export type WorkloadNode = NodeRecord;

/** The parts of the cluster state the workload controllers read. */
export interface WorkloadState {
  readonly nodes: Readonly<Record<string, WorkloadNode>>;
  readonly services: Readonly<Record<string, ServiceRecord>>;
  /** A plain record, or a task table with its indexes. */
  readonly tasks: TaskMap;
  /** Batch jobs; absent in tests that have none. */
  readonly jobs?: Readonly<Record<string, JobRecord>>;
  readonly quotas?: Readonly<Record<string, NamespaceQuota>>;
  readonly usage?: Readonly<Record<string, UsageRecord>>;
  readonly cronMarks?: Readonly<Record<string, number>>;
}

/** One task to create (`task.create`): the command's own type, owned by the state. */
export type { NewTask } from '../state/workload-commands.js';
import type { NewTask } from '../state/workload-commands.js';

/** One placement (`task.assign`). */
export interface Assignment {
  readonly taskId: string;
  readonly nodeId: string;
  readonly gpus: readonly string[];
}

/** The commands the workload controllers propose, without `v` and `at`. */
export type WorkloadCommandInput =
  | { readonly type: 'task.create'; readonly tasks: readonly NewTask[] }
  | { readonly type: 'task.assign'; readonly assignments: readonly Assignment[] }
  | {
      readonly type: 'task.pending';
      readonly updates: readonly { readonly taskId: string; readonly message: string }[];
    }
  | { readonly type: 'task.desire'; readonly taskIds: readonly string[]; readonly desiredState: 'shutdown' }
  | { readonly type: 'task.remove'; readonly taskIds: readonly string[] }
  | { readonly type: 'node.setStatus'; readonly id: string; readonly status: NodeStatus }
  | { readonly type: 'job.update'; readonly updates: readonly JobUpdate[] }
  | { readonly type: 'job.cancel'; readonly jobIds: readonly string[]; readonly reason: string }
  | { readonly type: 'job.remove'; readonly jobIds: readonly string[] }
  | { readonly type: 'job.start'; readonly serviceId: string; readonly scheduledAt: number | null }
  | { readonly type: 'cron.skip'; readonly serviceId: string; readonly scheduledAt: number }
  | { readonly type: 'task.preempt'; readonly taskIds: readonly string[]; readonly by?: readonly PreemptedBy[] }
  | RolloutCommandInput;

/**
 * What one orchestrator (replicated or global) decided for the services it owns. The
 * orchestration step turns these into batched commands; keeping them as lists lets it bound a
 * pass and hand the new tasks to the placement step in the same pass.
 */
export interface OrchestratorPlan {
  /** Tasks to stop (`task.desire shutdown`), in the order they should go (most urgent first). */
  readonly shutdown: string[];
  /** Tasks to create; ids come from the injected generator. */
  readonly create: NewTask[];
  /** Rollout transitions and automatic rollbacks (rollout/plan.ts). */
  readonly rollouts: RolloutCommandInput[];
  /** Times at which time alone changes a rollout's decision (a monitor window, a delay, a deadline). */
  readonly wakes: number[];
}

/** Fresh ids: injected so that the controllers stay pure (the leader passes a random id source). */
export type IdGenerator = () => string;
