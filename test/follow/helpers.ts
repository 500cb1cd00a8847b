/** Shared fixtures of the follow tests: entries, a recording state machine. */
import { EntryType, type Entry } from '../../src/raft/types.js';

/** Normal entries `first..last` with `size` bytes of data each. */
export function span(first: number, last: number, size = 8, term = 1): Entry[] {
  const out: Entry[] = [];
  for (let index = first; index <= last; index++) {
    out.push({ index, term, type: EntryType.Normal, data: new Uint8Array(size).fill(index % 251) });
  }
  return out;
}

/** A state machine that records what it was given: enough to check order, gaps and repeats. */
export class RecordingMachine {
  applied: number[] = [];
  restores: Array<{ index: number; bytes: number }> = [];
  apply(entry: Entry): void {
    this.applied.push(entry.index);
  }
  restore(data: Uint8Array, index: number): void {
    this.restores.push({ index, bytes: data.byteLength });
    this.applied = [];
  }
}
