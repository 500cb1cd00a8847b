/**
 * Pending ReadIndex requests on a leader (thesis §6.4, etcd's `readOnly`). Each request records
 * the commit index when it arrived and waits for a heartbeat round carrying its context to be
 * acknowledged by a majority; then it and every request before it can be served.
 * No Raft types: requesters and ackers are plain ids.
 */

export interface ReadRequest {
  readonly context: Uint8Array;
  readonly index: number;
  /** Who asked: the leader itself or a follower that forwarded the request. */
  readonly requesters: string[];
  readonly acks: Set<string>;
}

function keyOf(context: Uint8Array): string {
  let s = '';
  for (const b of context) s += b.toString(16).padStart(2, '0');
  return s;
}

export class ReadOnlyQueue {
  #pending = new Map<string, ReadRequest>();
  #queue: string[] = [];

  /** Queues a request; a second request with the same context joins the first. */
  add(context: Uint8Array, index: number, requester: string, self: string): void {
    const key = keyOf(context);
    const existing = this.#pending.get(key);
    if (existing) {
      existing.requesters.push(requester);
      return;
    }
    this.#pending.set(key, { context, index, requesters: [requester], acks: new Set([self]) });
    this.#queue.push(key);
  }

  /** Records `from`'s heartbeat acknowledgement; returns the acks so far, or undefined if unknown. */
  recvAck(from: string, context: Uint8Array): ReadonlySet<string> | undefined {
    const req = this.#pending.get(keyOf(context));
    if (!req) return undefined;
    req.acks.add(from);
    return req.acks;
  }

  /** Removes and returns the request with `context` and every request queued before it. */
  advance(context: Uint8Array): ReadRequest[] {
    const key = keyOf(context);
    const at = this.#queue.indexOf(key);
    if (at < 0) return [];
    const keys = this.#queue.splice(0, at + 1);
    return keys.map((k) => {
      const req = this.#pending.get(k)!;
      this.#pending.delete(k);
      return req;
    });
  }

  /** Removes and returns everything (leadership lost: the requests cannot be served). */
  drain(): ReadRequest[] {
    const all = this.#queue.map((k) => this.#pending.get(k)!);
    this.#pending.clear();
    this.#queue = [];
    return all;
  }

  /** The context of the newest pending request, to piggyback on heartbeats. */
  lastContext(): Uint8Array | undefined {
    const key = this.#queue[this.#queue.length - 1];
    return key === undefined ? undefined : this.#pending.get(key)!.context;
  }

  size(): number {
    return this.#queue.length;
  }
}
