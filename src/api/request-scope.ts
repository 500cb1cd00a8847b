/**
 * The client's request id for the writes an admin API request makes. The CLI sends it in the
 * `x-shoal-request-id` header and sends it again when it retries a write whose outcome it does
 * not know; each command the request proposes carries `<id>:<n>` (its n-th write), so a retry
 * proposes the same ids in the same order and the state machine applies each at most once.
 *
 * This is the one implicit context in the agent, on purpose: it is request-scoped data, like a
 * trace id, that every write path must carry without every API method growing a parameter (and
 * without a new route being able to forget it). It holds an id and a counter, never a component.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export { CLIENT_REQUEST_ID, REQUEST_ID_HEADER } from './types.js';

interface Scope {
  readonly id: string;
  writes: number;
}

const storage = new AsyncLocalStorage<Scope>();

/** Run `work` as the request `id`: its writes get ids `<id>:1`, `<id>:2`, … in the order made. */
export function withRequestId<T>(id: string, work: () => T): T {
  return storage.run({ id, writes: 0 }, work);
}

/** The id for the next write: of the current API request when there is one, else a fresh one. */
export function nextWriteId(): string {
  const scope = storage.getStore();
  if (scope === undefined) return randomUUID();
  scope.writes += 1;
  return `${scope.id}:${scope.writes}`;
}
