/**
 * An in-process network of Raft transports, with faults, for tests of the driver.
 * Messages go through a cbor round trip, as on the wire, so nothing shares memory between nodes.
 */
import { decode, encode } from 'cbor-x';
import type { RaftTransport } from '../interfaces.js';
import type { Message, NodeId } from '../types.js';

export interface MemoryNetworkOptions {
  /** Random source for drops and delays. Default Math.random. */
  readonly random?: () => number;
}

export class MemoryNetwork {
  readonly #transports = new Map<NodeId, MemoryTransport>();
  readonly #random: () => number;
  /** Pairs "a>b" that cannot talk (directional). */
  readonly #cut = new Set<string>();
  #dropRate = 0;
  #minDelayMs = 0;
  #maxDelayMs = 0;

  constructor(options: MemoryNetworkOptions = {}) {
    this.#random = options.random ?? Math.random;
  }

  /** The transport of node `id` (created on first use). */
  transport(id: NodeId): MemoryTransport {
    let transport = this.#transports.get(id);
    if (!transport) {
      transport = new MemoryTransport(id, this);
      this.#transports.set(id, transport);
    }
    return transport;
  }

  /** Replace a node's transport (a restarted node gets a fresh one). */
  reset(id: NodeId): MemoryTransport {
    this.#transports.delete(id);
    return this.transport(id);
  }

  /** Cut every link between the two groups, both ways. */
  partition(groupA: readonly NodeId[], groupB: readonly NodeId[]): void {
    for (const a of groupA) {
      for (const b of groupB) {
        this.#cut.add(`${a}>${b}`);
        this.#cut.add(`${b}>${a}`);
      }
    }
  }

  /** Cut `id` off from every other node. */
  isolate(id: NodeId): void {
    const others = [...this.#transports.keys()].filter((other) => other !== id);
    this.partition([id], others);
  }

  heal(): void {
    this.#cut.clear();
  }

  setDropRate(rate: number): void {
    if (!(rate >= 0 && rate <= 1))
      throw new RangeError(`Cannot set drop rate as it must be within [0, 1]: got ${rate}`);
    this.#dropRate = rate;
  }

  setDelay(minMs: number, maxMs: number): void {
    if (!(minMs >= 0 && maxMs >= minMs))
      throw new RangeError(`Cannot set delay as it needs 0 <= min <= max: got ${minMs}..${maxMs}`);
    this.#minDelayMs = minMs;
    this.#maxDelayMs = maxMs;
  }

  /** @internal Deliver one message, unless the network loses it. */
  deliver(message: Message): void {
    if (this.#cut.has(`${message.from}>${message.to}`)) return;
    if (this.#dropRate > 0 && this.#random() < this.#dropRate) return;
    const target = this.#transports.get(message.to);
    if (!target) return;
    const copy = decode(encode(message)) as Message;
    const delay = this.#minDelayMs + (this.#maxDelayMs - this.#minDelayMs) * this.#random();
    const timer = setTimeout(() => target.receive(copy), delay);
    timer.unref?.();
  }
}

export class MemoryTransport implements RaftTransport {
  readonly id: NodeId;
  readonly #network: MemoryNetwork;
  #handler: ((message: Message) => void) | null = null;
  #running = false;

  constructor(id: NodeId, network: MemoryNetwork) {
    this.id = id;
    this.#network = network;
  }

  send(messages: readonly Message[]): void {
    if (!this.#running) return;
    for (const message of messages) this.#network.deliver(message);
  }

  onMessage(handler: (message: Message) => void): void {
    this.#handler = handler;
  }

  async start(): Promise<void> {
    this.#running = true;
  }

  async stop(): Promise<void> {
    this.#running = false;
  }

  /** @internal */
  receive(message: Message): void {
    if (this.#running) this.#handler?.(message);
  }
}
