/**
 * Property test: random sequences of saves, snapshots and restarts give the same state on disk
 * as in the memory storage (the reference model). Seeded, so a failure replays.
 */
import { FileRaftStorage, MemoryRaftStorage } from '../../../src/raft/storage/index.js';
import { entries, hardState, snapshot, summarize, tempDir } from './helpers.js';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('FileRaftStorage against MemoryRaftStorage', () => {
  it.each([1, 2, 3])('random saves, snapshots and restarts agree with the model (seed %i)', async (seed) => {
    const random = prng(seed);
    const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
    const tmp = await tempDir();
    const options = { segmentBytes: 400 };
    let file = await FileRaftStorage.open(tmp.dir, options);
    const model = new MemoryRaftStorage();
    let term = 1;
    const trace: string[] = [];
    try {
      for (let step = 0; step < 120; step++) {
        const state = await model.load();
        const floor = state.snapshot?.meta.index ?? 0;
        const last = state.entries.at(-1)?.index ?? floor;
        const roll = random();
        if (roll < 0.5) {
          if (random() < 0.2) term++;
          const from = int(Math.max(floor + 1, last - 3), last + 1);
          const batch = entries(from, from + int(0, 4), term, int(1, 60));
          const hs = random() < 0.5 ? hardState(term, 'n1', int(floor, from - 1)) : undefined;
          const sync = random() < 0.7;
          trace.push(`save ${from}..${from + batch.length - 1} t${term}${hs ? ' +hs' : ''}${sync ? '' : ' nosync'}`);
          const parts = hs ? { entries: batch, hardState: hs } : { entries: batch };
          await file.save(parts, sync);
          await model.save(parts, sync);
        } else if (roll < 0.65 && last > floor) {
          const index = int(floor + 1, last);
          trace.push(`saveSnapshot ${index}`);
          await file.saveSnapshot(snapshot(index, term, step));
          await model.saveSnapshot(snapshot(index, term, step));
        } else if (roll < 0.75) {
          term++;
          const index = int(floor, last + 5);
          const after = random() < 0.5 ? entries(index + 1, index + int(1, 3), term) : [];
          const parts = {
            snapshot: snapshot(index, term, step),
            entries: after,
            hardState: hardState(term, null, index),
          };
          trace.push(`install snapshot ${index} t${term} +${after.length}`);
          await file.save(parts, true);
          await model.save(parts, true);
        } else if (roll < 0.85) {
          trace.push('restart');
          await file.close();
          file = await FileRaftStorage.open(tmp.dir, options);
        } else {
          const hs = hardState(term, random() < 0.5 ? null : 'n2', int(floor, last));
          trace.push(`hardState ${hs.commit}`);
          await file.save({ entries: [], hardState: hs }, true);
          await model.save({ entries: [], hardState: hs }, true);
        }
        const [got, want] = [summarize(await file.load()), summarize(await model.load())];
        if (got.join('\n') !== want.join('\n')) {
          throw new Error(
            `seed ${seed} step ${step} diverged after:\n${trace.join('\n')}\n--- file\n${got.join('\n')}\n--- model\n${want.join('\n')}`,
          );
        }
      }
      expect(trace.filter((t) => t === 'restart').length).toBeGreaterThan(3);
    } finally {
      await file.close();
      await tmp.remove();
    }
  });
});
