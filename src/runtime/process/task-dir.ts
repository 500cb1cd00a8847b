/**
 * A task's directory on disk, which is all that survives an agent restart: its `meta.json`, its
 * output and its `exit` file; plus the few process facts read from `/proc` to tell whether the
 * recorded process is still the one we started (pids are reused).
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { CgroupManager, type CgroupLimits } from './cgroups.js';
import { FILES, parseExit, type ExitRecord } from './wrapper.js';

/** `meta.json`: what the driver knows of a task's process. Times in ms since the epoch. */
/** The prefix of the process driver's container ids (the router tells drivers apart by it). */
export const PROCESS_ID_PREFIX = 'proc-';

/** The directory of task `id` under `stateDir`; refuses an id that is not this driver's (or a path). */
export function taskDirOf(stateDir: string, id: string): string {
  if (!id.startsWith(PROCESS_ID_PREFIX) || id.includes('/') || id.includes('..'))
    throw new TypeError(`Not a process runtime id: "${id}" (expected ${PROCESS_ID_PREFIX}<hex>)`);
  return path.join(stateDir, id);
}

export interface ProcessMeta {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** `null`: the task's directory. */
  readonly cwd: string | null;
  readonly user: { readonly uid: number; readonly gid: number } | null;
  readonly stopSignal: string | null;
  readonly stopGraceMs: number;
  readonly limits: CgroupLimits;
  /** The task's cgroup directories (created at `create`), none when it runs without. */
  readonly cgroupDirs: readonly string[];
  readonly createdAt: number;
  readonly startedAt: number | null;
  /** Pid of the supervisor, which leads the task's process group and session. */
  readonly pid: number | null;
  /** Field 22 of `/proc/<pid>/stat` (clock ticks since boot), to see pid reuse. */
  readonly pidStartTime: string | null;
}

/**
 * Writes `meta.json` atomically (a crash never leaves half a file). `fresh`: there is none yet,
 * write it in place (half a file reads as none, as no file would: the same after a crash) and
 * spare the creation of a temporary file, which costs up to a millisecond of kernel time on some hosts.
 */
export function writeMeta(dir: string, meta: ProcessMeta, options: { fresh?: boolean } = {}): void {
  if (options.fresh) {
    fs.writeFileSync(path.join(dir, FILES.meta), JSON.stringify(meta), { flag: 'wx' });
    return;
  }
  const tmp = path.join(dir, `${FILES.meta}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(meta));
  fs.renameSync(tmp, path.join(dir, FILES.meta));
}

/** Reads `meta.json`; `null` when missing or garbled (a directory being created or removed). */
export function readMeta(dir: string): ProcessMeta | null {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, FILES.meta), 'utf8')) as ProcessMeta;
    return typeof meta.id === 'string' && typeof meta.labels === 'object' ? meta : null;
  } catch {
    return null;
  }
}

/** The `exit` file with its time, `null` while there is none (or it is incomplete). */
export function readExit(dir: string): { record: ExitRecord; at: number } | null {
  const file = path.join(dir, FILES.exit);
  try {
    const record = parseExit(fs.readFileSync(file, 'utf8'));
    return record ? { record, at: Math.round(fs.statSync(file).mtimeMs) } : null;
  } catch {
    return null;
  }
}

/** Field 22 (start time) of `/proc/<pid>/stat`, `null` when there is no such process. */
export function procStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state): a zombie has ended.
    if (rest[0] === 'Z') return null;
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the recorded supervisor still runs (same pid, same start time). */
export function supervisorAlive(meta: ProcessMeta): boolean {
  if (meta.pid === null) return false;
  const start = procStartTime(meta.pid);
  return start !== null && (meta.pidStartTime === null || start === meta.pidStartTime);
}

/**
 * The task's process group while it is still the task's, else null. Its id is the supervisor's
 * pid, which the kernel does not hand out again while any process is in that group; once that pid
 * is another process's (another start time), a group of that number is someone else's, and
 * signalling it would hit an unrelated process (pids wrap after 32,768 on many hosts).
 */
export function taskGroup(meta: ProcessMeta): number | null {
  if (meta.pid === null) return null;
  const start = procStartTime(meta.pid);
  if (start !== null && meta.pidStartTime !== null && start !== meta.pidStartTime) return null;
  return meta.pid;
}

/**
 * Whether any live process is left in process group `pgid`. Zombies do not count: killed
 * grandchildren are reparented to the host's init, which may take its time to reap them.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return true; // no /proc: trust kill(2)
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // rest[0] is the state (field 3), rest[2] the process group (field 5).
      if (rest[2] === String(pgid) && rest[0] !== 'Z') return true;
    } catch {
      // ended meanwhile
    }
  }
  return false;
}

/** Sends `signal` to process group `pgid`; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to each pid, ignoring those already gone. */
export function signalPids(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

/**
 * SIGKILLs whatever is left in a task's cgroups (processes that left its group: `setsid`, daemons).
 * As in a container or a Slurm step, nothing of a task outlives it.
 */
export function killCgroup(meta: ProcessMeta | null | undefined): void {
  signalPids(CgroupManager.pids(meta?.cgroupDirs ?? []), 'SIGKILL');
}
