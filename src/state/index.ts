/** The replicated cluster state: commands, the state machine, snapshots. */
export { InvalidCommandError, InvalidSnapshotError } from './errors.js';
export {
  AVAILABILITIES,
  DEFAULT_SETTINGS,
  LABEL_KEY_PATTERN,
  NODE_STATUSES,
  PEER_ID_PATTERN,
  STATE_VERSION,
  VOTER_HINTS,
  emptyState,
  type Availability,
  type ClusterCounters,
  type ClusterInfo,
  type ClusterSettings,
  type ClusterState,
  type GpuResource,
  type NodeRecord,
  type NodeResources,
  type RevokedNode,
  type RoleHints,
  type TokenInfo,
  type VoterHint,
} from './model.js';
export {
  COMMAND_TYPES,
  decodeCommand,
  encodeCommand,
  validateCommand,
  type ClusterInitCommand,
  type Command,
  type CommandInput,
  type CommandType,
  type NodeLabelsCommand,
  type NodeRegisterCommand,
  type NodeRemoveCommand,
  type NodeSetAvailabilityCommand,
  type NodeUpdateCommand,
  type SettingsSetCommand,
  type TokenRotateCommand,
} from './commands.js';
export type {
  NewTask,
  NodeSetStatusCommand,
  ServiceScaleCommand,
  StackDeployCommand,
  StackDeployService,
  StackRemoveCommand,
  TaskAssignCommand,
  TaskAssignment,
  TaskCreateCommand,
  TaskDesireCommand,
  TaskPendingCommand,
  TaskPendingUpdate,
  TaskRemoveCommand,
  TaskReport,
  TaskReportCommand,
  WorkloadCommand,
} from './workload-commands.js';
export {
  MAX_BATCH,
  MAX_REPLICAS,
  MAX_STACK_SERVICES,
  MAX_TASK_MESSAGE,
  REPORTABLE_STATES,
  SERVICE_NAME_PATTERN,
  STACK_NAME_PATTERN,
  TASK_ID_PATTERN,
  serviceId,
} from './workload-checks.js';
export {
  TASK_STATES,
  isTerminal,
  taskStateRank,
  type DesiredTaskState,
  type NodeStatus,
  type ServiceRecord,
  type StackRecord,
  type TaskRecord,
  type TaskState,
} from './workloads.js';
export {
  findService,
  findStack,
  findTask,
  listServices,
  listServicesOfStack,
  listStacks,
  listTasks,
  listTasksOfService,
  listTasksOnNode,
  sortedById,
  taskIndex,
  type TaskIndex,
} from './queries.js';
export { applyCommand, type ApplyOutcome } from './apply.js';
export {
  emptyIndexedState,
  indexState,
  isIndexed,
  plainState,
  tableOf,
  type IndexedState,
  type TaskMap,
} from './indexed-state.js';
export { TaskEdit, TaskTable, isPlaced, isWaiting, type TaskGroup } from './task-table.js';
export { ChangeTracker, FULL_CHANGES, type ChangeSet, type TakeOptions } from './changes.js';
export { SNAPSHOT_FORMAT, decodeIndexedState, decodeState, encodeState } from './snapshot.js';
export { ClusterStateMachine, type ApplyResult, type AppliedCommand, type AppliedObserver } from './cluster-state.js';
export * from './jobs.js';
export { MESH_DNS_ADDRESS, isServiceVip, needsVip, servicesWithoutVip, vipAddress } from './service-vips.js';
export type { ServiceVipsCommand } from './workload-commands.js';
export type * from './job-commands.js';
export { checkJobId, checkNamespace, checkJobName, checkOwner } from './job-checks.js';
export * from './rollout.js';
export type * from './rollout-commands.js';
