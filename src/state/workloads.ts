/**
 * The workload part of the replicated state: stacks, services and tasks.
 *
 * The split of responsibilities (swarmkit's): a *service* says what should exist; the leader's
 * orchestrators (replicated, global; later job/cron) create *tasks* for it; the scheduler
 * assigns each task to a node; the node's runtime makes a container for every task assigned to
 * it and reports the task's observed state. Every one of those steps is a Raft command, so the
 * whole history is replicated and any leader can pick up where the last one stopped.
 *
 * Fencing: a task id is used for exactly one placement. When a node is declared down its tasks
 * are marked `orphaned` and *replacement tasks with new ids* are created; a node that comes
 * back finds no running assignment for its old task ids and stops those containers. A
 * container is identified by the labels `shoal.task.id` and `shoal.task.generation`; the
 * generation is the Raft-ordered counter stamped when the task was assigned, so even a reused
 * container name can never be mistaken for the current assignment.
 */
import type { ServiceSpec } from '../stack/spec.js';
import type { TaskJobRef, TaskOutcome, TaskUsage } from './jobs.js';
import type { RolloutStatus, VersionEntry } from './rollout.js';
import type { AutoscaleStatus } from './autoscale-commands.js';
import type { SealedRegistryAuth } from './registry-auth.js';

export type { ServiceSpec };

/**
 * Observed task states, in the only order they may move (swarmkit's). A report that would move
 * a task backwards is ignored by apply. Terminal: complete and after.
 */
export const TASK_STATES = [
  'new', //       created by an orchestrator, not yet scheduled
  'pending', //   waiting for a node (the scheduler says why in `message`)
  'assigned', //  a node was chosen; its runtime has not acted yet
  'preparing', // the runtime is pulling/creating the container
  'starting', //  container started, healthcheck not yet passed
  'running', //   running (and healthy, when a healthcheck is defined)
  'complete', //  exited 0 (jobs; or a service container that ended cleanly)
  'shutdown', //  stopped because it was no longer wanted
  'failed', //    exited non-zero, could not start, or failed its healthcheck
  'rejected', //  the node could not run it at all (missing image, bad spec)
  'orphaned', //  its node went down; a replacement was created elsewhere
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** The rank of a state: reports may only increase it. */
export function taskStateRank(state: TaskState): number {
  return RANKS.get(state)!;
}

// A lookup, not indexOf: apply and every controller pass ask for ranks per task.
const RANKS: ReadonlyMap<TaskState, number> = new Map(TASK_STATES.map((s, i) => [s, i]));

export function isTerminal(state: TaskState): boolean {
  return taskStateRank(state) >= taskStateRank('complete');
}

/** What the orchestrator wants of a task. The runtime acts on this, never on `state`. */
export type DesiredTaskState = 'running' | 'shutdown';

export interface TaskRecord {
  /** Unique, leader-generated; never reused. */
  readonly id: string;
  readonly serviceId: string;
  /** Replicated services: the replica slot 1..N. Global services: 0 (the node identifies it). */
  readonly slot: number;
  /** The service version (spec generation) this task runs. */
  readonly serviceVersion: number;
  /** Null until assigned. */
  readonly nodeId: string | null;
  /** Stamped from the state's assignment counter when assigned; 0 before. */
  readonly generation: number;
  /** GPU device ids (uuids) assigned exclusively to this task. */
  readonly gpus: readonly string[];
  readonly desiredState: DesiredTaskState;
  readonly state: TaskState;
  /** Why it is pending, why it failed, what the runtime last said. */
  readonly message: string;
  readonly exitCode: number | null;
  readonly containerId: string | null;
  /** Times the node's runtime restarted it in place (local restart policy). */
  readonly restarts: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Set on the tasks of batch jobs: the job unit this task runs. */
  readonly job?: TaskJobRef;
  /** When the runtime first reported it starting or running (leader time); absent before. */
  readonly startedAt?: number;
  /**
   * When the runtime first reported it running (leader time): past its health check when it has
   * one, so a rollout's `monitor` counts from here. Absent before, and on records from before it.
   */
  readonly runningAt?: number;
  /** When it reached a terminal state (leader time). */
  readonly endedAt?: number;
  /** Why it ended beyond its exit code (timeout, preempted, node failure...). */
  readonly outcome?: TaskOutcome;
  /**
   * Why the manager asked it to stop, when it says more than `desiredState` does
   * (`preempted by job 17 (priority 500)`); the runtime reports it as the task's message.
   */
  readonly stopReason?: string;
  /** CPU time and peak memory, when the runtime measured them. */
  readonly usage?: TaskUsage;
}

export interface ServiceRecord {
  /** `<stack>_<name>`, as Docker Swarm names them. */
  readonly id: string;
  readonly stack: string;
  readonly name: string;
  /** The normalized spec from the Compose file (src/stack). */
  readonly spec: ServiceSpec;
  /** Canonical hash of `spec` (src/stack/hash.ts): an unchanged redeploy changes nothing. */
  readonly specHash: string;
  /** Incremented on every spec change; tasks record the version they run. */
  readonly version: number;
  /** Desired replicas for replicated services (starts at spec.deploy.replicas; `service scale` changes it). */
  readonly replicas: number;
  /** The service's address (service-vips.ts); absent only on services restored from an older snapshot. */
  readonly vip?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Its current or last rollout (replicated and global services; absent in older states). */
  readonly rollout?: RolloutStatus;
  /** Its last versions, oldest first, the current one last (absent in older states). */
  readonly history?: readonly VersionEntry[];
  /** The autoscaler's last decision (autoscaled services, once it changed the replicas). */
  readonly autoscale?: AutoscaleStatus;
  /** Its registry credentials (`--with-registry-auth`), sealed; outside the spec and its hash (registry-auth.ts). */
  readonly registryAuth?: SealedRegistryAuth;
}

export interface StackRecord {
  readonly name: string;
  /** Service ids, sorted. */
  readonly services: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Node health as the leader's node-health controller decided it (heartbeats are not replicated). */
export type NodeStatus = 'ready' | 'down';
