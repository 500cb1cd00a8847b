/**
 * The Raft driver: wires the pure core to storage, a transport, a clock and a state machine.
 *
 * One loop (`#pump`) drains the core's Ready batches in the contract's order: persist, send,
 * apply, advance. While a batch is being fsynced, new proposals and messages keep stepping the
 * core; their entries collect in the core's unstable log and go to disk together in the next
 * single `save` — that is the group commit. A Ready's messages are merged before they are sent
 * (coalesce.ts): one append per follower per Ready, not one per proposal.
 */
import { EventEmitter } from 'node:events';
import { decode } from 'cbor-x';
import { RaftCore, foundingConf } from '../core/index.js';
import type { RaftCoreApi, RaftStorage, RaftTransport, StateMachine } from '../interfaces.js';
import {
  EntryType,
  type ConfChange,
  type ConfState,
  type NodeId,
  type RaftConfig,
  type RaftStatus,
  type Ready,
  type RefusalReason,
} from '../types.js';
import { NotLeaderError, OutcomeUnknownError, RaftRefusedError, StoppedError } from '../errors.js';
import { applyCommittedConfChange } from './applied-conf.js';
import { coalesceMessages, DEFAULT_MERGED_APPEND_BYTES } from './coalesce.js';
import { ProposalWaiters, ReadWaiters } from './waiters.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';

export interface RaftNodeOptions {
  readonly id: NodeId;
  readonly storage: RaftStorage;
  readonly transport: RaftTransport;
  readonly stateMachine: StateMachine;
  /** Configuration of a brand new cluster (or a joiner's empty start); ignored once a snapshot exists. */
  readonly bootstrapConf?: ConfState;
  /** Length of one core tick. Default 100 ms (election timeout 1–2 s with electionTick 10). */
  readonly tickMs?: number;
  /** Core tunables other than id and random. */
  readonly raft?: Omit<RaftConfig, 'id' | 'random'>;
  /** Random source for election timeouts. Default Math.random (the driver is an edge, not the core). */
  readonly random?: () => number;
  readonly clock?: Clock;
  /** Take a snapshot and compact the log every this many applied entries. Default 10,000. */
  readonly snapshotEvery?: number;
  /** Minimal structured logger (pino fits). */
  readonly logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export interface RaftNodeEvents {
  'leader:change': [leader: NodeId | null, term: number];
  'conf:change': [conf: ConfState];
  /** A snapshot from the leader replaced the state machine (this node was too far behind). */
  'snapshot:restore': [index: number, term: number];
  /** Every committed entry of a Ready (Noops and conf changes too), after they were applied: the state feed's source. */
  'entries:applied': [entries: Ready['committedEntries']];
  /** The pump failed (storage error): the node stopped itself; the cause is attached. */
  fatal: [error: Error];
}

interface RequestOptions {
  readonly signal?: AbortSignal;
}

export class RaftNode extends EventEmitter<RaftNodeEvents> {
  readonly id: NodeId;
  readonly #options: RaftNodeOptions;
  readonly #clock: Clock;
  #core: RaftCoreApi | null = null;
  #ticker: TimerHandle | null = null;
  #pumping: Promise<void> | null = null;
  #pumpAgain = false;
  #stopped = false;
  #applied = 0;
  #appliedTerm = 0;
  #appliedConf: ConfState = { voters: [], learners: [] };
  #lastSnapshotIndex = 0;
  #leader: NodeId | null = null;
  #readSeq = 0;
  #forceSnapshot = false;
  readonly #proposals = new ProposalWaiters();
  readonly #confChanges = new ProposalWaiters();
  readonly #reads = new ReadWaiters();
  /** A merged append stays within the core's own bound on an append. */
  readonly #maxAppendBytes: number;

  constructor(options: RaftNodeOptions) {
    super();
    this.id = options.id;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#maxAppendBytes = options.raft?.maxSizePerMsg ?? DEFAULT_MERGED_APPEND_BYTES;
  }

  /** Recover from storage, start the transport and the ticker. */
  async start(): Promise<void> {
    if (this.#core) return;
    const { storage, transport, stateMachine } = this.#options;
    const restored = await storage.load();
    if (restored.snapshot) {
      stateMachine.restore(restored.snapshot.data, restored.snapshot.meta.index);
      this.#applied = restored.snapshot.meta.index;
      this.#appliedTerm = restored.snapshot.meta.term;
      this.#appliedConf = restored.snapshot.meta.conf;
      this.#lastSnapshotIndex = restored.snapshot.meta.index;
    } else {
      this.#appliedConf = this.#options.bootstrapConf ?? { voters: [], learners: [] };
    }
    this.#core = new RaftCore(
      { ...this.#options.raft, id: this.id, random: this.#options.random ?? Math.random },
      { ...restored, bootstrapConf: restored.bootstrapConf ?? this.#options.bootstrapConf },
    );
    transport.onMessage((message) => {
      if (this.#stopped || !this.#core) return;
      this.#core.step(message);
      this.#schedulePump();
    });
    transport.onUnreachable?.((peer) => this.reportUnreachable(peer));
    await transport.start();
    this.#ticker = this.#clock.setInterval(() => {
      if (this.#stopped || !this.#core) return;
      this.#core.tick();
      this.#schedulePump();
    }, this.#options.tickMs ?? 100);
    this.#schedulePump();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#ticker) this.#clock.clearInterval(this.#ticker);
    await this.#pumping?.catch(() => undefined);
    const stopped = new StoppedError();
    this.#proposals.rejectAll(() => stopped);
    this.#confChanges.rejectAll(() => stopped);
    this.#reads.rejectAll(stopped);
    await this.#options.transport.stop();
    await this.#options.storage.close();
  }

  /** Propose a command; resolves with the state machine's result once applied on this node. */
  async propose(data: Uint8Array, options: RequestOptions = {}): Promise<unknown> {
    const core = this.#requireCore();
    const result = core.propose(data);
    if (!result.ok) throw refusal(result.reason, result.leader, result.detail);
    const applied = this.#proposals.add(result.index, result.term);
    this.#schedulePump();
    return withSignal(applied, options.signal);
  }

  /**
   * A linearizable read barrier (ReadIndex): resolves once this node's state machine reflects
   * every write committed before the call. Works on followers too (forwarded to the leader).
   */
  async read(options: RequestOptions = {}): Promise<void> {
    const core = this.#requireCore();
    const context = `${this.id}/${++this.#readSeq}`;
    const result = core.readIndex(new TextEncoder().encode(context));
    if (!result.ok) throw refusal(result.reason, result.leader, result.detail);
    const done = this.#reads.add(context);
    this.#schedulePump();
    const timeoutMs = (this.#options.tickMs ?? 100) * (this.#options.raft?.electionTick ?? 10) * 2;
    const timer = this.#clock.setTimeout(
      () =>
        this.#reads.cancel(
          context,
          new NotLeaderError(this.#leader, 'notLeader', 'The read was not confirmed by a quorum in time: retry'),
        ),
      timeoutMs,
    );
    try {
      return await withSignal(done, options.signal);
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }

  /** Propose a membership change; resolves once it is committed and applied here. */
  async changeMembership(change: ConfChange, options: RequestOptions = {}): Promise<void> {
    const core = this.#requireCore();
    const result = core.proposeConfChange(change);
    if (!result.ok) throw refusal(result.reason, result.leader, result.detail);
    const applied = this.#confChanges.add(result.index, result.term);
    this.#schedulePump();
    await withSignal(applied, options.signal);
  }

  /** Hand leadership to `to`; resolves when `to` leads, rejects if it did not happen within two election timeouts. */
  async transferLeadership(to: NodeId, options: RequestOptions = {}): Promise<void> {
    const core = this.#requireCore();
    const result = core.transferLeader(to);
    if (!result.ok) throw refusal(result.reason, result.leader, result.detail);
    this.#schedulePump();
    const timeoutMs = (this.#options.tickMs ?? 100) * (this.#options.raft?.electionTick ?? 10) * 2;
    const done = new Promise<void>((resolve, reject) => {
      const onChange = (leader: NodeId | null): void => {
        if (leader !== to) return;
        cleanup();
        resolve();
      };
      const timer = this.#clock.setTimeout(() => {
        cleanup();
        reject(
          new RaftRefusedError(
            'transferring',
            this.#leader,
            `Leadership did not move to ${to} within ${timeoutMs} ms: check that it is up to date and reachable`,
          ),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        this.off('leader:change', onChange);
        this.#clock.clearTimeout(timer);
      };
      this.on('leader:change', onChange);
    });
    return withSignal(done, options.signal);
  }

  /**
   * Tell Raft a peer could not be reached (its connection closed). On a follower that loses its
   * leader this starts an election within a few ticks instead of a whole election timeout.
   */
  reportUnreachable(peer: NodeId): void {
    if (this.#stopped || !this.#core) return;
    this.#core.reportUnreachable(peer);
    this.#schedulePump();
  }

  /** Start an election now (operator action and tests). */
  campaign(): void {
    this.#requireCore().campaign();
    this.#schedulePump();
  }

  status(): RaftStatus {
    return this.#requireCore().status();
  }

  get leader(): NodeId | null {
    return this.#leader;
  }

  get applied(): number {
    return this.#applied;
  }

  /** The configuration as of the last applied entry. */
  get appliedConf(): ConfState {
    return this.#appliedConf;
  }

  #requireCore(): RaftCoreApi {
    if (this.#stopped) throw new StoppedError();
    if (!this.#core) throw new Error('Cannot use the Raft node before start(): call and await start() first');
    return this.#core;
  }

  #schedulePump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = this.#pump()
      .catch((error: unknown) => this.#fail(error))
      .finally(() => {
        this.#pumping = null;
        if (this.#pumpAgain && !this.#stopped) {
          this.#pumpAgain = false;
          this.#schedulePump();
        }
      });
  }

  async #pump(): Promise<void> {
    // Let the current burst of proposals/messages land in the core first: they share one fsync.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const core = this.#core;
    if (core && this.#forceSnapshot && !core.hasReady()) await this.#maybeSnapshot(core);
    while (core && !this.#stopped && core.hasReady()) {
      const ready = core.ready();
      await this.#persist(ready);
      if (ready.messages.length > 0)
        this.#options.transport.send(coalesceMessages(ready.messages, this.#maxAppendBytes));
      this.#applyReady(ready);
      core.advance(ready);
      await this.#maybeSnapshot(core);
    }
  }

  async #persist(ready: Ready): Promise<void> {
    if (!ready.snapshot && ready.entries.length === 0 && !ready.hardState) return;
    await this.#options.storage.save(
      { snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState },
      ready.mustSync,
    );
  }

  #applyReady(ready: Ready): void {
    const { stateMachine } = this.#options;
    if (ready.softState && ready.softState.leader !== this.#leader) {
      const wasLeader = this.#leader === this.id;
      this.#leader = ready.softState.leader;
      if (wasLeader && this.#leader !== this.id) {
        this.#proposals.rejectAll((index) => new OutcomeUnknownError(index));
        this.#confChanges.rejectAll((index) => new OutcomeUnknownError(index));
        this.#reads.rejectPending(new NotLeaderError(this.#leader));
      }
      this.emit('leader:change', this.#leader, ready.hardState?.term ?? this.#core?.status().term ?? 0);
    }
    if (ready.snapshot && ready.snapshot.meta.index > this.#applied) {
      stateMachine.restore(ready.snapshot.data, ready.snapshot.meta.index);
      this.#applied = ready.snapshot.meta.index;
      this.#appliedTerm = ready.snapshot.meta.term;
      this.#appliedConf = ready.snapshot.meta.conf;
      this.#lastSnapshotIndex = ready.snapshot.meta.index;
      this.#proposals.coveredBySnapshot(this.#applied);
      this.#confChanges.coveredBySnapshot(this.#applied);
      this.emit('snapshot:restore', ready.snapshot.meta.index, ready.snapshot.meta.term);
      this.emit('conf:change', this.#appliedConf);
    }
    for (const entry of ready.committedEntries) {
      if (entry.index <= this.#applied) continue;
      if (entry.type === EntryType.Normal) {
        const result = stateMachine.apply(entry);
        this.#proposals.applied(entry.index, entry.term, result);
      } else if (entry.type === EntryType.Noop) {
        // A new cluster's first entry carries its founding configuration (core/conf.ts).
        const founding = foundingConf(entry);
        if (founding) this.#appliedConf = founding;
      } else if (entry.type === EntryType.ConfChange) {
        const change = decode(entry.data) as ConfChange;
        this.#appliedConf = applyCommittedConfChange(this.#appliedConf, change);
        stateMachine.applyConfChange?.(entry, change);
        this.#confChanges.applied(entry.index, entry.term, undefined);
        this.emit('conf:change', this.#appliedConf);
      }
      this.#applied = entry.index;
      this.#appliedTerm = entry.term;
    }
    if (ready.committedEntries.length > 0) this.emit('entries:applied', ready.committedEntries);
    for (const read of ready.readStates) {
      this.#reads.readState(
        new TextDecoder().decode(read.context),
        read.index,
        this.#applied,
        () => new NotLeaderError(this.#leader),
      );
    }
    this.#reads.applied(this.#applied);
  }

  /**
   * Snapshot the state machine at the applied index and compact the log now. A new cluster does
   * this right after bootstrap, so that joiners start from a snapshot that carries the
   * bootstrap configuration (which is not in the log).
   */
  async snapshotNow(): Promise<void> {
    this.#requireCore();
    this.#forceSnapshot = true;
    // Run through the pump so the snapshot never interleaves with a Ready being handled.
    this.#schedulePump();
    while (this.#forceSnapshot && !this.#stopped && this.#pumping) await this.#pumping;
  }

  async #maybeSnapshot(core: RaftCoreApi): Promise<void> {
    const every = this.#options.snapshotEvery ?? 10_000;
    const forced = this.#forceSnapshot && this.#applied > this.#lastSnapshotIndex;
    this.#forceSnapshot = false;
    if (!forced && this.#applied - this.#lastSnapshotIndex < every) return;
    const data = this.#options.stateMachine.snapshot();
    const meta = { index: this.#applied, term: this.#appliedTerm, conf: this.#appliedConf };
    await this.#options.storage.saveSnapshot({ meta, data });
    core.compact(meta.index, data);
    this.#lastSnapshotIndex = meta.index;
  }

  #fail(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    this.#options.logger?.error({ err }, 'raft node stopped after a storage or apply failure');
    this.emit('fatal', err);
    void this.stop();
  }
}

function refusal(reason: RefusalReason, leader: NodeId | null, detail?: string): Error {
  return reason === 'notLeader'
    ? new NotLeaderError(leader, reason, detail)
    : new RaftRefusedError(reason, leader, detail);
}

function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
