/**
 * Where a task's secrets and configs live on the node: one directory per container on tmpfs
 * (never on disk), made just before the container and removed once the container is gone.
 *
 * - Docker: each file is bind-mounted read-only at its target (`/run/secrets/<name>` by
 *   default), with the uid, gid and mode asked for.
 * - Host processes: the files are under `$SHOAL_FILES_DIR/<target>` (a secret's default target
 *   is then `$SHOAL_SECRETS_DIR/<name>`), since a host process shares the host's file system and
 *   cannot be given `/run/secrets` of its own. The directories are 0700: a process running as
 *   another user than the agent reaches them when its files name that user (`uid`, `gid`).
 *
 * Level-triggered cleanup: each `list` removes the directories of containers that no longer exist
 * (also after an agent restart), except those being created.
 * @module
 */
import { chmod, chown, mkdir, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { MountSpec } from '../stack/spec.js';
import { TaskRejectedError } from './errors.js';
import type {
  CallOptions,
  ContainerDriver,
  ContainerEvent,
  LiveUsage,
  LogLine,
  LogOptions,
  ObservedContainer,
  ObservedNetwork,
  RunnableAssignment,
  StopOptions,
  TaskFile,
} from './types.js';

const TMPFS_MAGIC = 0x01021994;

/** How the files reach the task. */
export type TaskFilesMode = 'bind' | 'env';

/** Options of {@link HostFilesDriver}. */
export interface HostFilesOptions {
  /** A directory on tmpfs for this driver alone (made 0700); see {@link tmpfsBase}. */
  readonly baseDir: string;
  readonly mode: TaskFilesMode;
}

/**
 * The first of `candidates` that is on tmpfs (`/run`, `/dev/shm`), with `leaf` under it; null when
 * none is (tasks with secrets are then refused on this node rather than written to disk).
 */
export async function tmpfsBase(leaf: string, candidates = ['/run', '/dev/shm']): Promise<string | null> {
  for (const root of candidates) {
    try {
      if ((await statfs(root)).type === TMPFS_MAGIC) return join(root, leaf);
    } catch {
      // not there: try the next
    }
  }
  return null;
}

/** `inner` with each create's `files` written to tmpfs and handed to the task. */
export class HostFilesDriver implements ContainerDriver {
  readonly name: string;
  readonly #inner: ContainerDriver;
  readonly #base: string | null;
  readonly #mode: TaskFilesMode;
  /** Directories of creates in progress: not collected before their container shows. */
  readonly #creating = new Set<string>();

  constructor(inner: ContainerDriver, options: { baseDir: string | null; mode: TaskFilesMode }) {
    this.#inner = inner;
    this.#base = options.baseDir;
    this.#mode = options.mode;
    this.name = inner.name;
    if (inner.events) this.events = (nodeId, signal) => inner.events!(nodeId, signal);
    if (inner.networks) this.networks = (nodeId, options) => inner.networks!(nodeId, options);
    if (inner.removeNetwork) this.removeNetwork = (network, options) => inner.removeNetwork!(network, options);
    if (inner.liveUsage) this.liveUsage = (containerId, options) => inner.liveUsage!(containerId, options);
  }

  events?: (nodeId: string, signal: AbortSignal) => AsyncIterable<ContainerEvent>;
  networks?: (nodeId: string, options?: CallOptions) => Promise<ObservedNetwork[]>;
  removeNetwork?: (network: ObservedNetwork, options?: CallOptions) => Promise<boolean>;
  liveUsage?: (containerId: string, options?: CallOptions) => Promise<LiveUsage | null>;

  async list(nodeId: string, options?: CallOptions): Promise<ObservedContainer[]> {
    const containers = await this.#inner.list(nodeId, options);
    await this.#collect(containers);
    return containers;
  }

  async create(nodeId: string, a: RunnableAssignment, options?: CallOptions): Promise<string> {
    const files = a.files ?? [];
    if (files.length === 0) return this.#inner.create(nodeId, a, options);
    if (this.#base === null)
      throw new TaskRejectedError(
        `Cannot give task ${a.task.id} its secrets and configs: this node has no tmpfs (/run or /dev/shm) to keep them off the disk`,
      );
    const key = dirKey(a.task.id, a.task.generation);
    const dir = join(this.#base, key);
    this.#creating.add(key);
    try {
      await mkdir(this.#base, { recursive: true, mode: 0o700 });
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { mode: 0o700 });
      const paths = await Promise.all(files.map((f, i) => this.#write(dir, f, i, a.task.id)));
      if (this.#mode === 'env') await shareDirs(dir, files);
      return await this.#inner.create(nodeId, this.#deliver(a, dir, files, paths), options);
    } catch (error) {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw error;
    } finally {
      this.#creating.delete(key);
    }
  }

  start(containerId: string, options?: CallOptions): Promise<void> {
    return this.#inner.start(containerId, options);
  }

  stop(containerId: string, stop: StopOptions, options?: CallOptions): Promise<void> {
    return this.#inner.stop(containerId, stop, options);
  }

  remove(containerId: string, options?: CallOptions): Promise<void> {
    return this.#inner.remove(containerId, options); // its directory goes at the next list
  }

  logs(containerId: string, options?: LogOptions): AsyncIterable<LogLine> {
    return this.#inner.logs(containerId, options);
  }

  /** Writes one file; returns its host path. */
  async #write(dir: string, file: TaskFile, index: number, taskId: string): Promise<string> {
    const path = this.#mode === 'bind' ? join(dir, String(index)) : join(dir, 'root', file.target);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, file.data, { mode: 0o600 });
    await chmod(path, file.mode);
    try {
      await chown(path, file.uid, file.gid);
    } catch (error) {
      // Without root the file stays the agent's: fine for the default owner (0:0), which a
      // container reads through the mode; an explicit owner that cannot be set is refused.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' || file.uid !== 0 || file.gid !== 0)
        throw new TaskRejectedError(
          `Cannot give ${file.kind} ${file.name} of task ${taskId} owner ${file.uid}:${file.gid}: ${code ?? 'error'} (the agent needs root for that)`,
          { cause: error },
        );
    }
    return path;
  }

  #deliver(
    a: RunnableAssignment,
    dir: string,
    files: readonly TaskFile[],
    paths: readonly string[],
  ): RunnableAssignment {
    const spec = a.service.spec;
    if (this.#mode === 'env') {
      const root = join(dir, 'root');
      const env = { ...spec.env, SHOAL_FILES_DIR: root, SHOAL_SECRETS_DIR: join(root, 'run', 'secrets') };
      return { ...a, service: { ...a.service, spec: { ...spec, env } } };
    }
    const mounts: MountSpec[] = files.map((f, i) => ({
      type: 'bind',
      source: paths[i]!,
      target: f.target,
      readOnly: true,
    }));
    return { ...a, service: { ...a.service, spec: { ...spec, volumes: [...spec.volumes, ...mounts] } } };
  }

  async #collect(containers: readonly ObservedContainer[]): Promise<void> {
    if (this.#base === null) return;
    let entries: string[];
    try {
      entries = await readdir(this.#base);
    } catch {
      return; // nothing made yet
    }
    const live = new Set(containers.map((c) => dirKey(c.taskId ?? '', c.generation ?? 0)));
    for (const entry of entries) {
      if (live.has(entry) || this.#creating.has(entry)) continue;
      await rm(join(this.#base, entry), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/**
 * A host process walks the host's directories to its files, unlike a container: when every file
 * of the task has one owner other than root, the task's directories become that owner's (still
 * 0700), so a process running as that user reaches them and other users still do not.
 */
async function shareDirs(dir: string, files: readonly TaskFile[]): Promise<void> {
  const owners = new Set(files.map((f) => `${f.uid}:${f.gid}`));
  const { uid, gid } = files[0]!;
  if (owners.size !== 1 || (uid === 0 && gid === 0)) return;
  const walk = async (path: string): Promise<void> => {
    await chown(path, uid, gid).catch(() => undefined); // without root: the agent's own, as before
    await chmod(path, 0o700);
    for (const entry of await readdir(path, { withFileTypes: true }))
      if (entry.isDirectory()) await walk(join(path, entry.name));
  };
  await walk(dir);
}

function dirKey(taskId: string, generation: number): string {
  return `${taskId.replace(/[^a-zA-Z0-9_-]/g, '_')}.${generation}`;
}
