/**
 * Durable Raft storage: {@link FileRaftStorage} (WAL segments + snapshot files on disk) and
 * {@link MemoryRaftStorage} (same semantics in memory, for tests and the simulator).
 */
export { FileRaftStorage, DEFAULT_SEGMENT_BYTES, type FileRaftStorageOptions } from './file-storage.js';
export { MemoryRaftStorage, EMPTY_HARD_STATE } from './memory-storage.js';
export { StorageError, StorageCorruptError, StorageVersionError } from './errors.js';
export { measureFsyncLatency, type FsyncLatency } from './fsync-latency.js';
