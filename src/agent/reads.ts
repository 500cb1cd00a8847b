/**
 * A linearizable read barrier for the admin API, retried through elections: a read (or the read
 * a write makes first, to resolve a name) during a leader change waits for the next leader
 * instead of failing with "not confirmed by a quorum" (issue 18: a `node label add` during a
 * leader cut failed that way). On an observer the same loop retries until the feed names a
 * leader that can serve a read index.
 */
import { sleep, toApiError } from './writes.js';

/** How long a read waits for a leader that can confirm it, across elections. */
export const READ_DEADLINE_MS = 10_000;
const RETRY_DELAY_MS = 100;

/**
 * Resolves once the local state reflects every write committed before the call. `barrier` is
 * one attempt: Raft's ReadIndex on a member, the leader's read index on an observer.
 */
export async function linearizableRead(
  barrier: (signal?: AbortSignal) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + READ_DEADLINE_MS;
  for (;;) {
    try {
      return await barrier(signal);
    } catch (error) {
      signal?.throwIfAborted();
      if (Date.now() + RETRY_DELAY_MS >= deadline) throw toApiError(error);
      await sleep(RETRY_DELAY_MS, signal);
    }
  }
}
