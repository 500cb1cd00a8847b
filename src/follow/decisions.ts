/**
 * The pure decisions of the feed: how to catch a subscriber up, when to drop one that lags, and
 * which member an observer follows. No clock, no I/O: time and state come in as arguments.
 */
import type { NodeId } from '../raft/types.js';
import type { EntryRing } from './ring.js';

/**
 * How a source serves a subscriber that has applied up to `from`:
 * - `snapshot`: `from` is 0 or older than the ring covers: send a snapshot, then entries after it;
 * - `entries`: send the ring's entries after `from` (none yet when the subscriber is ahead of this
 *   member, which happens after a failover to a member that applies later: it waits for them).
 */
export type CatchUpPlan = { readonly kind: 'snapshot' } | { readonly kind: 'entries'; readonly after: number };

/**
 * @example
 * planCatchUp(0, ring); // { kind: 'snapshot' }: a fresh observer
 * planCatchUp(ring.last, ring); // { kind: 'entries', after: ring.last }: up to date, wait
 */
export function planCatchUp(from: number, ring: Pick<EntryRing, 'base' | 'last'>, known: boolean): CatchUpPlan {
  // `known`: the source has seen at least one applied entry or restore, so its ring means something.
  if (from === 0 || !known || from < ring.base) return { kind: 'snapshot' };
  return { kind: 'entries', after: from };
}

/** Why a subscriber is dropped, or null to keep it. */
export type LagVerdict = null | { readonly reason: 'evicted' | 'too-far'; readonly message: string };

/**
 * A subscriber is dropped when the entries it still needs left the ring, or when what waits for it
 * (unsent ring bytes plus the stream's own write buffer) is over `maxLagBytes`. Dropping is cheap
 * for both sides: it reconnects and catches up by snapshot, instead of the source buffering
 * without bound for a peer that cannot keep up.
 */
export function lagVerdict(input: {
  readonly sent: number;
  readonly ring: Pick<EntryRing, 'base' | 'last' | 'bytesAfter'>;
  readonly writeBuffered: number;
  readonly maxLagBytes: number;
}): LagVerdict {
  const { sent, ring, writeBuffered, maxLagBytes } = input;
  if (sent < ring.base) {
    return {
      reason: 'evicted',
      message: `subscriber at entry ${sent} fell behind the feed ring (it starts after ${ring.base}); resync by snapshot`,
    };
  }
  const pending = ring.bytesAfter(sent) + writeBuffered;
  if (pending > maxLagBytes) {
    return {
      reason: 'too-far',
      message: `subscriber at entry ${sent} has ${pending} bytes waiting, over the limit of ${maxLagBytes}; resync by snapshot`,
    };
  }
  return null;
}

/** cyrb53: a fast 53-bit string hash, good enough to spread observers over members. */
function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * Members in the order an observer tries them: rendezvous (highest random weight) hashing of the
 * observer's id over the members, so each observer has its own stable preference and the load
 * spreads evenly; when a member leaves, only its observers move. The leader comes last: it has
 * the most to do already. The observer itself is never a candidate.
 *
 * @example
 * rankSources('obs-1', ['a', 'b', 'c'], 'a'); // e.g. ['c', 'b', 'a']
 */
export function rankSources(self: NodeId, members: readonly NodeId[], leader: NodeId | null): NodeId[] {
  const unique = [...new Set(members)].filter((m) => m !== self);
  const score = new Map(unique.map((m) => [m, hash53(`${self}\n${m}`)]));
  return unique.sort(
    (a, b) =>
      Number(a === leader) - Number(b === leader) || score.get(b)! - score.get(a)! || (a < b ? -1 : a > b ? 1 : 0),
  );
}

/**
 * The member to follow next: the best-ranked one that has not failed within `retryAfterMs`; when
 * all have, the one that failed longest ago (someone must be tried). Null when there are none.
 */
export function chooseSource(input: {
  readonly self: NodeId;
  readonly members: readonly NodeId[];
  readonly leader: NodeId | null;
  /** When each member last failed as a source (clock ms). */
  readonly failedAt: ReadonlyMap<NodeId, number>;
  readonly now: number;
  readonly retryAfterMs: number;
}): NodeId | null {
  const ranked = rankSources(input.self, input.members, input.leader);
  const fresh = ranked.find((m) => {
    const at = input.failedAt.get(m);
    return at === undefined || input.now - at >= input.retryAfterMs;
  });
  if (fresh !== undefined) return fresh;
  let oldest: NodeId | null = null;
  for (const m of ranked) {
    if (oldest === null || input.failedAt.get(m)! < input.failedAt.get(oldest)!) oldest = m;
  }
  return oldest;
}
