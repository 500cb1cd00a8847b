/**
 * Linearizable reads on an observer (Raft thesis §6.4, served for a non-member): the observer
 * asks the leader for a read index over the RPC service, then waits until its own feed has
 * applied that index. Every write committed before the read started is then in its state.
 */
import type { RpcContext, RpcHandler, RpcService } from '../p2p/rpc.js';
import type { NodeId } from '../raft/types.js';
import { FeedProtocolError, NoLeaderError } from './errors.js';
import { READ_INDEX_METHOD } from './wire.js';

export { READ_INDEX_METHOD } from './wire.js';

export interface ReadIndexHandlerDeps {
  /**
   * A read index confirmed by a quorum: every entry committed before the call is at or below
   * it. On the shoal leader: `await raft.read({ signal }); return raft.applied;` (the applied
   * index after the barrier is at or above the read index, and all of it is committed).
   * Throws when this node cannot serve it (not the leader, no quorum).
   */
  readonly readIndex: (options: { readonly signal: AbortSignal }) => Promise<number>;
}

/**
 * The leader's handler of {@link READ_INDEX_METHOD}; register it with `rpc.handle`.
 *
 * @example
 * rpc.handle(READ_INDEX_METHOD, readIndexHandler({ readIndex: async ({ signal }) => {
 *   await raft.read({ signal });
 *   return raft.applied;
 * } }));
 */
export function readIndexHandler(deps: ReadIndexHandlerDeps): RpcHandler {
  return async (payload: unknown, context: RpcContext) => {
    if (payload !== null && payload !== undefined) {
      throw new FeedProtocolError('Cannot serve a read index: the request carries no payload, got one');
    }
    const index = await deps.readIndex({ signal: context.signal });
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new RangeError(`Cannot answer read index ${index}: expected an integer >= 0`);
    }
    return { index };
  };
}

export interface ObserverReadDeps {
  readonly rpc: Pick<RpcService, 'call'>;
  /** The leader (the feed follower's `leader`). */
  readonly leader: () => NodeId | null;
  /** Resolves once the observer applied `index` (the feed follower's `waitForApplied`). */
  readonly waitForApplied: (index: number, options: { readonly signal?: AbortSignal }) => Promise<void>;
}

/**
 * A read barrier on an observer: resolves with the read index once the local state has applied
 * it. The caller retries through elections as it does for members (src/agent/reads.ts).
 *
 * @throws NoLeaderError when no leader is known; the RPC's errors (`RemoteError`,
 * `RpcTimeoutError`, `PeerUnreachableError`) when the leader cannot serve it;
 * FeedProtocolError when the answer is not a read index.
 */
export async function observerRead(
  deps: ObserverReadDeps,
  options: { readonly signal?: AbortSignal; readonly timeoutMs?: number } = {},
): Promise<number> {
  const leader = deps.leader();
  if (leader === null) throw new NoLeaderError();
  const answer = await deps.rpc.call(leader, READ_INDEX_METHOD, null, {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const index = parseReadIndexAnswer(answer, leader);
  await deps.waitForApplied(index, options.signal === undefined ? {} : { signal: options.signal });
  return index;
}

function parseReadIndexAnswer(answer: unknown, leader: NodeId): number {
  const index =
    typeof answer === 'object' && answer !== null && Object.hasOwn(answer, 'index') && 'index' in answer
      ? answer.index
      : undefined;
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
    throw new FeedProtocolError(
      `Cannot use the read index from ${leader}: expected { index: integer >= 0 }, got ${JSON.stringify(answer)}`,
    );
  }
  return index;
}
