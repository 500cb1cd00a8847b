/** Helpers for tests that drive a single RaftCore by hand. */
import { RaftCore } from '../../../../src/raft/core/index.js';
import type { Entry, Message, NodeId, RaftConfig, Ready, Snapshot } from '../../../../src/raft/types.js';
import { EntryType } from '../../../../src/raft/types.js';
import { seeded } from './prng.js';

export interface CoreOptions extends Partial<Omit<RaftConfig, 'id'>> {
  /** Terms of the entries at index 1, 2, ... */
  terms?: number[];
  term?: number;
  vote?: NodeId | null;
  commit?: number;
  learners?: NodeId[];
  snapshot?: Snapshot;
  entries?: Entry[];
}

/** Entries at index 1.. with the given terms (or starting after `from`). */
export function entriesWithTerms(terms: number[], from = 0): Entry[] {
  return terms.map((term, i) => ({
    index: from + i + 1,
    term,
    type: EntryType.Normal,
    data: new Uint8Array([i & 0xff]),
  }));
}

/** A core restored with the given log and hard state; paper tests default to no pre-vote/check-quorum. */
export function newCore(id: NodeId, voters: NodeId[], o: CoreOptions = {}): RaftCore {
  const { terms, term, vote, commit, learners, snapshot, entries, ...config } = o;
  const log = entries ?? entriesWithTerms(terms ?? [], snapshot?.meta.index ?? 0);
  const lastTerm = log.length ? log[log.length - 1]!.term : (snapshot?.meta.term ?? 0);
  return new RaftCore(
    { id, random: seeded(7), preVote: false, checkQuorum: false, ...config },
    {
      hardState: { term: term ?? lastTerm, vote: vote ?? null, commit: commit ?? snapshot?.meta.index ?? 0 },
      entries: log,
      bootstrapConf: { voters, learners: learners ?? [] },
      ...(snapshot ? { snapshot } : {}),
    },
  );
}

/** Takes a Ready and advances it (as a driver that persisted it would). */
export function drain(core: RaftCore): Ready {
  const rd = core.ready();
  core.advance(rd);
  return rd;
}

/** The messages of the next Ready (advanced). */
export function messages(core: RaftCore): Message[] {
  return core.hasReady() ? [...drain(core).messages] : [];
}

/** Ticks a core `n` times. */
export function ticks(core: RaftCore, n: number): void {
  for (let i = 0; i < n; i++) core.tick();
}

/** Makes `core` (voters given) leader by granting it the votes of `grant`. */
export function makeLeader(core: RaftCore, grant: NodeId[]): void {
  core.campaign();
  const term = core.status().term;
  const id = core.status().id;
  for (const from of grant) core.step({ type: 'voteResp', from, to: id, term, preVote: false, granted: true });
  if (core.status().role !== 'leader') throw new Error(`${id} did not become leader`);
}
