/**
 * Durable Raft storage on local disk: a write-ahead log of checksummed frames in segment files
 * (`<dir>/wal/`) plus atomically written snapshot files (`<dir>/snap/`).
 *
 * Crash safety in short: a save is one write and, when asked, one fdatasync; a torn last write
 * is cut off on open; a snapshot is durable before the WAL refers to it or drops entries for it;
 * a new segment is complete and fsynced (with its directory) before anything is appended to it.
 */
import { join } from 'node:path';
import type { RaftStorage } from '../interfaces.js';
import type { Entry, HardState, RestoredState, Snapshot } from '../types.js';
import { StorageError } from './errors.js';
import { encodeFrame } from './frame.js';
import { ensureDir, removeTempFiles } from './fs-util.js';
import { checkSave, LogState } from './log-state.js';
import { encodeWalRecord, type Position, type WalRecord } from './records.js';
import { SnapshotStore } from './snapshot-store.js';
import { Wal, type HeaderState } from './wal.js';
import { replayWal, type ReplayBase } from './wal-replay.js';

/** Options of {@link FileRaftStorage.open}. */
export interface FileRaftStorageOptions {
  /** Start a new segment file once the current one reaches this size. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Snapshot files to keep (the newest is used; older ones are spares). Default 2. */
  readonly keepSnapshots?: number;
  /** Told about repairs made on open (a torn tail cut off, a missing snapshot marker rewritten). */
  readonly onWarning?: (message: string) => void;
}

/** Default segment size. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

type SaveParts = Parameters<RaftStorage['save']>[0];

async function loadState(snapshots: SnapshotStore, walDir: string, repair: boolean) {
  const record = await snapshots.loadNewest();
  const base: ReplayBase | undefined = record && {
    index: record.snapshot.meta.index,
    term: record.snapshot.meta.term,
    reset: record.reset,
  };
  const replay = await replayWal(walDir, base, repair);
  const restored: RestoredState = {
    hardState: replay.hardState,
    ...(record ? { snapshot: record.snapshot } : {}),
    entries: [...replay.log.entries],
  };
  return { replay, restored };
}

/**
 * {@link RaftStorage} on disk. Operations run one at a time in call order. After a failed write
 * every later call rejects: the page cache can no longer be trusted, so restart the member.
 *
 * @example
 * ```ts
 * const storage = await FileRaftStorage.open('/var/lib/shoal/raft');
 * const restored = await storage.load();
 * await storage.save({ entries: ready.entries, hardState: ready.hardState }, ready.mustSync);
 * ```
 */
export class FileRaftStorage implements RaftStorage {
  /** The data directory. */
  readonly dir: string;
  readonly #walDir: string;
  readonly #snapshots: SnapshotStore;
  readonly #wal: Wal;
  /** Indexes only: what is stored after the saves so far. */
  readonly #log: LogState;
  #hardState: HardState;
  #reset: Position;
  #restored: RestoredState | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #failure: unknown;
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(
    dir: string,
    snapshots: SnapshotStore,
    wal: Wal,
    log: LogState,
    hardState: HardState,
    reset: Position,
    restored: RestoredState,
  ) {
    this.dir = dir;
    this.#walDir = join(dir, 'wal');
    this.#snapshots = snapshots;
    this.#wal = wal;
    this.#log = log;
    this.#hardState = hardState;
    this.#reset = reset;
    this.#restored = restored;
  }

  /**
   * Open the storage in `dir` (created when missing), recover what was saved and repair a torn
   * tail. Throws StorageError when the directory is unusable, StorageCorruptError on corruption.
   */
  static async open(dir: string, options: FileRaftStorageOptions = {}): Promise<FileRaftStorage> {
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes <= 0) {
      throw new RangeError(`Cannot open storage with segmentBytes ${segmentBytes}: expected a positive integer`);
    }
    try {
      return await FileRaftStorage.#open(dir, segmentBytes, options);
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw new StorageError(
        `Cannot open Raft storage in ${dir}: ${(e as Error).message}; check the disk and the directory's permissions`,
        {
          cause: e,
        },
      );
    }
  }

  static async #open(dir: string, segmentBytes: number, options: FileRaftStorageOptions): Promise<FileRaftStorage> {
    await ensureDir(dir, 'data directory');
    const walDir = join(dir, 'wal');
    await ensureDir(walDir, 'WAL directory');
    await removeTempFiles(walDir);
    const snapshots = await SnapshotStore.open(join(dir, 'snap'), options.keepSnapshots ?? 2);
    const { replay, restored } = await loadState(snapshots, walDir, true);
    if (replay.torn) {
      options.onWarning?.(
        `repaired a torn write at the end of ${replay.torn.file}: cut at byte ${replay.torn.offset} (${replay.torn.reason})`,
      );
    }
    const floor = restored.snapshot?.meta.index ?? 0;
    const log = new LogState({ floor, lastIndex: replay.log.lastIndex, keepEntries: false });
    const reset = replay.markerMissing ? { index: floor, term: restored.snapshot!.meta.term } : replay.reset;
    const header: HeaderState = { hardState: replay.hardState, reset, nextIndex: log.lastIndex + 1 };
    const wal = await Wal.open(walDir, segmentBytes, replay.segments, header);
    const storage = new FileRaftStorage(dir, snapshots, wal, log, replay.hardState, reset, restored);
    try {
      if (replay.markerMissing) {
        // The snapshot was installed but the crash came before its marker reached the WAL: write
        // it now, or entries appended after this open would be dropped by the next replay.
        options.onWarning?.(`rewrote the WAL marker of the snapshot at index ${floor}, lost in a crash`);
        await wal.append(
          FileRaftStorage.#frames([{ kind: 'snapshot', position: reset }]),
          { maxIndex: 0, reset: true },
          true,
          () => header,
        );
      }
      await wal.compact(floor);
    } catch (e) {
      await wal.close().catch(() => undefined);
      throw e;
    }
    return storage;
  }

  static #frames(records: readonly WalRecord[]): Buffer {
    return Buffer.concat(records.map((record) => encodeFrame(encodeWalRecord(record))));
  }

  /** The WAL segment file names, oldest first. */
  get segments(): readonly string[] {
    return this.#wal.segmentNames;
  }

  /** What was saved. Returns what open() recovered until the first write; after that, reads the files again. */
  load(): Promise<RestoredState> {
    return this.#run('load', async () => {
      const restored = this.#restored;
      if (restored !== undefined) {
        this.#restored = undefined; // do not pin the recovered log in memory
        return restored;
      }
      return (await loadState(this.#snapshots, this.#walDir, false)).restored;
    });
  }

  save(parts: SaveParts, sync: boolean): Promise<void> {
    return this.#run('save', async () => {
      checkSave(this.#log, parts);
      const records: WalRecord[] = [];
      const snapshot = parts.snapshot;
      const floor = snapshot?.meta.index ?? this.#log.floor;
      if (snapshot !== undefined) {
        await this.#write(() => this.#snapshots.write(snapshot, true));
        records.push({ kind: 'snapshot', position: { index: snapshot.meta.index, term: snapshot.meta.term } });
      }
      const skip = parts.entries.findIndex((e) => e.index > floor);
      const entries: readonly Entry[] = skip < 0 ? [] : parts.entries.slice(skip);
      // One frame for the entries and the hard state: a torn write keeps both or neither.
      if (entries.length > 0 || parts.hardState !== undefined)
        records.push({ kind: 'batch', entries, hardState: parts.hardState });
      if (records.length === 0) {
        // Nothing new, but a sync request still flushes earlier unsynced saves.
        if (sync) await this.#write(() => this.#wal.sync());
        return;
      }
      const info = { maxIndex: entries.at(-1)?.index ?? 0, reset: snapshot !== undefined };
      await this.#write(() =>
        this.#wal.append(FileRaftStorage.#frames(records), info, sync, () => this.#headerState()),
      );
      if (snapshot !== undefined) {
        this.#log.reset(snapshot.meta.index);
        this.#reset = { index: snapshot.meta.index, term: snapshot.meta.term };
      }
      this.#log.append(entries);
      if (parts.hardState !== undefined) this.#hardState = parts.hardState;
      if (snapshot !== undefined) await this.#write(() => this.#compact());
    });
  }

  /** Keep `snapshot` and drop the log up to its index. A no-op when it is not newer than the stored one. */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.#run('saveSnapshot', async () => {
      if (snapshot.meta.index <= this.#log.floor) return;
      await this.#write(async () => {
        await this.#snapshots.write(snapshot, false);
        // A sync point: the entries the snapshot lets us drop must not outlive unsynced ones.
        await this.#wal.sync();
        this.#log.compact(snapshot.meta.index);
        await this.#compact();
      });
    });
  }

  /** Close after the operations already queued; later calls reject. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#queue.then(async () => {
      this.#closed = true;
      await this.#wal.close();
    });
    return this.#closing;
  }

  #headerState(): HeaderState {
    return { hardState: this.#hardState, reset: this.#reset, nextIndex: this.#log.lastIndex + 1 };
  }

  async #compact(): Promise<void> {
    await this.#wal.compact(this.#log.floor);
    await this.#snapshots.prune();
  }

  /** Run an I/O step; a failure poisons the storage. */
  async #write<T>(step: () => Promise<T>): Promise<T> {
    this.#restored = undefined; // stale from now on
    try {
      return await step();
    } catch (e) {
      this.#failure = e;
      throw new StorageError(
        `Cannot write Raft storage in ${this.dir}: ${(e as Error).message}; restart the member once the disk is fixed`,
        {
          cause: e,
        },
      );
    }
  }

  /** Serialize operations: the WAL is one append stream. */
  #run<T>(op: string, body: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(() => {
      if (this.#closed) throw new StorageError(`Cannot ${op} as the storage in ${this.dir} is closed: open it again`);
      if (this.#failure !== undefined) {
        throw new StorageError(
          `Cannot ${op} as an earlier write to ${this.dir} failed: restart the member once the disk is fixed`,
          {
            cause: this.#failure,
          },
        );
      }
      return body();
    });
    this.#queue = result.catch(() => undefined);
    return result;
  }
}
