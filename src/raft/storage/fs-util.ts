/**
 * The few file-system moves durable storage is built from: fsync of a directory, atomic file
 * replacement, checked data directories.
 * @internal
 */
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StorageError } from './errors.js';

/** Suffix of files being written; a leftover one is a crash mid-write and is deleted on open. */
export const TEMP_SUFFIX = '.tmp';

/** Make a rename, creation or deletion in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Write all of `data` at `position` (a single write may be short). */
export async function writeAll(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten}`);
    done += bytesWritten;
  }
}

/**
 * Replace `dir/name` with `data` atomically: after a crash the file holds either its old or its
 * new content, never a mix (temp file, write, fsync, rename, fsync the directory).
 */
export async function writeFileAtomic(dir: string, name: string, data: Uint8Array): Promise<void> {
  const temp = join(dir, name + TEMP_SUFFIX);
  const handle = await open(temp, 'w');
  try {
    await writeAll(handle, data, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(dir, name));
  await fsyncDir(dir);
}

/** Delete leftover temp files in `dir`; returns their names. */
export async function removeTempFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(TEMP_SUFFIX));
  for (const name of names) await unlink(join(dir, name));
  if (names.length > 0) await fsyncDir(dir);
  return names;
}

/**
 * Create `dir` if missing and check it is a directory this process can read and write.
 * Throws a StorageError that says what is wrong and what to do.
 */
export async function ensureDir(dir: string, what: string): Promise<void> {
  let created: string | undefined;
  try {
    created = await mkdir(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint =
      code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way: move it' : 'check the path and its permissions';
    throw new StorageError(`Cannot use ${what} ${dir} as it cannot be created (${code ?? String(e)}): ${hint}`, {
      cause: e,
    });
  }
  if (created !== undefined) {
    // New directory entries are only durable once their parents are fsynced.
    for (let parent = dirname(dir); ; parent = dirname(parent)) {
      await fsyncDir(parent);
      if (parent === dirname(created) || parent === dirname(parent)) break;
    }
  }
  const info = await stat(dir);
  if (!info.isDirectory()) {
    throw new StorageError(
      `Cannot use ${what} ${dir} as it is not a directory: move the file away or choose another data directory`,
    );
  }
  try {
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new StorageError(
      `Cannot use ${what} ${dir} as this process (uid ${process.getuid?.() ?? '?'}) cannot read and write it: fix its owner or permissions`,
      { cause: e },
    );
  }
}
