/**
 * Raft storage that reports how long each durable save took: the write and fsync of one Ready's
 * WAL frame, the floor under every commit. A wrapper, so the storage and the driver stay as
 * they are and memory storage (tests) reports the same way.
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { RaftStorage } from '../raft/interfaces.js';

/**
 * `storage`, telling `observe` the seconds of every `save` that had to sync.
 * @example const storage = timedRaftStorage(await FileRaftStorage.open(dir), (s) => walSync.observe(s));
 */
export function timedRaftStorage(storage: RaftStorage, observe: (seconds: number) => void): RaftStorage {
  return {
    load: () => storage.load(),
    async save(parts, sync) {
      if (!sync) return storage.save(parts, sync);
      const started = performance.now();
      await storage.save(parts, sync);
      observe((performance.now() - started) / 1000);
    },
    saveSnapshot: (snapshot) => storage.saveSnapshot(snapshot),
    close: () => storage.close(),
  };
}
