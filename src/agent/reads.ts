/**
 * A linearizable read barrier for the admin API, retried through elections: a read (or the read
 * a write makes first, to resolve a name) during a leader change waits for the next leader
 * instead of failing with "not confirmed by a quorum" (issue 18: a `node label add` during a
 * leader cut failed that way).
 */
import type { RaftNode } from '../raft/driver/index.js';
import { sleep, toApiError } from './writes.js';

/** How long a read waits for a leader that can confirm it, across elections. */
export const READ_DEADLINE_MS = 10_000;
const RETRY_DELAY_MS = 100;

/** Resolves once `raft`'s state reflects every write committed before the call. */
export async function linearizableRead(raft: RaftNode, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + READ_DEADLINE_MS;
  for (;;) {
    try {
      return await raft.read({ signal });
    } catch (error) {
      signal?.throwIfAborted();
      if (Date.now() + RETRY_DELAY_MS >= deadline) throw toApiError(error);
      await sleep(RETRY_DELAY_MS, signal);
    }
  }
}
