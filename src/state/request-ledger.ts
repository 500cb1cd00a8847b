/**
 * Client sessions, small (Raft thesis §6.3): every write carries a request id (`rid`), and the
 * state machine remembers what applying it gave. A command whose rid was applied already is not
 * applied again; the proposer gets the first outcome. So a write whose outcome was unknown (its
 * leader died after it was forwarded, the client lost the answer) can be sent again, to any
 * leader, and is still applied at most once.
 *
 * The ledger is part of the replicated state (it is in the snapshot) and changes only on apply,
 * with the leader-stamped time of the commands: every peer keeps and forgets the same ids.
 * Ids are kept for {@link REQUEST_TTL_MS} of leader time and at most {@link MAX_REQUESTS} of
 * them; a retry comes within seconds, not minutes.
 * @module
 */
import { FieldIssue, fail, integer, isPlainObject, object, show } from './check.js';

/** How long a request id is remembered (leader time). */
export const REQUEST_TTL_MS = 10 * 60_000;
/** How many request ids are remembered at most (the oldest go first). */
export const MAX_REQUESTS = 50_000;
/** What a request id looks like: what a UUID or a CLI-made id with a counter suffix needs. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$/;

/** The outcome of the first apply of a request id, as given back to a retry. */
export type RecordedOutcome =
  | { readonly ok: true; readonly index: number; readonly type: string; readonly jobId?: string }
  | { readonly ok: false; readonly index: number; readonly error: string };

interface LedgerEntry {
  readonly at: number;
  readonly outcome: RecordedOutcome;
}

/** Check a request id from a command or an API header; throws FieldIssue. */
export function checkRequestId(value: unknown, path: string): string {
  if (typeof value !== 'string' || !REQUEST_ID_PATTERN.test(value)) {
    fail(path, `expected a request id (1-80 of A-Z a-z 0-9 . _ : -), got ${show(value)}`);
  }
  return value;
}

export class RequestLedger {
  /** Insertion order is apply order, so the oldest ids are at the front. */
  readonly #entries = new Map<string, LedgerEntry>();

  get size(): number {
    return this.#entries.size;
  }

  /** The first outcome of `rid`, if it was applied and is still remembered. */
  lookup(rid: string): RecordedOutcome | undefined {
    return this.#entries.get(rid)?.outcome;
  }

  /** Remember `rid`'s outcome, applied at leader time `at`, and forget what is too old. */
  record(rid: string, at: number, outcome: RecordedOutcome): void {
    this.#entries.set(rid, { at, outcome });
    this.forgetBefore(at - REQUEST_TTL_MS);
    while (this.#entries.size > MAX_REQUESTS) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** Forget ids applied before `time` (from the front: apply order follows leader time closely enough). */
  forgetBefore(time: number): void {
    for (const [rid, entry] of this.#entries) {
      if (entry.at >= time) return;
      this.#entries.delete(rid);
    }
  }

  /** Plain data for the snapshot, oldest first. */
  toSnapshot(): [string, number, RecordedOutcome][] {
    return [...this.#entries].map(([rid, entry]) => [rid, entry.at, entry.outcome]);
  }

  /** Rebuild from {@link toSnapshot}'s data; throws FieldIssue naming what is wrong. */
  static fromSnapshot(value: unknown, path: string): RequestLedger {
    const ledger = new RequestLedger();
    if (!Array.isArray(value)) fail(path, `expected a list, got ${show(value)}`);
    if (value.length > MAX_REQUESTS) fail(path, `expected at most ${MAX_REQUESTS} request ids, got ${value.length}`);
    value.forEach((item: unknown, i) => {
      const where = `${path}[${i}]`;
      if (!Array.isArray(item) || item.length !== 3) fail(where, 'expected [requestId, at, outcome]');
      const rid = checkRequestId(item[0], `${where}[0]`);
      const at = integer(item[1], `${where}[1]`, 0);
      ledger.#entries.set(rid, { at, outcome: checkOutcome(item[2], `${where}[2]`) });
    });
    return ledger;
  }
}

function checkOutcome(value: unknown, path: string): RecordedOutcome {
  if (!isPlainObject(value)) fail(path, `expected an object, got ${show(value)}`);
  const index = integer(value.index, `${path}.index`, 0);
  if (value.ok === true) {
    const o = object(value, path, ['ok', 'index', 'type', 'jobId'], ['ok', 'index', 'type']);
    if (typeof o.type !== 'string') fail(`${path}.type`, `expected a command type, got ${show(o.type)}`);
    if (o.jobId !== undefined && typeof o.jobId !== 'string') fail(`${path}.jobId`, `expected a string`);
    return { ok: true, index, type: o.type, ...(o.jobId !== undefined ? { jobId: o.jobId as string } : {}) };
  }
  if (value.ok === false) {
    const o = object(value, path, ['ok', 'index', 'error']);
    if (typeof o.error !== 'string') fail(`${path}.error`, `expected a string, got ${show(o.error)}`);
    return { ok: false, index, error: o.error };
  }
  throw new FieldIssue(`${path}.ok`, `expected true or false, got ${show(value.ok)}`);
}
