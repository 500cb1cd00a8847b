/** The admin CLI: `runCli`, its commands, the admin API client and address parsing. */
export { runCli, CLI_COMMANDS, COMMAND_SPECS, fdOutput, processIo, type CliIo } from './main.js';
export { ApiClient, DEFAULT_TIMEOUT_MS, type ApiClientOptions, type ApiCallOptions } from './client.js';
export {
  parseAddress,
  formatAddress,
  resolveAddress,
  DEFAULT_PORT,
  type AgentAddress,
  type ResolvedAddress,
} from './address.js';
export {
  ExitCode,
  UsageError,
  ApiRequestError,
  AgentUnreachableError,
  AgentTimeoutError,
  NotShoalAgentError,
  exitCodeForApiError,
} from './errors.js';
export { renderTable, shortId, nodeCell, formatBytes, humanDuration, ago } from './format.js';
export { buildDeployRequest, findEnvFiles, parseDotEnv, topLevelName, defaultStackName } from './compose-files.js';
export { negativeValueError, parseDuration } from './options.js';
export { parseAgentAnswer, tooLargeMessage } from './agent-errors.js';
export { portsCell, renderTasks } from './commands/tasks.js';
export { SHOAL_VERSION } from './version.js';
export type { CommandSpec, CommandContext, OptionSpec, OutputFormat } from './command.js';
export { buildSubmitRequest, currentUser, type SubmitEnvironment } from './commands/job-submit.js';
export {
  parseTimeLimit,
  parseArray,
  parseDependency,
  parseMemory,
  parseBegin,
  parseEnv,
  JOB_ID_PATTERN,
} from './commands/job-flags.js';
export { renderQueue } from './commands/queue.js';
export { renderHistory } from './commands/job-history.js';
export { renderInspect } from './commands/job.js';
export { renderQuotas, buildQuotaRequest } from './commands/quota.js';
export { fastPost } from './commands/fast-post.js';
export { sacctDuration, slurmDuration, slurmTime } from './format.js';
