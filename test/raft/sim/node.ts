/**
 * One simulated node: a RaftCore, its simulated disk, a hash-chain state machine, and the
 * driver loop of the Ready contract (persist -> fsync -> send -> apply -> advance), where the
 * fsync takes virtual time and the core keeps stepping messages and ticks meanwhile.
 */
import { decode, encode } from 'cbor-x';
import type { RaftCoreApi } from '../../../src/raft/interfaces.js';
import {
  EntryType,
  type ConfChange,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type RaftConfig,
  type RaftStatus,
  type Ready,
  type RestoredState,
} from '../../../src/raft/types.js';
import { applyCommittedConfChange } from '../../../src/raft/driver/applied-conf.js';
import { coalesceMessages } from '../../../src/raft/driver/coalesce.js';
import type { Prng } from '../../support/prng.js';
import { entryAt, SimDisk, type DiskBug } from './disk.js';
import type { EventQueue } from './event-queue.js';
import { fingerprint, type SafetyChecker } from './invariants.js';
import { entryText, InvariantError, messageText } from './trace.js';

/** Builds a core; the self-test swaps in a broken one. */
export type CoreFactory = (config: RaftConfig, restored: RestoredState) => RaftCoreApi;

export interface SimNodeDeps {
  readonly queue: EventQueue;
  /** Hand a message to the network (after the write it depends on is durable). */
  readonly send: (message: Message) => void;
  readonly checker: SafetyChecker;
  readonly rng: Prng;
  readonly log: (line: string) => void;
  readonly makeCore: CoreFactory;
  readonly coreConfig: Omit<RaftConfig, 'id' | 'random'>;
  readonly fsyncDelay: readonly [number, number];
  /** Chance of compacting the log after each applied batch. */
  readonly compactChance: number;
  readonly diskBug: DiskBug;
  /** Check that committed entries are durable when applied (off when the disk is the planted bug). */
  readonly checkDurableApply: boolean;
  /** Merge each Ready's messages before sending them, as the driver does. */
  readonly coalesce: boolean;
}

interface SnapshotState {
  readonly index: number;
  readonly chain: number;
  /** Filler so that snapshots span several chunks, as a real state machine's do. */
  readonly pad: Uint8Array;
}

const decoder = new TextDecoder();

export class SimNode {
  readonly id: NodeId;
  readonly disk: SimDisk;
  readonly #deps: SimNodeDeps;
  readonly #bootstrapConf: ConfState;
  core: RaftCoreApi | null = null;
  /** Bumped on every crash so that callbacks of a previous life do nothing. */
  incarnation = 0;
  #inFlight = false;
  applied = 0;
  #appliedTerm = 0;
  #chain = 0;
  #appliedConf: ConfState;
  #lastSnapshot = 0;
  /** Proposals of this life: index -> {id, term}. */
  readonly #proposals = new Map<number, { id: string; term: number }>();
  /** The term in which this node wrote a Ready taken as leader (its log is then complete on disk). */
  #leaderWrittenTerm = -1;

  constructor(id: NodeId, bootstrapConf: ConfState, deps: SimNodeDeps) {
    this.id = id;
    this.#deps = deps;
    this.#bootstrapConf = bootstrapConf;
    this.#appliedConf = bootstrapConf;
    this.disk = new SimDisk(
      { onEntryWritten: (entry, prevTerm) => deps.checker.onEntryWritten(id, entry, prevTerm) },
      deps.diskBug,
    );
  }

  get up(): boolean {
    return this.core !== null;
  }

  /** Boot (or reboot) from what the disk durably holds. */
  start(): void {
    if (this.core) return;
    const restored = this.disk.load(this.#bootstrapConf);
    this.#chain = 0;
    this.applied = 0;
    this.#appliedTerm = 0;
    this.#appliedConf = this.#bootstrapConf;
    if (restored.snapshot)
      this.#restore(
        restored.snapshot.data,
        restored.snapshot.meta.index,
        restored.snapshot.meta.term,
        restored.snapshot.meta.conf,
      );
    this.#lastSnapshot = this.applied;
    const random = this.#deps.rng.fork();
    this.core = this.#deps.makeCore({ ...this.#deps.coreConfig, id: this.id, random: () => random.next() }, restored);
    this.#deps.log(
      `${this.id} start: term=${restored.hardState.term} vote=${restored.hardState.vote} commit=${restored.hardState.commit} ` +
        `snap=${restored.snapshot?.meta.index ?? 0} last=${(restored.snapshot?.meta.index ?? 0) + restored.entries.length}`,
    );
    this.pump();
  }

  /** Power loss: the core and the page cache are gone; `keep` unsynced writes survive (torn tail). */
  crash(keep: number): void {
    if (!this.core) return;
    this.core = null;
    this.incarnation++;
    this.#inFlight = false;
    this.#proposals.clear();
    this.#leaderWrittenTerm = -1;
    const unsynced = this.disk.unsynced;
    this.disk.crash(keep);
    this.#deps.log(`${this.id} CRASH (kept ${Math.min(keep, unsynced)} of ${unsynced} unsynced writes)`);
  }

  tick(): void {
    if (!this.core) return;
    this.core.tick();
    this.pump();
  }

  receive(message: Message): void {
    if (!this.core) return;
    this.#deps.log(`deliver ${messageText(message)}`);
    this.core.step(message);
    this.pump();
  }

  /** Propose `id` (a client command); returns whether the core took it. */
  propose(id: string): boolean {
    if (!this.core) return false;
    const result = this.core.propose(new TextEncoder().encode(id));
    this.#deps.log(
      `${this.id} propose ${id}: ${result.ok ? `index ${result.index} term ${result.term}` : result.reason}`,
    );
    if (result.ok) this.#proposals.set(result.index, { id, term: result.term });
    this.pump();
    return result.ok;
  }

  proposeConfChange(change: ConfChange): void {
    if (!this.core) return;
    const result = this.core.proposeConfChange(change);
    this.#deps.log(
      `${this.id} propose conf ${change.type} ${change.node}: ${result.ok ? `index ${result.index}` : result.reason}`,
    );
    this.pump();
  }

  readIndex(context: string): void {
    if (!this.core) return;
    this.#deps.checker.requestRead(context);
    const result = this.core.readIndex(new TextEncoder().encode(context));
    this.#deps.log(`${this.id} readIndex ${context}: ${result.ok ? 'ok' : result.reason}`);
    this.pump();
  }

  transferLeader(to: NodeId): void {
    if (!this.core) return;
    const result = this.core.transferLeader(to);
    this.#deps.log(`${this.id} transfer to ${to}: ${result.ok ? 'ok' : result.reason}`);
    this.pump();
  }

  campaign(): void {
    if (!this.core) return;
    this.#deps.log(`${this.id} campaign`);
    this.core.campaign();
    this.pump();
  }

  status(): RaftStatus | null {
    return this.core?.status() ?? null;
  }

  /** Per-step checks on this node: election safety and leader completeness. */
  check(): void {
    const status = this.core?.status();
    if (!status || status.role !== 'leader') return;
    this.#deps.checker.observeLeader(this.id, status.term);
    if (this.#leaderWrittenTerm === status.term) {
      this.#deps.checker.checkLeaderCompleteness(this.id, status.term, this.disk.written);
    }
  }

  /** Drain one Ready if the core has one and none is in flight. */
  pump(): void {
    const core = this.core;
    if (!core || this.#inFlight || !core.hasReady()) return;
    const ready = core.ready();
    const status = core.status();
    this.#inFlight = true;
    this.#logReady(ready);
    this.disk.write({ snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState });
    if (ready.hardState) this.#deps.checker.observeHardState(this.id, ready.hardState, this.disk.written);
    if (status.role === 'leader') this.#leaderWrittenTerm = status.term;
    const life = this.incarnation;
    const [lo, hi] = this.#deps.fsyncDelay;
    if (ready.mustSync) {
      const token = this.disk.beginSync();
      this.#deps.queue.after(lo + this.#deps.rng.next() * (hi - lo), `${this.id} fsync`, () => {
        if (life !== this.incarnation) return;
        this.disk.completeSync(token);
        this.#finish(ready);
      });
    } else {
      this.#deps.queue.after(this.#deps.rng.next() * lo, `${this.id} write`, () => {
        if (life === this.incarnation) this.#finish(ready);
      });
    }
  }

  /** After the write is durable: send, apply, advance. */
  #finish(ready: Ready): void {
    const core = this.core!;
    const messages = this.#deps.coalesce
      ? coalesceMessages(ready.messages, this.#deps.coreConfig.maxSizePerMsg)
      : ready.messages;
    for (const message of messages) this.#deps.send(message);
    if (ready.snapshot && ready.snapshot.meta.index > this.applied) {
      const { meta, data } = ready.snapshot;
      this.#restore(data, meta.index, meta.term, meta.conf);
      for (const index of [...this.#proposals.keys()]) if (index <= meta.index) this.#proposals.delete(index);
    }
    for (const entry of ready.committedEntries) this.#apply(entry);
    for (const read of ready.readStates) {
      const context = decoder.decode(read.context);
      this.#deps.log(`${this.id} readState ${context} index=${read.index}`);
      this.#deps.checker.onReadState(this.id, context, read.index);
    }
    core.advance(ready);
    this.#inFlight = false;
    if (this.applied > this.#lastSnapshot && this.#deps.rng.chance(this.#deps.compactChance)) this.compact();
    this.pump();
  }

  /** Snapshot the state machine at the applied index and compact the log (between Readies only). */
  compact(): void {
    const core = this.core;
    if (!core || this.#inFlight || this.applied <= this.#lastSnapshot) return;
    const pad = new Uint8Array(this.#deps.rng.int(0, 300)).fill(this.applied & 0xff);
    const data = encode({ index: this.applied, chain: this.#chain, pad } satisfies SnapshotState);
    const meta = { index: this.applied, term: this.#appliedTerm, conf: this.#appliedConf };
    this.disk.saveSnapshot({ meta, data });
    core.compact(this.applied, data);
    this.#lastSnapshot = this.applied;
    this.#deps.log(`${this.id} compact at ${this.applied}`);
  }

  #apply(entry: Entry): void {
    if (entry.index !== this.applied + 1) {
      throw new InvariantError(
        'ready contract',
        `${this.id} is handed committed entry ${entry.index} to apply after applying ${this.applied}`,
      );
    }
    if (this.#deps.checkDurableApply) {
      const stored = entryAt(this.disk.durable, entry.index);
      if (!stored || fingerprint(stored) !== fingerprint(entry)) {
        throw new InvariantError(
          'ready contract',
          `${this.id} is handed committed entry ${entry.index} that is not durable on its disk`,
        );
      }
    }
    this.#chain = this.#deps.checker.onApply(this.id, entry, this.#chain);
    if (entry.type === EntryType.ConfChange) {
      this.#appliedConf = applyCommittedConfChange(this.#appliedConf, decode(entry.data) as ConfChange);
    }
    const proposal = this.#proposals.get(entry.index);
    if (proposal) {
      this.#proposals.delete(entry.index);
      const same =
        entry.type === EntryType.Normal && proposal.term === entry.term && decoder.decode(entry.data) === proposal.id;
      if (same) this.#deps.checker.ack(proposal.id, entry.index);
      this.#deps.log(`${this.id} ${same ? 'ACK' : 'lost'} ${proposal.id} at ${entry.index}`);
    }
    this.applied = entry.index;
    this.#appliedTerm = entry.term;
  }

  #restore(data: Uint8Array, index: number, term: number, conf: ConfState): void {
    const state = decode(data) as SnapshotState;
    if (state.index !== index) {
      throw new InvariantError(
        'state machine safety',
        `${this.id} got a snapshot labelled index ${index} holding the state at ${state.index}`,
      );
    }
    this.#deps.checker.onRestore(this.id, index, state.chain);
    this.#chain = state.chain;
    this.applied = index;
    this.#appliedTerm = term;
    this.#appliedConf = conf;
    this.#lastSnapshot = index;
  }

  #logReady(ready: Ready): void {
    const parts: string[] = [];
    if (ready.softState) parts.push(`${ready.softState.role} leader=${ready.softState.leader}`);
    if (ready.hardState) parts.push(`hs=${ready.hardState.term}/${ready.hardState.vote}/${ready.hardState.commit}`);
    if (ready.snapshot) parts.push(`snap=${ready.snapshot.meta.index}/${ready.snapshot.meta.term}`);
    if (ready.entries.length > 0) parts.push(`write ${ready.entries.map(entryText).join(' ')}`);
    if (ready.committedEntries.length > 0) {
      const c = ready.committedEntries;
      parts.push(`apply ${c[0]!.index}..${c[c.length - 1]!.index}`);
    }
    if (ready.messages.length > 0) parts.push(`send ${ready.messages.length}`);
    if (ready.mustSync) parts.push('sync');
    this.#deps.log(`${this.id} ready: ${parts.join(' ')}`);
  }
}
