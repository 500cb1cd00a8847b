/** Shared fixtures for the storage tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntryType, type Entry, type HardState, type Snapshot } from '../../../src/raft/types.js';

/** An entry whose data says where it came from, so overwrites are visible. */
export function entry(index: number, term: number, size = 8): Entry {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (index * 31 + term * 7 + i) & 0xff;
  return { index, term, type: EntryType.Normal, data };
}

/** Entries `from..to` inclusive, all of one term. */
export function entries(from: number, to: number, term: number, size = 8): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term, size));
  return out;
}

export function hardState(term: number, vote: string | null, commit: number): HardState {
  return { term, vote, commit };
}

export function snapshot(index: number, term: number, tag = 0): Snapshot {
  return {
    meta: { index, term, conf: { voters: ['a', 'b', 'c'], learners: ['d'] } },
    data: new Uint8Array([index & 0xff, term & 0xff, tag, 1, 2, 3]),
  };
}

/** A fresh temp directory and its removal. */
export async function tempDir(prefix = 'shoal-storage-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A restored state as plain strings: as strict as comparing the objects, but jest compares
 * strings far faster than typed arrays (it matters in loops over thousands of byte offsets).
 */
export function summarize(state: { hardState: HardState; snapshot?: Snapshot; entries: readonly Entry[] }): string[] {
  const hex = (data: Uint8Array): string => Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex');
  const { hardState: hs, snapshot: snap } = state;
  return [
    `hardState ${hs.term} ${String(hs.vote)} ${hs.commit}`,
    snap === undefined
      ? 'no snapshot'
      : `snapshot ${snap.meta.index} ${snap.meta.term} ${JSON.stringify(snap.meta.conf)} ${hex(snap.data)}`,
    ...state.entries.map((e) => `${e.index} ${e.term} ${e.type} ${hex(e.data)}`),
  ];
}
