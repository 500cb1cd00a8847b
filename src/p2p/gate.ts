/**
 * Who may talk to this node. The host's connection gater refuses revoked peers outright;
 * cluster protocol handlers additionally refuse peers that are not members. Non-members may
 * still connect, because a joining node has to reach the join RPC before it is a member.
 */

/** The membership view the p2p layer consults on every connection and stream. Must be cheap and synchronous. */
export interface MemberGate {
  /** True when `peerId` is a current cluster member (voter, learner or worker). */
  isMember(peerId: string): boolean;
  /** True when `peerId` was removed from the cluster: it may not even connect. */
  isRevoked(peerId: string): boolean;
}

/** A gate that admits everyone: for a node that has not joined or created a cluster yet, and for tests. */
export const openGate: MemberGate = Object.freeze({
  isMember: () => true,
  isRevoked: () => false,
});

/** True when `peerId` may use member-only protocols. */
export function admits(gate: MemberGate, peerId: string): boolean {
  return gate.isMember(peerId) && !gate.isRevoked(peerId);
}

/**
 * A mutable in-memory gate. shoal's state machine owns the real member list; it can update one
 * of these on every applied membership change.
 *
 * @example
 * const gate = new MemberSet(['12D3KooA', '12D3KooB']);
 * gate.revoke('12D3KooB'); // removed node: no longer a member, and refused at connect
 */
export class MemberSet implements MemberGate {
  readonly #members = new Set<string>();
  readonly #revoked = new Set<string>();

  constructor(members: Iterable<string> = [], revoked: Iterable<string> = []) {
    for (const m of members) this.#members.add(m);
    for (const r of revoked) this.revoke(r);
  }

  isMember(peerId: string): boolean {
    return this.#members.has(peerId);
  }

  isRevoked(peerId: string): boolean {
    return this.#revoked.has(peerId);
  }

  /** Admit a peer (and lift a revocation: a removed node that is re-admitted by an admin). */
  add(peerId: string): void {
    this.#revoked.delete(peerId);
    this.#members.add(peerId);
  }

  /** Forget a member without revoking it (it may connect and join again). */
  delete(peerId: string): void {
    this.#members.delete(peerId);
  }

  /** Remove a member and refuse its connections from now on. */
  revoke(peerId: string): void {
    this.#members.delete(peerId);
    this.#revoked.add(peerId);
  }

  /** Current members, for diagnostics. */
  members(): string[] {
    return [...this.#members];
  }
}
