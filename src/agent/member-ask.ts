/**
 * Asking a Raft member for something only members can answer (a task's secrets, its registry
 * credentials): the leader first (it holds the data key, and its state is the newest), then any
 * voter or learner, this node itself answering locally when it is one. A refusal ends the search:
 * every member would refuse alike.
 * @module
 */
import { RemoteError, type RpcService } from '../p2p/index.js';
import type { ClusterStore } from './cluster-store.js';

const CALL_MS = 5_000;

/**
 * A member's refusal (the caller is not entitled to the answer): thrown by handlers, its `code`
 * travels with the RPC error, and {@link askMembers} throws it back without asking another member.
 */
export class MemberRefusedError extends Error {
  override readonly name = 'MemberRefusedError';
  readonly code = 'REFUSED';
}

export interface AskMembersDeps {
  readonly selfId: string;
  readonly store: Pick<ClusterStore, 'leader' | 'conf'>;
  readonly rpc: Pick<RpcService, 'call'>;
}

/**
 * The first member's answer to `method` with `payload`; `local` answers when this node is the
 * member asked.
 * @throws {MemberRefusedError} when a member refused, with its reason.
 * @throws {Error} naming each member's failure when none answered (the caller may retry later).
 * @example await askMembers(deps, 'secrets.forTask', { taskId }, () => answer(taskId, selfId), { what: 'the secrets of task t1' })
 */
export async function askMembers<T>(
  deps: AskMembersDeps,
  method: string,
  payload: unknown,
  local: () => Promise<T>,
  options: { readonly what: string; readonly signal?: AbortSignal | undefined },
): Promise<T> {
  const { store, selfId, rpc } = deps;
  const peers = [...new Set([...(store.leader ? [store.leader] : []), ...store.conf.voters, ...store.conf.learners])];
  const failures: string[] = [];
  for (const peer of peers) {
    try {
      if (peer === selfId) return await local();
      return (await rpc.call(peer, method, payload, { signal: options.signal, timeoutMs: CALL_MS })) as T;
    } catch (error) {
      if (error instanceof MemberRefusedError) throw error;
      if (error instanceof RemoteError && error.code === 'REFUSED')
        throw new MemberRefusedError(error.message.replace(/^.*?failed \(REFUSED\): /, ''), { cause: error });
      failures.push(`${peer.slice(-12)}: ${(error as Error).message}`);
    }
  }
  throw new Error(`Cannot get ${options.what} from any member (${failures.join('; ') || 'none known'})`);
}
