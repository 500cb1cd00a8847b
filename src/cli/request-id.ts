/**
 * Request ids of the CLI's writes. The admin API applies a write with a given id at most once
 * (`src/api/request-scope.ts`), so the CLI sends the same id again when a write's outcome is
 * unknown. Imports only the import-free API types: both ways of calling the agent load this.
 * @module
 */

export { REQUEST_ID_HEADER } from '../api/types.js';

/** How often a write whose outcome is unknown is sent again, with the same request id. */
export const UNKNOWN_OUTCOME_RETRIES = 2;

/** A fresh request id: 16 random bytes in hex (the form the API accepts). */
export function newRequestId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
