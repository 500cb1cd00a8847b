/**
 * Every change to the cluster goes through here: a command or a membership change is proposed
 * on the leader, or forwarded to it over libp2p RPC, retrying through elections until a deadline.
 * The leader stamps the time into commands (apply never reads the clock).
 */
import { ApiError, type ApiErrorCode } from '../api/types.js';
import { RemoteError } from '../p2p/index.js';
import { NotLeaderError, OutcomeUnknownError, RaftRefusedError, StoppedError } from '../raft/errors.js';
import type { ConfChange, NodeId } from '../raft/types.js';
import { encodeCommand, validateCommand, type ApplyResult, type Command } from '../state/index.js';
import type { AgentContext } from './agent.js';

/** A command as callers write it: the leader adds the format version and the time. */
export type CommandInput = Omit<Command, 'v' | 'at'> & { readonly type: Command['type'] };

const DEFAULT_DEADLINE_MS = 10_000;
const RETRY_DELAY_MS = 50;
const API_CODES: readonly ApiErrorCode[] = [
  'bad_request',
  'unauthorized',
  'not_found',
  'conflict',
  'not_initialized',
  'unavailable',
  'timeout',
  'internal',
];

export const STATUS_OF: Record<ApiErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  not_initialized: 409,
  unavailable: 503,
  timeout: 504,
  internal: 500,
};

interface WriteOptions {
  readonly signal?: AbortSignal;
  readonly deadlineMs?: number;
}

export class CommandWriter {
  readonly #agent: AgentContext;

  constructor(agent: AgentContext) {
    this.#agent = agent;
  }

  /** Serve forwarded writes (members only). */
  register(): void {
    const rpc = this.#agent.rpc;
    rpc.handle('cluster.propose', (payload, { signal }) =>
      withRemoteCodes(this.#proposeHere(payload as CommandInput, signal)),
    );
    rpc.handle('cluster.confChange', (payload, { signal }) =>
      withRemoteCodes(this.#changeHere(payload as ConfChange, signal)),
    );
  }

  /** Propose `command` through the leader; resolves with the apply result, throws ApiError when refused. */
  async submit(command: CommandInput, options: WriteOptions = {}): Promise<ApplyResult & { ok: true }> {
    const result = (await this.viaLeader(
      'cluster.propose',
      command,
      (signal) => this.#proposeHere(command, signal),
      options,
    )) as ApplyResult;
    if (!result.ok) {
      throw new ApiError(
        result.reason === 'refused' ? 409 : 400,
        result.reason === 'refused' ? 'conflict' : 'bad_request',
        result.error,
      );
    }
    return result;
  }

  /** Make a membership change through the leader. */
  async changeMembership(change: ConfChange, options: WriteOptions = {}): Promise<void> {
    await this.viaLeader('cluster.confChange', change, (signal) => this.#changeHere(change, signal), options);
  }

  /** Serve `method` for followers that forward it here; the handler runs only while this node leads. */
  handleOnLeader(method: string, handler: (payload: unknown, signal?: AbortSignal) => Promise<unknown>): void {
    this.#agent.rpc.handle(method, (payload, { signal }) =>
      withRemoteCodes(
        (async () => {
          this.#requireLeaderRaft();
          return handler(payload, signal);
        })(),
      ),
    );
  }

  /**
   * Run `here` when this node leads, else call `method` on the leader; retry across leader
   * changes until the deadline.
   */
  async viaLeader(
    method: string,
    payload: unknown,
    here: (signal?: AbortSignal) => Promise<unknown>,
    options: WriteOptions,
  ): Promise<unknown> {
    const deadline = Date.now() + (options.deadlineMs ?? DEFAULT_DEADLINE_MS);
    let lastError: unknown = null;
    while (Date.now() < deadline) {
      options.signal?.throwIfAborted();
      const raft = this.#agent.raft();
      if (!raft)
        throw new ApiError(
          409,
          'not_initialized',
          'This agent is not part of a cluster yet: run `shoal init` to create one or `shoal join` to join one',
        );
      const leader = raft.leader;
      try {
        if (leader === this.#agent.host.peerId) return await here(options.signal);
        if (leader) {
          return await this.#agent.rpc.call(leader, method, payload, {
            signal: options.signal,
            timeoutMs: Math.max(100, deadline - Date.now()),
          });
        }
      } catch (error) {
        if (!isRetryable(error)) throw toApiError(error);
        lastError = error;
      }
      await sleep(RETRY_DELAY_MS, options.signal);
    }
    throw new ApiError(
      503,
      'unavailable',
      `No leader accepted the request within ${options.deadlineMs ?? DEFAULT_DEADLINE_MS} ms: the cluster may have lost its quorum (check \`shoal status\`)`,
      {
        cause: lastError,
      },
    );
  }

  async #proposeHere(input: CommandInput, signal?: AbortSignal): Promise<ApplyResult> {
    const raft = this.#requireLeaderRaft();
    let command: Command;
    try {
      command = validateCommand({ ...input, v: 1, at: Date.now() });
    } catch (error) {
      throw new ApiError(400, 'bad_request', (error as Error).message);
    }
    return (await raft.propose(encodeCommand(command), { signal })) as ApplyResult;
  }

  async #changeHere(change: ConfChange, signal?: AbortSignal): Promise<null> {
    const raft = this.#requireLeaderRaft();
    await raft.changeMembership(change, { signal });
    return null;
  }

  #requireLeaderRaft() {
    const raft = this.#agent.raft();
    if (!raft || raft.leader !== this.#agent.host.peerId)
      throw Object.assign(new NotLeaderError(raft?.leader ?? null), { code: 'not_leader' });
    return raft;
  }
}

/** Give errors crossing RPC a `code` the caller understands: 'retry' for what a retry may cure. */
async function withRemoteCodes<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (isRetryable(error)) throw Object.assign(new Error((error as Error).message), { code: 'retry' });
    throw toApiError(error);
  }
}

/** Errors that a retry on the (new) leader may cure. */
function isRetryable(error: unknown): boolean {
  if (error instanceof NotLeaderError || error instanceof StoppedError) return true;
  if (error instanceof RaftRefusedError)
    return error.reason === 'transferring' || error.reason === 'noQuorumYet' || error.reason === 'confChangePending';
  if (error instanceof OutcomeUnknownError) return false;
  if (error instanceof RemoteError)
    return error.code === 'not_leader' || error.code === 'NOT_MEMBER' || error.code === 'retry';
  if (error instanceof ApiError) return false;
  const name = (error as Error | null)?.name;
  return name === 'PeerUnreachableError' || name === 'RpcTimeoutError';
}

/** Turn any error from a local or remote write into an ApiError with a stable code. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof RemoteError) {
    const code = (API_CODES as readonly string[]).includes(error.code) ? (error.code as ApiErrorCode) : 'internal';
    const message = error.message.replace(/^.*? failed \([^)]*\): /, '');
    return new ApiError(STATUS_OF[code], code, message, { cause: error });
  }
  if (error instanceof OutcomeUnknownError) return new ApiError(503, 'unavailable', error.message, { cause: error });
  if (error instanceof NotLeaderError || error instanceof RaftRefusedError)
    return new ApiError(503, 'unavailable', error.message, { cause: error });
  if (error instanceof Error && error.name === 'AbortError')
    return new ApiError(504, 'timeout', 'The request was cancelled', { cause: error });
  return new ApiError(500, 'internal', error instanceof Error ? error.message : String(error), { cause: error });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

export type { NodeId };
