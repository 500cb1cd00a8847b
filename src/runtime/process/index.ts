/**
 * The process runtime: tasks as plain child processes of the host (as Slurm runs jobs), with
 * cgroup limits where the host allows, output and exit status on disk, adopted after a restart.
 *
 * @module
 */
export { ProcessDriver, PROCESS_ID_PREFIX, LOST_MESSAGE, type ProcessDriverOptions } from './process-driver.js';
export {
  CgroupManager,
  parseMountinfo,
  parseSelfCgroup,
  type CgroupLimits,
  type CgroupProbeOptions,
  type CgroupUsage,
  type LimitsSupport,
} from './cgroups.js';
export { spawnPlan, checkRunnable, type SpawnPlan, type HostIdentity } from './spawn-plan.js';
export { parseExit, formatExit, wrapperScript, shq, FILES, type ExitRecord, type WrapperInput } from './wrapper.js';
export { readLogs, parseOutputLine, type LogSource } from './log-file.js';
export { observeProcess } from './observe.js';
export {
  ProcUsageSampler,
  sampleGroups,
  parseProcStat,
  hostPageSize,
  type ProcStat,
  type ProcSource,
  type ProcUsageSamplerOptions,
} from './proc-usage.js';
export { readMeta, writeMeta, readExit, procStartTime, type ProcessMeta } from './task-dir.js';
export { Launcher, LauncherDiedError, type LaunchCallbacks, type LauncherOptions } from './launcher.js';
export {
  formatLaunch,
  parseLauncherLine,
  escapeField,
  decodeWaitStatus,
  LAUNCHER_FILE,
  LAUNCHER_PERL,
  type LaunchRequest,
  type LauncherMessage,
} from './launcher-script.js';
