/** The replicated cluster state: commands, the state machine, snapshots. */
export { InvalidCommandError, InvalidSnapshotError } from './errors.js';
export {
  AVAILABILITIES,
  DEFAULT_SETTINGS,
  LABEL_KEY_PATTERN,
  PEER_ID_PATTERN,
  STATE_VERSION,
  VOTER_HINTS,
  emptyState,
  type Availability,
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
  type CommandType,
  type NodeLabelsCommand,
  type NodeRegisterCommand,
  type NodeRemoveCommand,
  type NodeSetAvailabilityCommand,
  type NodeUpdateCommand,
  type SettingsSetCommand,
  type TokenRotateCommand,
} from './commands.js';
export { applyCommand, type ApplyOutcome } from './apply.js';
export { SNAPSHOT_FORMAT, decodeState, encodeState } from './snapshot.js';
export { ClusterStateMachine, type ApplyResult } from './cluster-state.js';
