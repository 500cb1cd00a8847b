/**
 * A key-value state machine for Raft tests: cbor commands `{ op: 'put', key, value, id }`.
 *
 * `apply` returns the previous value of the key. Commands carry a client-chosen `id` and the
 * machine remembers every id it applied with its result, so a client that retries a put whose
 * outcome it did not learn (leader change, timeout) gets the first result back instead of a
 * second write: retries stay linearizable.
 */
import { decode, encode } from 'cbor-x';
import type { StateMachine } from '../../src/raft/interfaces.js';
import { EntryType, type Entry } from '../../src/raft/types.js';

/** A put command. */
export interface KvPut {
  readonly op: 'put';
  readonly key: string;
  readonly value: string;
  /** Unique per logical operation; retries reuse it. */
  readonly id: string;
}

/** Encode a put for `RaftNode.propose`. */
export function encodePut(put: Omit<KvPut, 'op'>): Uint8Array {
  return encode({ op: 'put', key: put.key, value: put.value, id: put.id } satisfies KvPut);
}

/** The command in an entry was not a KV command. */
export class KvCommandError extends Error {
  override readonly name = 'KvCommandError';
  constructor(
    readonly index: number,
    detail: string,
  ) {
    super(`Cannot apply entry ${index} to the KV state machine as ${detail}: propose commands made by encodePut()`);
  }
}

interface KvSnapshot {
  readonly data: [string, string][];
  readonly ids: [string, string | null][];
}

/**
 * The KV state machine.
 *
 * @example
 * ```ts
 * const kv = new KvStateMachine();
 * kv.apply({ index: 1, term: 1, type: 0, data: encodePut({ key: 'a', value: '1', id: 'c1' }) }); // null
 * kv.get('a'); // '1'
 * ```
 */
export class KvStateMachine implements StateMachine<string | null> {
  #data = new Map<string, string>();
  /** id -> the result it got the first time. */
  #ids = new Map<string, string | null>();
  #applied = 0;

  apply(entry: Entry): string | null {
    this.#applied = entry.index;
    if (entry.type !== EntryType.Normal || entry.data.length === 0) return null;
    let command: unknown;
    try {
      command = decode(entry.data);
    } catch (error) {
      throw new KvCommandError(entry.index, `its data is not cbor (${(error as Error).message})`);
    }
    const put = command as Partial<KvPut> | null;
    if (
      !put ||
      put.op !== 'put' ||
      typeof put.key !== 'string' ||
      typeof put.value !== 'string' ||
      typeof put.id !== 'string'
    ) {
      throw new KvCommandError(
        entry.index,
        `its command is not {op:'put', key, value, id}: got ${JSON.stringify(command)}`,
      );
    }
    if (this.#ids.has(put.id)) return this.#ids.get(put.id)!;
    const previous = this.#data.get(put.key) ?? null;
    this.#data.set(put.key, put.value);
    this.#ids.set(put.id, previous);
    return previous;
  }

  /** The current value of `key`, or null. Read after `RaftNode.read()` for a linearizable get. */
  get(key: string): string | null {
    return this.#data.get(key) ?? null;
  }

  /** Index of the last applied entry (as far as this machine was told). */
  get applied(): number {
    return this.#applied;
  }

  snapshot(): Uint8Array {
    const snap: KvSnapshot = { data: [...this.#data], ids: [...this.#ids] };
    return encode(snap);
  }

  restore(data: Uint8Array, index: number): void {
    const snap = decode(data) as KvSnapshot;
    this.#data = new Map(snap.data);
    this.#ids = new Map(snap.ids);
    this.#applied = index;
  }
}
