/**
 * Errors of the Raft storage. Callers handle these by name: a corrupt store stops the member
 * (it must not vote or ack with a damaged log), anything else is an operational problem.
 */

/** The data directory cannot be used (not a directory, not readable, closed, a write failed). */
export class StorageError extends Error {
  override readonly name: string = 'StorageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** What to tell an operator whose store is damaged. */
export const CORRUPTION_ADVICE =
  'do not edit the files by hand: restore this member from its peers (stop it, move its data directory aside, and rejoin the cluster)';

/**
 * Stored data is damaged somewhere other than a torn tail (which is repaired silently on open).
 * The message names the file, the byte offset and what is wrong.
 *
 * @example
 * ```ts
 * try { await storage.load(); } catch (e) { if (e instanceof StorageCorruptError) console.error(e.file, e.offset); }
 * ```
 */
export class StorageCorruptError extends StorageError {
  override readonly name: string = 'StorageCorruptError';
  /** Path of the damaged file. */
  readonly file: string;
  /** Byte offset of the damaged frame in `file` (0 when the problem is the file as a whole). */
  readonly offset: number;
  /** What is wrong, without the file and advice. */
  readonly reason: string;

  constructor(file: string, offset: number, reason: string, options?: { cause?: unknown }) {
    super(`Cannot load Raft storage: ${file} at byte ${offset}: ${reason}; ${CORRUPTION_ADVICE}`, options);
    this.file = file;
    this.offset = offset;
    this.reason = reason;
  }
}

/** The files were written in a format version this build does not know (a newer shoal wrote them). */
export class StorageVersionError extends StorageError {
  override readonly name: string = 'StorageVersionError';
  constructor(file: string, found: unknown, supported: number) {
    super(
      `Cannot load Raft storage: ${file} has format version ${String(found)}, this shoal supports version ${supported}; run a shoal release that supports it`,
    );
  }
}
