/**
 * Every change to the cluster goes through here: a command or a membership change is proposed
 * on the leader, or forwarded to it over libp2p RPC, retrying through elections until a deadline.
 * The leader stamps the time into commands (apply never reads the clock).
 *
 * Write semantics (docs/ARCHITECTURE.md, "Write semantics"):
 * - every command carries a request id (`rid`, the API request's or a fresh one), which the state
 *   machine applies at most once; so a forwarded write whose answer was lost (its leader died,
 *   the stream broke) is simply sent again, to whichever node leads by then;
 * - a forwarded write is re-sent at once when leadership moves away from the node it was sent to,
 *   instead of waiting for its deadline;
 * - the answer comes once this node has applied the write's index, so a reply built from local
 *   state after a write through a follower shows the write;
 * - a write that ran out of time after an attempt that may have reached a leader fails with
 *   `outcome_unknown` (exit 5): sending it again with the same request id is safe.
 */
import { performance } from 'node:perf_hooks';
import { ApiError, type ApiErrorCode } from '../api/types.js';
import { nextWriteId } from '../api/request-scope.js';
import { ConnectionLostError, RemoteError } from '../p2p/index.js';
import { NotLeaderError, OutcomeUnknownError, RaftRefusedError, StoppedError } from '../raft/errors.js';
import type { RaftNode } from '../raft/driver/index.js';
import type { ConfChange, NodeId } from '../raft/types.js';
import { encodeCommand, validateCommand, type ApplyResult, type Command, type CommandInput } from '../state/index.js';
import type { RpcService } from '../p2p/index.js';
import { AppliedIndexTimeoutError, type AppliedIndex } from './applied-index.js';
import { ForwardBatcher, MAX_BATCH, type BatchAnswer } from './forward-batcher.js';

export type { CommandInput };

/** A command as it crosses RPC to the leader: the caller's input plus its request id. */
type ForwardedCommand = CommandInput & { readonly rid: string };

const DEFAULT_DEADLINE_MS = 10_000;
const RETRY_DELAY_MS = 50;
const API_CODES: readonly ApiErrorCode[] = [
  'bad_request',
  'unauthorized',
  'not_found',
  'conflict',
  'not_initialized',
  'unavailable',
  'outcome_unknown',
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
  outcome_unknown: 503,
  timeout: 504,
  internal: 500,
};

interface WriteOptions {
  readonly signal?: AbortSignal;
  readonly deadlineMs?: number;
  /** The write's request id; by default the API request's next one, or a fresh one. */
  readonly requestId?: string;
}

/** Where the writer learns that leadership moved (the cluster store). */
export interface LeaderChanges {
  on(event: 'leader:change', listener: (leader: NodeId | null) => void): unknown;
}

/**
 * What the writer uses: RPC to the leader, this node's id, its Raft node (while a Raft member),
 * the leader as this node knows it (Raft's, or the feed's on an observer), its applied index.
 */
export interface CommandWriterDeps {
  readonly rpc: RpcService;
  readonly selfId: NodeId;
  /** The Raft node, while this agent is a Raft member (the leader proposes through it). */
  readonly raft: () => RaftNode | null;
  /** This agent belongs to a cluster (as a Raft member or an observer). */
  readonly joined: () => boolean;
  readonly leader: () => NodeId | null;
  readonly leaderChanges: LeaderChanges;
  readonly applied: AppliedIndex;
  /** Told how long each proposal made here took, from propose to applied (the proposal latency metric). */
  readonly onProposed?: (seconds: number) => void;
}

export class CommandWriter {
  readonly #deps: CommandWriterDeps;
  readonly #applied: AppliedIndex;
  /** Forwarded proposals, batched per leader (forward-batcher.ts). */
  readonly #batcher: ForwardBatcher;
  /** Idempotent writes forwarded to a leader and not answered yet. */
  readonly #forwarded = new Set<{ readonly leader: NodeId; readonly moved: AbortController }>();

  constructor(deps: CommandWriterDeps) {
    this.#deps = deps;
    this.#applied = deps.applied;
    this.#watchLeader();
    this.#batcher = new ForwardBatcher({
      method: 'cluster.propose',
      send: async (leader, items, signal) =>
        (await this.#deps.rpc.call(leader, 'cluster.proposeBatch', items, {
          signal,
          timeoutMs: DEFAULT_DEADLINE_MS,
        })) as BatchAnswer[],
    });
  }

  /** Serve forwarded writes (members only). */
  register(): void {
    const rpc = this.#deps.rpc;
    rpc.handle('cluster.propose', (payload, { signal }) =>
      withRemoteCodes(this.#proposeHere(payload as ForwardedCommand, signal)),
    );
    rpc.handle('cluster.proposeBatch', async (payload, { signal }) => {
      if (!Array.isArray(payload) || payload.length > MAX_BATCH)
        throw Object.assign(new Error(`cluster.proposeBatch: expected a list of at most ${MAX_BATCH} commands`), {
          code: 'bad_request',
        });
      const settled = await Promise.allSettled(
        payload.map((item) => withRemoteCodes(this.#proposeHere(item as ForwardedCommand, signal))),
      );
      return settled.map((s): BatchAnswer => {
        if (s.status === 'fulfilled') return { ok: true, value: s.value };
        const error = s.reason as { code?: unknown; message?: unknown };
        return {
          ok: false,
          code: typeof error.code === 'string' ? error.code : 'internal',
          message: typeof error.message === 'string' ? error.message : String(s.reason),
        };
      });
    });
    rpc.handle('cluster.confChange', (payload, { signal }) =>
      withRemoteCodes(this.#changeHere(payload as ConfChange, signal)),
    );
  }

  /**
   * Propose `command` through the leader; resolves with the apply result once this node has
   * applied it, throws ApiError when refused (or `outcome_unknown` when time ran out after an
   * attempt that may have been applied).
   */
  async submit(command: CommandInput, options: WriteOptions = {}): Promise<ApplyResult & { ok: true }> {
    const forwarded: ForwardedCommand = { ...command, rid: options.requestId ?? nextWriteId() };
    const deadline = Date.now() + (options.deadlineMs ?? DEFAULT_DEADLINE_MS);
    const result = (await this.viaLeader(
      'cluster.propose',
      forwarded,
      (signal) => this.#proposeHere(forwarded, signal),
      { ...options, deadlineMs: deadline - Date.now(), idempotent: true },
    )) as ApplyResult;
    if (!result.ok) {
      throw new ApiError(
        result.reason === 'refused' ? 409 : 400,
        result.reason === 'refused' ? 'conflict' : 'bad_request',
        result.error,
      );
    }
    try {
      await this.#applied.reach(result.index, { signal: options.signal, deadline });
    } catch (error) {
      if (error instanceof AppliedIndexTimeoutError) throw new ApiError(504, 'timeout', error.message);
      throw error;
    }
    return result;
  }

  /** Make a membership change through the leader. */
  async changeMembership(change: ConfChange, options: WriteOptions = {}): Promise<void> {
    await this.viaLeader('cluster.confChange', change, (signal) => this.#changeHere(change, signal), options);
  }

  /** Serve `method` for followers that forward it here; the handler runs only while this node leads. */
  handleOnLeader(method: string, handler: (payload: unknown, signal?: AbortSignal) => Promise<unknown>): void {
    this.#deps.rpc.handle(method, (payload, { signal }) =>
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
   * changes until the deadline. An `idempotent` payload (a command with its request id) is also
   * sent again after a failure that may have reached the leader, and re-sent at once when
   * leadership moves away from the node it was sent to.
   */
  async viaLeader(
    method: string,
    payload: unknown,
    here: (signal?: AbortSignal) => Promise<unknown>,
    options: WriteOptions & { readonly idempotent?: boolean },
  ): Promise<unknown> {
    const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const deadline = Date.now() + deadlineMs;
    let lastError: unknown = null;
    let maybeApplied = false;
    while (Date.now() < deadline) {
      options.signal?.throwIfAborted();
      if (!this.#deps.joined())
        throw new ApiError(
          409,
          'not_initialized',
          'This agent is not part of a cluster yet: run `shoal init` to create one or `shoal join` to join one',
        );
      const leader = this.#deps.leader();
      try {
        if (leader === this.#deps.selfId) return await here(options.signal);
        if (leader) {
          return await this.#callLeader(leader, method, payload, deadline, options);
        }
      } catch (error) {
        const ambiguous = options.idempotent === true && mayHaveReachedLeader(error);
        if (!ambiguous && !isRetryable(error)) throw toApiError(error);
        maybeApplied ||= ambiguous;
        lastError = error;
      }
      await sleep(RETRY_DELAY_MS, options.signal);
    }
    if (maybeApplied) {
      throw new ApiError(
        503,
        'outcome_unknown',
        `The write may or may not have been applied: no leader confirmed it within ${deadlineMs} ms (last: ${describe(lastError)}). ` +
          'Sending the same request again is safe: it is applied at most once (the CLI retries with its request id)',
        { cause: lastError },
      );
    }
    throw new ApiError(
      503,
      'unavailable',
      `No leader accepted the request within ${deadlineMs} ms: the cluster may have lost its quorum (check \`shoal status\`)`,
      {
        cause: lastError,
      },
    );
  }

  /** One forwarded call, cut short when leadership moves away from `leader` (an idempotent one is then re-sent). */
  async #callLeader(
    leader: NodeId,
    method: string,
    payload: unknown,
    deadline: number,
    options: WriteOptions & { readonly idempotent?: boolean },
  ): Promise<unknown> {
    const moved = new AbortController();
    const forwarded = { leader, moved };
    if (options.idempotent === true) this.#forwarded.add(forwarded);
    try {
      const signal = options.signal ? AbortSignal.any([options.signal, moved.signal]) : moved.signal;
      // proposals go in batches; other calls (and non-idempotent ones) one by one
      if (method === 'cluster.propose' && options.idempotent === true) {
        const timeout = AbortSignal.timeout(Math.max(100, deadline - Date.now()));
        return await this.#batcher.forward(leader, payload, AbortSignal.any([signal, timeout]));
      }
      return await this.#deps.rpc.call(leader, method, payload, {
        signal,
        timeoutMs: Math.max(100, deadline - Date.now()),
      });
    } catch (error) {
      if (moved.signal.aborted && options.signal?.aborted !== true) throw moved.signal.reason;
      throw error;
    } finally {
      this.#forwarded.delete(forwarded);
    }
  }

  /**
   * One leader-change listener for all forwarded writes (not one each: hundreds in flight would
   * be hundreds of listeners): the writes sent to a node that no longer leads are abandoned.
   */
  #watchLeader(): void {
    this.#deps.leaderChanges.on('leader:change', (next: NodeId | null) => {
      const gone = new Map<NodeId, LeaderMovedError>();
      for (const { leader, moved } of this.#forwarded) {
        if (leader === next) continue;
        const reason = gone.get(leader) ?? new LeaderMovedError(leader, next);
        gone.set(leader, reason);
        moved.abort(reason);
      }
      for (const [leader, reason] of gone) this.#batcher.abandon(leader, reason);
    });
  }

  async #proposeHere(input: ForwardedCommand, signal?: AbortSignal): Promise<ApplyResult> {
    const raft = this.#requireLeaderRaft();
    let command: Command;
    try {
      command = validateCommand({ ...input, v: 1, at: Date.now() });
    } catch (error) {
      throw new ApiError(400, 'bad_request', (error as Error).message);
    }
    const started = performance.now();
    const result = (await raft.propose(encodeCommand(command), { signal })) as ApplyResult;
    this.#deps.onProposed?.((performance.now() - started) / 1000);
    return result;
  }

  async #changeHere(change: ConfChange, signal?: AbortSignal): Promise<null> {
    const raft = this.#requireLeaderRaft();
    await raft.changeMembership(change, { signal });
    return null;
  }

  #requireLeaderRaft() {
    const raft = this.#deps.raft();
    if (!raft || raft.leader !== this.#deps.selfId)
      throw Object.assign(new NotLeaderError(raft?.leader ?? null), { code: 'not_leader' });
    return raft;
  }
}

/** Leadership moved away from the node a forwarded write was sent to. */
class LeaderMovedError extends Error {
  override readonly name = 'LeaderMovedError';
  constructor(from: NodeId, to: NodeId | null) {
    super(`leadership moved from ${from} to ${to ?? 'nobody yet'} while the write was forwarded`);
  }
}

/**
 * Give errors crossing RPC a `code` the caller understands: 'retry' for what a retry may cure,
 * 'outcome_unknown' for a proposal whose leader lost leadership before it committed.
 */
async function withRemoteCodes<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (error instanceof OutcomeUnknownError)
      throw Object.assign(new Error(error.message), { code: 'outcome_unknown' });
    if (isRetryable(error)) throw Object.assign(new Error((error as Error).message), { code: 'retry' });
    throw toApiError(error);
  }
}

/**
 * A failure after which the write may have been applied: the leader lost leadership after
 * proposing it, or the call to the leader broke or timed out after it was sent.
 */
function mayHaveReachedLeader(error: unknown): boolean {
  if (error instanceof OutcomeUnknownError || error instanceof LeaderMovedError) return true;
  if (error instanceof RemoteError) return error.code === 'outcome_unknown';
  const name = (error as Error | null)?.name;
  return (
    name === 'MalformedFrameError' ||
    name === 'ConnectionLostError' ||
    name === 'RpcTimeoutError' ||
    name === 'TimeoutError' ||
    name === 'PeerUnreachableError'
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
  if (error instanceof OutcomeUnknownError)
    return new ApiError(503, 'outcome_unknown', error.message, { cause: error });
  if (error instanceof NotLeaderError || error instanceof RaftRefusedError || error instanceof ConnectionLostError)
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
