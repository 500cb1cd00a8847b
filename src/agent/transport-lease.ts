/**
 * The agent's one Raft transport, lent to each Raft node it runs in turn. A node that leaves the
 * Raft configuration (it becomes an observer) stops its Raft node and may start a new one when it
 * is made a learner again; the libp2p transport cannot be restarted once stopped, so the Raft
 * node stops its lease instead and the agent stops the transport itself, last.
 */
import type { RaftTransport } from '../raft/interfaces.js';
import type { Message, NodeId } from '../raft/types.js';

/** What a Raft node sees of the shared transport: `stop` only ends its lease. */
export class TransportLease implements RaftTransport {
  readonly #shared: RaftTransport;
  #ended = false;

  constructor(shared: RaftTransport) {
    this.#shared = shared;
  }

  send(messages: readonly Message[]): void {
    if (!this.#ended) this.#shared.send(messages);
  }

  onMessage(handler: (message: Message) => void): void {
    this.#shared.onMessage((message) => {
      if (!this.#ended) handler(message);
    });
  }

  onUnreachable(handler: (peer: NodeId) => void): void {
    this.#shared.onUnreachable?.((peer) => {
      if (!this.#ended) handler(peer);
    });
  }

  /** Starts the shared transport the first time (idempotent there). */
  async start(): Promise<void> {
    await this.#shared.start();
  }

  /** Ends this lease: messages no longer reach the Raft node that held it. */
  async stop(): Promise<void> {
    this.#ended = true;
  }
}
