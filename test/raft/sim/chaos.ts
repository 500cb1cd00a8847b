/**
 * The random faults and client operations of the fault phase: proposals, linearizable reads,
 * crash-restarts with torn disks, partitions, lossy links, membership changes, leadership
 * transfers, forced elections and log compaction.
 */
import type { Message, NodeId } from '../../../src/raft/types.js';
import type { SimCluster } from './cluster.js';
import type { SimNode } from './node.js';

export type ChaosAction =
  | 'propose'
  | 'read'
  | 'crash'
  | 'partition'
  | 'isolate'
  | 'cutOneWay'
  | 'heal'
  | 'netFaults'
  | 'confChange'
  | 'transfer'
  | 'campaign'
  | 'compact';

/** How often each action is drawn. */
export const DEFAULT_WEIGHTS: Readonly<Record<ChaosAction, number>> = {
  propose: 30,
  read: 8,
  crash: 4,
  partition: 3,
  isolate: 2,
  cutOneWay: 1,
  heal: 4,
  netFaults: 2,
  confChange: 5,
  transfer: 2,
  campaign: 1,
  compact: 3,
};

export class Chaos {
  readonly #cluster: SimCluster;
  readonly #weights: Readonly<Record<ChaosAction, number>>;
  #proposals = 0;
  #reads = 0;
  /** False once the fault phase is over: pending restarts then happen at heal time instead. */
  active = true;

  constructor(cluster: SimCluster, weights: Readonly<Record<ChaosAction, number>> = DEFAULT_WEIGHTS) {
    this.#cluster = cluster;
    this.#weights = weights;
  }

  get proposals(): number {
    return this.#proposals;
  }

  /**
   * Crash at an interesting point: a node that just granted its vote sometimes dies right
   * after and comes back quickly, while the election it voted in is still going on. A node
   * that forgot its vote would then vote twice in one term.
   */
  afterSend(message: Message): void {
    const c = this.#cluster;
    if (!this.active || message.type !== 'voteResp' || !message.granted || message.preVote) return;
    if (!c.rng.chance(this.#weights.crash / 100)) return;
    const node = c.nodes.get(message.from);
    if (!node) return;
    c.queue.after(c.rng.next() * 2, `crash ${node.id} after voting`, () => {
      // Once healed, nothing restarts a crashed node any more: the heal phase has no crashes.
      if (!this.active || !node.up) return;
      node.crash(c.rng.chance(0.5) ? 0 : c.rng.int(0, node.disk.unsynced + 1));
      this.#restartLater(node, 30);
    });
  }

  /** Schedule the next random action, again and again while active. */
  schedule(meanGapMs: number): void {
    const { queue, rng } = this.#cluster;
    queue.after(rng.next() * 2 * meanGapMs, 'chaos', () => {
      if (!this.active) return;
      this.act(rng.weighted(this.#weights));
      this.#cluster.touchAll();
      this.schedule(meanGapMs);
    });
  }

  /** Propose one more command to the leader (used by the heal phase too). */
  propose(): void {
    const { rng } = this.#cluster;
    const leader = this.#cluster.leader();
    const up = this.#cluster.upNodes();
    const target = leader && !rng.chance(0.1) ? leader : up.length > 0 ? rng.pick(up) : null;
    target?.propose(`p${++this.#proposals}`);
  }

  act(action: ChaosAction): void {
    const c = this.#cluster;
    const { rng, network } = c;
    const ids = [...c.nodes.keys()];
    switch (action) {
      case 'propose': {
        const n = rng.int(1, 4);
        for (let i = 0; i < n; i++) this.propose();
        return;
      }
      case 'read': {
        const leader = c.leader();
        const up = c.upNodes();
        const target = leader && rng.chance(0.7) ? leader : up.length > 0 ? rng.pick(up) : null;
        target?.readIndex(`r${++this.#reads}`);
        return;
      }
      case 'crash': {
        const up = c.upNodes();
        if (up.length === 0) return;
        const node = rng.pick(up);
        // Half the crashes lose every unsynced write; the others keep a random prefix (torn tail).
        node.crash(rng.chance(0.5) ? 0 : rng.int(0, node.disk.unsynced + 1));
        this.#restartLater(node);
        return;
      }
      case 'partition': {
        const shuffled = rng.shuffle(ids);
        const cut = rng.int(1, shuffled.length);
        network.partition(shuffled.slice(0, cut), shuffled.slice(cut));
        return;
      }
      case 'isolate': {
        const id = rng.pick(ids);
        network.partition(
          [id],
          ids.filter((x) => x !== id),
        );
        return;
      }
      case 'cutOneWay': {
        const [a, b] = rng.shuffle(ids);
        if (a && b) network.cutOneWay(a, b);
        return;
      }
      case 'heal':
        network.heal();
        return;
      case 'netFaults': {
        network.faults.dropRate = rng.chance(0.3) ? 0 : rng.next() * 0.25;
        network.faults.duplicateRate = rng.chance(0.5) ? 0 : rng.next() * 0.1;
        c.log(`net drop=${network.faults.dropRate.toFixed(2)} dup=${network.faults.duplicateRate.toFixed(2)}`);
        return;
      }
      case 'confChange':
        this.#confChange();
        return;
      case 'transfer': {
        const leader = c.leader();
        const voters = leader?.status()?.conf.voters.filter((v) => v !== leader.id) ?? [];
        if (leader && voters.length > 0) leader.transferLeader(rng.pick(voters));
        return;
      }
      case 'campaign': {
        const up = c.upNodes();
        if (up.length > 0) rng.pick(up).campaign();
        return;
      }
      case 'compact': {
        const up = c.upNodes();
        if (up.length > 0) rng.pick(up).compact();
        return;
      }
    }
  }

  /** Add a learner, promote, demote or remove, within the pool of ids. */
  #confChange(): void {
    const c = this.#cluster;
    const { rng } = c;
    const leader = c.leader();
    if (!leader) return;
    const conf = leader.status()!.conf;
    const members = new Set<NodeId>([...conf.voters, ...conf.learners]);
    const outsiders = c.params.pool.filter((id) => !members.has(id));
    const options: (() => void)[] = [];
    if (outsiders.length > 0) {
      options.push(() => {
        const id = rng.pick(outsiders);
        // A brand new node boots before it is added; a removed one still runs with its old disk.
        if (!c.nodes.has(id)) c.startNew(id);
        leader.proposeConfChange({ type: 'addLearner', node: id });
      });
    }
    if (conf.learners.length > 0)
      options.push(() => leader.proposeConfChange({ type: 'promote', node: rng.pick(conf.learners) }));
    if (conf.voters.length > 2) {
      options.push(() => leader.proposeConfChange({ type: 'demote', node: rng.pick(conf.voters) }));
      options.push(() => leader.proposeConfChange({ type: 'remove', node: rng.pick(conf.voters) }));
    }
    if (conf.learners.length > 0)
      options.push(() => leader.proposeConfChange({ type: 'remove', node: rng.pick(conf.learners) }));
    if (options.length > 0) rng.pick(options)();
  }

  #restartLater(node: SimNode, maxDownMs = 800): void {
    const { queue, rng } = this.#cluster;
    const life = node.incarnation;
    queue.after(rng.int(5, maxDownMs), `restart ${node.id}`, () => {
      if (!this.active || node.up || node.incarnation !== life) return;
      this.#cluster.startNew(node.id);
    });
  }
}
