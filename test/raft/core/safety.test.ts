/**
 * A small randomized check of the Raft safety properties on the in-process network: random
 * ticks, drops, partitions, proposals, compactions, restarts and membership changes, with the
 * invariants checked after every step. (The full fault simulator lives in test/raft/sim/.)
 */
import type { Message, NodeId } from '../../../src/raft/types.js';
import { Network } from './support/network.js';
import { seeded } from './support/prng.js';

const IDS = ['a', 'b', 'c', 'd', 'e'];

function checkInvariants(net: Network, leaders: Map<number, NodeId>): void {
  for (const id of net.members.keys()) {
    const st = net.core(id).status();
    if (st.role === 'leader') {
      const seen = leaders.get(st.term);
      if (seen !== undefined && seen !== id) throw new Error(`two leaders in term ${st.term}: ${seen} and ${id}`);
      leaders.set(st.term, id);
    }
  }
  // state machine safety: every node applied a prefix of the longest history
  const histories = [...net.members.values()].map((m) => m.applied);
  const longest = histories.reduce((a, b) => (b.length > a.length ? b : a));
  for (const h of histories) {
    for (let i = 0; i < h.length; i++)
      if (h[i] !== longest[i]) throw new Error(`applied histories diverge at ${i}: ${h[i]} vs ${longest[i]}`);
  }
  // log matching on persisted logs: same index and term means same data
  const byIndex = new Map<string, string>();
  for (const m of net.members.values()) {
    for (const e of m.storage.entries) {
      const key = `${e.index}/${e.term}`;
      const data = Buffer.from(e.data).toString('hex');
      const prev = byIndex.get(key);
      if (prev !== undefined && prev !== data) throw new Error(`log matching violated at ${key}`);
      byIndex.set(key, data);
    }
  }
}

function run(seed: number): { committed: number } {
  const rand = seeded(seed);
  const net = new Network(IDS, { seed, electionTick: 8 });
  const leaders = new Map<number, NodeId>();
  let dropRate = 0;
  net.filter = () => rand() >= dropRate;
  // reorder each round's messages, duplicate a few and hold some back for later rounds
  // (late duplicates are what break naive snapshot and probe handling)
  let held: Message[] = [];
  net.mangle = (batch) => {
    const out: Message[] = [];
    for (const m of batch) {
      const r = rand();
      if (r < 0.05) held.push(m);
      else out.push(m);
      if (r > 0.95) held.push(m);
    }
    const keep: Message[] = [];
    for (const m of held) (rand() < 0.3 ? out : keep).push(m);
    held = keep;
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  let n = 0;
  for (let step = 0; step < 400; step++) {
    const roll = rand();
    if (roll < 0.5) {
      net.tick(1);
    } else if (roll < 0.75) {
      const leader = net.leader();
      if (leader) net.core(leader).propose(new TextEncoder().encode(`${seed}:${n++}`));
      net.settle();
    } else if (roll < 0.8) {
      net.cuts.clear();
      if (rand() < 0.6) net.isolate(IDS[Math.floor(rand() * IDS.length)]!);
    } else if (roll < 0.85) {
      dropRate = rand() < 0.5 ? 0 : rand() * 0.3;
    } else if (roll < 0.9) {
      const id = IDS[Math.floor(rand() * IDS.length)]!;
      const m = net.member(id);
      if (m.appliedIndex - net.core(id).status().firstIndex > 10) net.compact(id);
    } else if (roll < 0.93) {
      net.restart(IDS[Math.floor(rand() * IDS.length)]!);
    } else if (roll < 0.96) {
      const leader = net.leader();
      if (leader) {
        const target = IDS[Math.floor(rand() * IDS.length)]!;
        const conf = net.core(leader).status().conf;
        const change = conf.learners.includes(target)
          ? 'promote'
          : target !== leader && conf.voters.length > 3
            ? 'demote'
            : undefined;
        if (change) net.core(leader).proposeConfChange({ type: change, node: target });
        net.settle();
      }
    } else {
      const leader = net.leader();
      if (leader) net.core(leader).transferLeader(IDS[Math.floor(rand() * IDS.length)]!);
      net.settle();
    }
    checkInvariants(net, leaders);
  }
  // heal everything: the cluster must converge and make progress
  net.cuts.clear();
  dropRate = 0;
  net.mangle = undefined;
  const conf = () => net.core(net.leader() ?? 'a').status().conf;
  for (const id of conf().learners) {
    for (let i = 0; i < 40 && !conf().voters.includes(id); i++) {
      const leader = net.leader();
      if (leader) net.core(leader).proposeConfChange({ type: 'promote', node: id });
      net.tick(1);
    }
  }
  // a transfer may be under way: retry for a bounded while
  let final: ReturnType<Network['propose']> | undefined;
  for (let i = 0; i < 60 && !final?.ok; i++) {
    const leader = net.leader();
    if (leader) final = net.propose(leader, 'final');
    if (!final?.ok) net.tick(1);
  }
  if (!final?.ok)
    throw new Error(`seed ${seed}: no leader accepted a proposal after healing: ${JSON.stringify(final)}`);
  net.tick(3);
  checkInvariants(net, leaders);
  for (const m of net.members.values()) {
    if (m.applied.at(-1) !== 'final') {
      const dump = [...net.members.keys()].map((id) =>
        JSON.stringify({ ...net.core(id).status(), applied: net.member(id).applied.length }),
      );
      throw new Error(
        `seed ${seed}: a node did not apply the final entry (got ${m.applied.at(-1)})\n${dump.join('\n')}`,
      );
    }
  }
  return { committed: net.member('a').applied.length };
}

describe('safety under random faults', () => {
  it.each(Array.from({ length: 30 }, (_, i) => i + 1))(
    'seed %i keeps election safety, log matching and state machine safety',
    (seed) => {
      const { committed } = run(seed);
      expect(committed).toBeGreaterThan(1);
    },
  );
});
