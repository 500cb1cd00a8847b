/** The admin CLI: `runCli`, its commands, the admin API client and address parsing. */
export { runCli, CLI_COMMANDS, COMMAND_SPECS, type CliIo } from './main.js';
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
  exitCodeForApiError,
} from './errors.js';
export { renderTable, shortId, formatBytes, humanDuration, ago } from './format.js';
export { buildDeployRequest, findEnvFiles, parseDotEnv, topLevelName, defaultStackName } from './compose-files.js';
export { parseDuration } from './options.js';
export { SHOAL_VERSION } from './version.js';
export type { CommandSpec, CommandContext, OptionSpec, OutputFormat } from './command.js';
