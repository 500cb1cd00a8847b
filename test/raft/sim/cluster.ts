/**
 * A simulated cluster: nodes, the network between them, the event queue, and the checks run
 * after every step. The random faults and operations live in `chaos.ts`; one seeded run in
 * `simulation.ts`.
 */
import type { ConfState, Message, NodeId, RaftConfig } from '../../../src/raft/types.js';
import type { Prng } from '../../support/prng.js';
import type { DiskBug } from './disk.js';
import { EventQueue } from './event-queue.js';
import { SafetyChecker } from './invariants.js';
import { SimNetwork } from './network.js';
import { SimNode, type CoreFactory } from './node.js';
import { InvariantError, type Trace } from './trace.js';
import { lastIndex } from './disk.js';

export interface ClusterParams {
  /** Ids of the pool, in order; the first `initial.voters + initial.learners` start the cluster. */
  readonly pool: readonly NodeId[];
  readonly initial: ConfState;
  readonly coreConfig: Omit<RaftConfig, 'id' | 'random'>;
  /** Virtual ms per tick, per node (clocks drift apart a little). */
  readonly tickMs: ReadonlyMap<NodeId, number>;
  readonly fsyncDelay: readonly [number, number];
  readonly compactChance: number;
  readonly diskBug: DiskBug;
  readonly checkDurableApply: boolean;
  readonly makeCore: CoreFactory;
  /** Merge each Ready's messages as the driver does (`coalesceMessages`). */
  readonly coalesce: boolean;
}

export class SimCluster {
  readonly queue = new EventQueue();
  readonly checker = new SafetyChecker();
  readonly network: SimNetwork;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly params: ClusterParams;
  readonly rng: Prng;
  readonly #trace: Trace;
  /** Told of every message a node sends (after durability), e.g. to crash at interesting points. */
  onSend: ((message: Message) => void) | null = null;
  /** Nodes touched by the event being run, to check after it. */
  readonly #touched = new Set<NodeId>();

  constructor(params: ClusterParams, rng: Prng, trace: Trace) {
    this.params = params;
    this.rng = rng;
    this.#trace = trace;
    this.network = new SimNetwork(
      this.queue,
      rng.fork(),
      (m) => this.#deliver(m),
      (line) => this.log(line),
    );
  }

  log(line: string): void {
    this.#trace.add(this.queue.now, line);
  }

  /** Create and boot node `id` (a joiner starts from the initial configuration, like every member). */
  startNew(id: NodeId): SimNode {
    let node = this.nodes.get(id);
    if (!node) {
      const p = this.params;
      node = new SimNode(id, p.initial, {
        queue: this.queue,
        send: (m: Message) => this.#send(m),
        checker: this.checker,
        rng: this.rng.fork(),
        log: (line) => this.log(line),
        makeCore: p.makeCore,
        coreConfig: p.coreConfig,
        fsyncDelay: p.fsyncDelay,
        compactChance: p.compactChance,
        diskBug: p.diskBug,
        checkDurableApply: p.checkDurableApply,
        coalesce: p.coalesce,
      });
      this.nodes.set(id, node);
      this.#scheduleTicks(node);
    }
    this.touch(id);
    node.start();
    return node;
  }

  /** Mark a node to be checked after the current step. */
  touch(id: NodeId): void {
    this.#touched.add(id);
  }

  /** Run one event and the checks; returns false when the queue is empty. */
  step(): boolean {
    const event = this.queue.pop();
    if (!event) return false;
    event.run();
    for (const id of this.#touched) this.nodes.get(id)?.check();
    this.#touched.clear();
    return true;
  }

  /** Check every node (after an operation that may touch several). */
  touchAll(): void {
    for (const id of this.nodes.keys()) this.#touched.add(id);
  }

  upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  /** The up node that believes it leads with the highest term, if any. */
  leader(): SimNode | null {
    let best: SimNode | null = null;
    let bestTerm = -1;
    for (const node of this.upNodes()) {
      const status = node.status()!;
      if (status.role === 'leader' && status.term > bestTerm) {
        best = node;
        bestTerm = status.term;
      }
    }
    return best;
  }

  #scheduleTicks(node: SimNode): void {
    const period = this.params.tickMs.get(node.id) ?? 10;
    const tick = (): void => {
      if (node.up) {
        node.tick();
        this.touch(node.id);
      }
      this.queue.after(period, 'tick', tick);
    };
    this.queue.after(this.rng.next() * period, 'tick', tick);
  }

  #send(message: Message): void {
    if (this.params.checkDurableApply) this.#checkPromise(message);
    this.onSend?.(message);
    const before = this.network.dropped;
    this.network.send(message);
    // A cut link looks like an unreachable peer to the sender's transport now and then.
    if (this.network.dropped > before && !this.network.connected(message.from, message.to) && this.rng.chance(0.1)) {
      const sender = this.nodes.get(message.from);
      sender?.core?.reportUnreachable(message.to);
    }
  }

  /**
   * Persist before you speak: a message that promises durability must find it on the sender's
   * durable disk (the driver sends only after fsync, so a failure here is the core's).
   */
  #checkPromise(m: Message): void {
    const disk = this.nodes.get(m.from)?.disk.durable;
    if (!disk) return;
    const fail = (what: string): never => {
      throw new InvariantError('persist before speak', `${m.from} sent ${m.type} to ${m.to} ${what}`);
    };
    if (m.type === 'appendResp' && m.success && lastIndex(disk) < m.index) {
      fail(`acknowledging index ${m.index}, but its durable log ends at ${lastIndex(disk)}`);
    }
    // A durable later term is fine too: the node can never vote in m.term again.
    const hs = disk.hardState;
    if (
      m.type === 'voteResp' &&
      m.granted &&
      !m.preVote &&
      hs.term <= m.term &&
      (hs.term !== m.term || hs.vote !== m.to)
    ) {
      fail(
        `granting its vote in term ${m.term}, but its durable hard state is term ${disk.hardState.term} vote ${disk.hardState.vote}`,
      );
    }
    // A follower whose log already matches the snapshot's last entry answers done without installing it.
    if (m.type === 'snapshotResp' && m.done && !m.reject && lastIndex(disk) < m.meta.index) {
      fail(`reporting snapshot ${m.meta.index} installed, but its durable log and snapshot end at ${lastIndex(disk)}`);
    }
  }

  #deliver(message: Message): void {
    const node = this.nodes.get(message.to);
    if (!node?.up) return;
    node.receive(message);
    this.touch(node.id);
  }
}
