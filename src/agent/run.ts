/**
 * `shoal agent`: run the daemon in the foreground until SIGINT/SIGTERM. On a graceful stop a
 * leader hands leadership to another voter first, so the cluster does not wait out an
 * election timeout.
 */
import { pino } from 'pino';
import { createApiServer } from '../api/index.js';
import { loadUiAssets } from '../ui/embedded.js';
import { Agent } from './agent.js';
import { AGENT_USAGE, AgentConfigError, parseAgentArgs, type AgentConfig } from './config.js';

/** Returns -1 while the agent runs (the process stays up), or an exit code when it could not start. */
export async function runAgentCommand(argv: readonly string[]): Promise<number> {
  let config: AgentConfig | 'help';
  try {
    config = parseAgentArgs(argv);
  } catch (error) {
    const message =
      error instanceof AgentConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
        ? (error as Error).message
        : String(error);
    process.stderr.write(`shoal agent: ${message}\n\n${AGENT_USAGE}\n`);
    return 2;
  }
  if (config === 'help') {
    process.stdout.write(`${AGENT_USAGE}\n`);
    return 0;
  }
  const log = pino({ level: config.logLevel, base: { service: 'shoal' } });
  const agent = new Agent(config, { logger: log });
  try {
    await agent.start();
  } catch (error) {
    log.fatal({ err: error }, 'agent failed to start');
    process.stderr.write(`shoal agent: ${(error as Error).message}\n`);
    await agent.stop().catch(() => undefined);
    return 1;
  }
  // From source the UI is compiled on first use and could fail; the API is served regardless.
  const ui = await loadUiAssets().catch((error: unknown) => {
    log.warn({ err: error }, 'the web UI could not be loaded: serving the admin API without /ui');
    return undefined;
  });
  const server = createApiServer(agent.api, {
    socketPath: config.apiSocket || undefined,
    listen: config.apiListen.map(parseHostPort),
    adminToken: config.adminToken,
    logger: log.child({ component: 'api' }),
    ui,
  });
  try {
    await server.start();
  } catch (error) {
    log.fatal({ err: error }, 'admin API failed to start');
    process.stderr.write(`shoal agent: ${(error as Error).message}\n`);
    await agent.stop().catch(() => undefined);
    return 1;
  }
  log.info({ api: server.addresses(), nodeId: agent.id }, 'admin API listening');

  if (!agent.membership()) {
    try {
      if (config.init) {
        const result = await agent.admin.init({});
        process.stdout.write(
          `Cluster ${result.clusterId} created. Join other nodes with:\n  shoal join ${agent.advertisedAddresses()[0]} --token ${result.token}\n`,
        );
      } else if (config.join) {
        const join = config.join;
        const result = await retryTransient(
          () => agent.admin.join(join),
          (error, waitMs) =>
            log.warn(
              { err: error, retryInMs: waitMs },
              'join failed for now (the member is busy or unreachable); retrying',
            ),
        );
        log.info({ clusterId: result.clusterId }, 'joined the cluster');
      }
    } catch (error) {
      if (config.init && agent.membership()) {
        // The cluster exists here: a later step timed out (a loaded machine). Self-registration
        // finishes the init in the background; exiting would take a working cluster down.
        log.warn({ err: error }, 'init did not finish in time; finishing it in the background');
      } else {
        log.fatal({ err: error }, config.init ? 'init failed' : 'join failed');
        process.stderr.write(`shoal agent: ${config.init ? 'init' : 'join'} failed: ${(error as Error).message}\n`);
        await server.stop().catch(() => undefined);
        await agent.stop().catch(() => undefined);
        return 1;
      }
    }
  }

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const raft = agent.raft();
    if (raft && raft.leader === agent.id) {
      await agent.admin.transferLeader(undefined, { signal: AbortSignal.timeout(3_000) }).catch(() => undefined);
    }
    await server.stop().catch(() => undefined);
    await agent.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  return -1;
}

function parseHostPort(text: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  if (!match) throw new AgentConfigError(`--api ${text}: expected host:port, e.g. 127.0.0.1:7900`);
  return { host: match[1]!, port: Number(match[2]) };
}

/** How long `--join` keeps trying while the member is unreachable or busy (a whole rack booting at once). */
const JOIN_RETRY_MS = 120_000;

/**
 * Retry `work` with back-off (0.5 s doubling to 5 s) for up to {@link JOIN_RETRY_MS} while it
 * fails for a reason that may pass (unreachable, reset, unavailable); a wrong token, a bad
 * address or a conflict fails at once.
 */
async function retryTransient<T>(
  work: () => Promise<T>,
  onRetry: (error: unknown, waitMs: number) => void,
): Promise<T> {
  const deadline = Date.now() + JOIN_RETRY_MS;
  for (let waitMs = 500; ; waitMs = Math.min(waitMs * 2, 5_000)) {
    try {
      return await work();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const final = code === 'unauthorized' || code === 'bad_request' || code === 'conflict' || code === 'not_found';
      if (final || Date.now() + waitMs > deadline) throw error;
      onRetry(error, waitMs);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}
