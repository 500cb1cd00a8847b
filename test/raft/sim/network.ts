/**
 * The simulated network: every message gets a random delay (so messages reorder), and may be
 * dropped or duplicated; links can be cut by partitions. Messages go through a cbor round trip,
 * as on the wire, so no node ever holds another node's objects.
 */
import { decode, encode } from 'cbor-x';
import type { Message, NodeId } from '../../../src/raft/types.js';
import type { EventQueue } from './event-queue.js';
import type { Prng } from '../../support/prng.js';

export interface NetworkFaults {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice. */
  duplicateRate: number;
  /** Delay range in virtual ms. */
  minDelay: number;
  maxDelay: number;
}

export class SimNetwork {
  readonly #queue: EventQueue;
  readonly #rng: Prng;
  readonly #deliver: (message: Message) => void;
  readonly #log: (line: string) => void;
  /** Directed cut links "a>b". */
  readonly #cut = new Set<string>();
  faults: NetworkFaults = { dropRate: 0, duplicateRate: 0, minDelay: 1, maxDelay: 10 };
  sent = 0;
  dropped = 0;

  constructor(queue: EventQueue, rng: Prng, deliver: (message: Message) => void, log: (line: string) => void) {
    this.#queue = queue;
    this.#rng = rng;
    this.#deliver = deliver;
    this.#log = log;
  }

  send(message: Message): void {
    this.sent++;
    if (this.#cut.has(`${message.from}>${message.to}`) || this.#rng.chance(this.faults.dropRate)) {
      this.dropped++;
      return;
    }
    const copies = this.#rng.chance(this.faults.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const copy = decode(encode(message)) as Message;
      const delay = this.faults.minDelay + this.#rng.next() * (this.faults.maxDelay - this.faults.minDelay);
      this.#queue.after(delay, `deliver`, () => this.#deliver(copy));
    }
  }

  /** Can `from` reach `to` right now? */
  connected(from: NodeId, to: NodeId): boolean {
    return !this.#cut.has(`${from}>${to}`);
  }

  /** Cut every link between the two groups, both ways. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.#cut.add(`${x}>${y}`);
        this.#cut.add(`${y}>${x}`);
      }
    }
    this.#log(`net partition {${a.join(',')}} | {${b.join(',')}}`);
  }

  /** Cut one direction only (asymmetric faults: a hears b, b does not hear a). */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.#cut.add(`${from}>${to}`);
    this.#log(`net cut ${from}->${to}`);
  }

  heal(): void {
    this.#cut.clear();
    this.#log('net heal');
  }
}
