/**
 * What an observer runs instead of a Raft node (docs/ARCHITECTURE.md, "100 nodes"): it follows
 * the state through the feed of one member (src/follow/feed-follower.ts), tells the leader once a
 * second that it is alive (presence), and reads linearizably by asking the leader for a read
 * index. Writes are forwarded to the leader by the CommandWriter as on any follower.
 */
import { EventEmitter } from 'node:events';
import type { Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import { FeedFollower, observerRead, PresenceSender, type FollowedStateMachine } from '../follow/index.js';
import type { RpcService } from '../p2p/index.js';
import type { Clock } from '../raft/driver/index.js';
import type { ConfState, NodeId } from '../raft/types.js';

/** Opens a stream for a protocol to a peer (the agent dials with the peer's known addresses). */
export type OpenStream = (
  peerId: NodeId,
  protocol: string,
  options: { readonly signal: AbortSignal },
) => Promise<Stream>;

export interface ObserverLinkDeps {
  readonly selfId: NodeId;
  readonly stateMachine: FollowedStateMachine;
  /** The index the state machine has applied (the feed asks for what follows). */
  readonly applied: number;
  readonly open: OpenStream;
  /** Raft members to try until a feed frame names the configuration. */
  readonly members: () => readonly NodeId[];
  readonly rpc: Pick<RpcService, 'call'>;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface ObserverLinkEvents {
  'leader:change': [leader: NodeId | null];
  'conf:change': [conf: ConfState];
}

export class ObserverLink extends EventEmitter<ObserverLinkEvents> {
  readonly #follower: FeedFollower;
  readonly #presence: PresenceSender;
  readonly #rpc: Pick<RpcService, 'call'>;

  constructor(deps: ObserverLinkDeps) {
    super();
    const logger = deps.log.child({ component: 'observer' });
    this.#rpc = deps.rpc;
    this.#follower = new FeedFollower(
      {
        selfId: deps.selfId,
        open: deps.open,
        members: deps.members,
        stateMachine: deps.stateMachine,
        clock: deps.clock,
        logger,
      },
      { applied: deps.applied },
    );
    this.#presence = new PresenceSender({
      leader: () => this.#follower.leader,
      appliedIndex: () => this.#follower.appliedIndex,
      open: deps.open,
      clock: deps.clock,
      logger,
    });
    this.#follower.on('leader:change', (leader) => {
      // Tell a new leader at once: its membership policy only picks observers it has heard from.
      void this.#presence.beat();
      this.emit('leader:change', leader);
    });
    this.#follower.on('conf:change', (conf) => this.emit('conf:change', conf));
  }

  get leader(): NodeId | null {
    return this.#follower.leader;
  }

  get conf(): ConfState {
    return this.#follower.conf;
  }

  get appliedIndex(): number {
    return this.#follower.appliedIndex;
  }

  start(): void {
    this.#follower.start();
    this.#presence.start();
  }

  async stop(): Promise<void> {
    this.#presence.stop();
    await this.#follower.stop();
  }

  /** One linearizable read barrier: the leader's read index, applied here. Not retried. */
  async read(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    await observerRead(
      {
        rpc: this.#rpc,
        leader: () => this.#follower.leader,
        waitForApplied: (index, o) => this.#follower.waitForApplied(index, o),
      },
      options,
    );
  }
}
