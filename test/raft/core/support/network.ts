/**
 * An in-process Raft cluster for the core's tests (like etcd's newNetwork): a map of cores,
 * each with a "storage" made only of what its Readys told it to persist, and a synchronous
 * message queue delivered until quiet. Faults are simple: drop by pair, isolate, a filter.
 * (The fault simulator with delays, duplicates and crashes lives in test/raft/sim/.)
 */
import { RaftCore } from '../../../../src/raft/core/index.js';
import type {
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  RaftConfig,
  ReadState,
  Ready,
  Snapshot,
} from '../../../../src/raft/types.js';
import { EntryType } from '../../../../src/raft/types.js';
import { seeded } from './prng.js';

/** What a node persisted, exactly as its Readys said. */
export interface MemoryStorage {
  hardState: HardState;
  snapshot?: Snapshot;
  entries: Entry[];
}

/** A test state machine: the list of applied Normal entries' data as strings. */
export interface Member {
  core: RaftCore;
  readonly storage: MemoryStorage;
  applied: string[];
  appliedIndex: number;
  readStates: ReadState[];
  readys: Ready[];
  config: RaftConfig;
  bootstrapConf: ConfState;
}

export type NetworkOptions = Partial<Omit<RaftConfig, 'id' | 'random'>> & {
  seed?: number;
  learners?: NodeId[];
  /** Per node overrides. */
  perNode?: Record<NodeId, Partial<RaftConfig>>;
};

const enc = new TextEncoder();
const dec = new TextDecoder();
export const bytes = (s: string): Uint8Array => enc.encode(s);
export const text = (b: Uint8Array): string => dec.decode(b);

export class Network {
  readonly members = new Map<NodeId, Member>();
  /** Messages sent and not yet delivered, in order. */
  queue: Message[] = [];
  /** Every message delivered (for assertions). */
  readonly delivered: Message[] = [];
  /** Pairs "from->to" whose messages are dropped. */
  readonly cuts = new Set<string>();
  /** Extra filter: return false to drop a message. */
  filter: (m: Message) => boolean = () => true;
  /** Optional reordering/duplication of each delivery round's batch (randomized tests). */
  mangle: ((batch: Message[]) => Message[]) | undefined;
  readonly #random: () => number;

  constructor(voters: NodeId[], options: NetworkOptions = {}) {
    this.#random = seeded(options.seed ?? 1);
    const conf: ConfState = { voters, learners: options.learners ?? [] };
    for (const id of [...voters, ...(options.learners ?? [])]) this.add(id, conf, options);
  }

  /** Adds a brand-new node (a joiner starts with `conf` as its bootstrap configuration). */
  add(id: NodeId, conf: ConfState, options: NetworkOptions = {}): Member {
    const { seed: _s, learners: _l, perNode, ...tunables } = options;
    const config: RaftConfig = { id, random: this.#random, ...tunables, ...(perNode?.[id] ?? {}) };
    const storage: MemoryStorage = { hardState: { term: 0, vote: null, commit: 0 }, entries: [] };
    const core = new RaftCore(config, { hardState: storage.hardState, entries: [], bootstrapConf: conf });
    const m: Member = {
      core,
      storage,
      applied: [],
      appliedIndex: 0,
      readStates: [],
      readys: [],
      config,
      bootstrapConf: conf,
    };
    this.members.set(id, m);
    return m;
  }

  member(id: NodeId): Member {
    const m = this.members.get(id);
    if (!m) throw new Error(`no member ${id}`);
    return m;
  }

  core(id: NodeId): RaftCore {
    return this.member(id).core;
  }

  /** Handles one node's Ready the way a driver must: persist, send, apply, advance. */
  handleReady(id: NodeId): boolean {
    const m = this.member(id);
    if (!m.core.hasReady()) return false;
    const rd = m.core.ready();
    m.readys.push(rd);
    const st = m.storage;
    if (rd.snapshot) {
      st.snapshot = rd.snapshot;
      st.entries = [];
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      st.entries = st.entries.filter((e) => e.index < first).concat(rd.entries);
    }
    if (rd.hardState) st.hardState = rd.hardState;
    checkDurable(id, st, rd);
    this.queue.push(...rd.messages);
    if (rd.snapshot) {
      m.applied = JSON.parse(text(rd.snapshot.data)) as string[];
      m.appliedIndex = rd.snapshot.meta.index;
    }
    for (const e of rd.committedEntries) {
      if (e.index !== m.appliedIndex + 1) throw new Error(`${id} applied ${e.index} after ${m.appliedIndex}`);
      m.appliedIndex = e.index;
      if (e.type === EntryType.Normal) m.applied.push(text(e.data));
    }
    m.readStates.push(...rd.readStates);
    m.core.advance(rd);
    return true;
  }

  /** Snapshot node `id`'s state machine at its applied index and compact its log. */
  compact(id: NodeId): void {
    const m = this.member(id);
    const data = bytes(JSON.stringify(m.applied));
    m.core.compact(m.appliedIndex, data);
    const st = m.storage;
    const index = m.appliedIndex;
    const term = st.entries.find((e) => e.index === index)?.term ?? st.snapshot?.meta.term ?? 0;
    st.snapshot = { meta: { index, term, conf: m.core.status().conf }, data };
    st.entries = st.entries.filter((e) => e.index > index);
  }

  /** Crash `id` and start it again from what it persisted. */
  restart(id: NodeId): RaftCore {
    const m = this.member(id);
    const st = m.storage;
    m.core = new RaftCore(m.config, {
      hardState: st.hardState,
      entries: [...st.entries],
      bootstrapConf: m.bootstrapConf,
      ...(st.snapshot ? { snapshot: st.snapshot } : {}),
    });
    m.applied = st.snapshot ? (JSON.parse(text(st.snapshot.data)) as string[]) : [];
    m.appliedIndex = st.snapshot?.meta.index ?? 0;
    this.queue = this.queue.filter((msg) => msg.to !== id && msg.from !== id);
    return m.core;
  }

  #allowed(msg: Message): boolean {
    return this.members.has(msg.to) && !this.cuts.has(`${msg.from}->${msg.to}`) && this.filter(msg);
  }

  /** Handles Readys and delivers messages until nothing moves (bounded). */
  settle(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const id of this.members.keys()) moved = this.handleReady(id) || moved;
      const batch = this.mangle ? this.mangle(this.queue) : this.queue;
      this.queue = [];
      for (const msg of batch) {
        if (!this.#allowed(msg)) continue;
        this.delivered.push(msg);
        this.member(msg.to).core.step(msg);
        moved = true;
      }
      if (!moved) return;
    }
    throw new Error(`network did not settle in ${maxRounds} rounds`);
  }

  /** Steps one message into its receiver and settles. */
  send(msg: Message): void {
    this.member(msg.to).core.step(msg);
    this.settle();
  }

  /** Ticks `id` (or every node) `n` times, settling after each tick. */
  tick(n = 1, ids: NodeId[] = [...this.members.keys()]): void {
    for (let i = 0; i < n; i++) {
      for (const id of ids) this.core(id).tick();
      this.settle();
    }
  }

  /** Campaigns `id` and settles. */
  elect(id: NodeId): void {
    this.core(id).campaign();
    this.settle();
  }

  /** Proposes on `id` (must be leader), settles, and returns the result. */
  propose(id: NodeId, data: string) {
    const r = this.core(id).propose(bytes(data));
    this.settle();
    return r;
  }

  cut(a: NodeId, b: NodeId): void {
    this.cuts.add(`${a}->${b}`);
    this.cuts.add(`${b}->${a}`);
  }

  isolate(id: NodeId): void {
    for (const other of this.members.keys()) if (other !== id) this.cut(id, other);
  }

  heal(): void {
    this.cuts.clear();
    this.filter = () => true;
  }

  leader(): NodeId | undefined {
    return [...this.members.keys()].find((id) => this.core(id).status().role === 'leader');
  }
}

/**
 * "Persist before you speak": no message may promise more than the storage holds once this
 * Ready is persisted. Checked on every Ready of every test that uses the network.
 * A message of an earlier term than the persisted one is exempt: the node moved on to a later
 * term in the same batch (as it may in Raft after persisting), and its durable term forbids it
 * from acting in the old one again.
 */
function checkDurable(id: NodeId, st: MemoryStorage, rd: Ready): void {
  const last = st.entries.length ? st.entries[st.entries.length - 1]!.index : (st.snapshot?.meta.index ?? 0);
  for (const m of rd.messages) {
    if (m.term < st.hardState.term) continue;
    if (m.type === 'appendResp' && m.success && m.index > last) {
      throw new Error(`${id} acknowledged index ${m.index} but only persisted up to ${last}`);
    }
    if (
      m.type === 'voteResp' &&
      m.granted &&
      !m.preVote &&
      (st.hardState.vote !== m.to || st.hardState.term !== m.term)
    ) {
      throw new Error(`${id} granted its vote to ${m.to} in term ${m.term} before persisting it`);
    }
    if (
      m.type === 'snapshotResp' &&
      m.done &&
      m.meta.index > Math.max(last, st.hardState.commit, st.snapshot?.meta.index ?? 0)
    ) {
      throw new Error(`${id} reported snapshot ${m.meta.index} installed before persisting it`);
    }
  }
}
