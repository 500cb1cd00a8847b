/**
 * The process runtime: a ContainerDriver that runs a task as a plain child process of the host,
 * as Slurm runs jobs, for batch work where containers are not wanted. Each "container" is a
 * directory `<stateDir>/<id>/` (see task-dir.ts); the process runs detached, in its own process
 * group and session, under a supervisor that records its output and exit status on disk, so that
 * it outlives the agent and a restarted agent adopts it (or reports it lost).
 *
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { RuntimeLogger } from '../node-runtime.js';
import {
  LABELS,
  type CallOptions,
  type ContainerDriver,
  type ContainerEvent,
  type LogLine,
  type LogOptions,
  type ObservedContainer,
  type RunnableAssignment,
  type StopOptions,
} from '../types.js';
import { CgroupManager, type LimitsSupport } from './cgroups.js';
import { readLogs } from './log-file.js';
import { checkRunnable, spawnPlan, type HostIdentity } from './spawn-plan.js';
import {
  groupAlive,
  procStartTime,
  readExit,
  readMeta,
  signalGroup,
  signalPids,
  supervisorAlive,
  writeMeta,
  type ProcessMeta,
} from './task-dir.js';
import { FILES, formatExit, SUPERVISOR_FILE, SUPERVISOR_PERL, wrapperScript, type ExitRecord } from './wrapper.js';

/** Options of {@link ProcessDriver}. */
export interface ProcessDriverOptions {
  /** Where the tasks' directories live; must survive an agent restart (not a tmpfs cleaned at boot is fine). */
  readonly stateDir: string;
  readonly logger?: RuntimeLogger;
  /** `true` (default): use cgroups where the host allows; `false`: never; or a manager (tests). */
  readonly cgroups?: boolean | CgroupManager;
  /** Path of `perl` for the supervisor; `null`: run without it (no per-line times). Default: found on PATH. */
  readonly perl?: string | null;
  /** How often adopted processes (not children of this agent) are checked for their end. Default 500 ms. */
  readonly adoptPollMs?: number;
  /**
   * Put every task in a cgroup, limits or not, for its peak memory (default: only tasks with
   * limits). Off by default because moving a process into a cgroup v1 takes a kernel lock that
   * also stalls every fork on the host for milliseconds: it halves the rate of trivial jobs.
   */
  readonly cgroupEveryTask?: boolean;
}

/** The prefix of this driver's container ids (the router tells drivers apart by it). */
export const PROCESS_ID_PREFIX = 'proc-';

/** ObservedContainer.error of a process that ended while no agent watched it. */
export const LOST_MESSAGE = 'lost: the process ended while the agent was not watching and left no exit status';

const silent: RuntimeLogger = { info() {}, warn() {}, error() {} };

/**
 * Runs tasks as detached child processes with their output and exit status on disk.
 *
 * @example
 * ```ts
 * const driver = new ProcessDriver({ stateDir: '/var/lib/shoal/processes' });
 * const id = await driver.create(nodeId, assignment);
 * await driver.start(id);
 * ```
 */
export class ProcessDriver implements ContainerDriver {
  readonly name = 'process';
  readonly stateDir: string;
  readonly cgroups: CgroupManager;
  readonly #log: RuntimeLogger;
  readonly #perl: string | null;
  readonly #adoptPollMs: number;
  readonly #cgroupEveryTask: boolean;
  readonly #host: HostIdentity;
  readonly #children = new Map<string, { child: ChildProcess; exited: Promise<void> }>();
  readonly #metas = new Map<string, ProcessMeta>();
  readonly #exits = new Map<string, { record: ExitRecord; at: number }>();
  readonly #listeners = new Set<(e: ContainerEvent) => void>();
  #warnedLimits = false;

  constructor(options: ProcessDriverOptions) {
    this.stateDir = path.resolve(options.stateDir);
    this.#log = options.logger ?? silent;
    this.#adoptPollMs = options.adoptPollMs ?? 500;
    this.#cgroupEveryTask = options.cgroupEveryTask ?? false;
    fs.mkdirSync(this.stateDir, { recursive: true });
    // Traversable, not listable: a task run as another user reaches its own directory and the
    // supervisor script, and no one else's output.
    fs.chmodSync(this.stateDir, 0o711);
    const cg = options.cgroups ?? true;
    this.cgroups =
      cg === true ? CgroupManager.detect() : cg === false ? CgroupManager.disabled('disabled by configuration') : cg;
    this.#perl = options.perl === undefined ? findPerl() : options.perl;
    if (this.#perl !== null) fs.writeFileSync(path.join(this.stateDir, SUPERVISOR_FILE), SUPERVISOR_PERL);
    const me = os.userInfo();
    this.#host = {
      uid: me.uid,
      gid: me.gid,
      username: me.username,
      home: me.homedir,
      path: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      passwd: () => fs.readFileSync('/etc/passwd', 'utf8'),
      group: () => fs.readFileSync('/etc/group', 'utf8'),
    };
  }

  /** Which limits this host enforces, and why not where it does not (for the agent to tell the admin). */
  limitsSupport(): LimitsSupport {
    return this.cgroups.support;
  }

  async list(nodeId: string, options: CallOptions = {}): Promise<ObservedContainer[]> {
    options.signal?.throwIfAborted();
    const out: ObservedContainer[] = [];
    for (const entry of await fs.promises.readdir(this.stateDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !entry.name.startsWith(PROCESS_ID_PREFIX)) continue;
      const meta = this.#meta(entry.name);
      if (meta && meta.labels[LABELS.nodeId] === nodeId) out.push(this.#observe(meta));
    }
    return out;
  }

  async create(nodeId: string, a: RunnableAssignment, options: CallOptions = {}): Promise<string> {
    options.signal?.throwIfAborted();
    const plan = spawnPlan(nodeId, a, this.#host);
    const id = PROCESS_ID_PREFIX + randomBytes(8).toString('hex');
    const dir = this.#dir(id);
    fs.mkdirSync(dir, { mode: 0o700 });
    try {
      checkRunnable(a.task.id, plan.argv, plan.env, plan.cwd ?? dir);
      if (plan.user) fs.chownSync(dir, plan.user.uid, plan.user.gid);
      const cgroupDirs = this.#createCgroup(id, a.task.id, plan.limits, plan.user);
      const { name, labels, argv, env, cwd, user, stopSignal, stopGraceMs, limits } = plan;
      const meta: ProcessMeta = {
        id,
        name,
        labels,
        argv,
        env,
        cwd,
        user,
        stopSignal,
        stopGraceMs,
        limits,
        cgroupDirs,
        createdAt: Date.now(),
        startedAt: null,
        pid: null,
        pidStartTime: null,
      };
      writeMeta(dir, meta);
      this.#metas.set(id, meta);
      return id;
    } catch (error) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** A cgroup with the task's limits, when the host allows; says once when it cannot enforce them. */
  #createCgroup(id: string, taskId: string, limits: ProcessMeta['limits'], user: ProcessMeta['user']): string[] {
    const support = this.cgroups.support;
    const wanted = (limits.cpuMillis > 0 && !support.cpu) || (limits.memoryBytes > 0 && !support.memory);
    if (wanted && !this.#warnedLimits) {
      this.#warnedLimits = true;
      this.#log.warn(
        { task: taskId, limits, reason: support.reason },
        'process runtime: this host cannot enforce the CPU/memory limits of tasks; they run without',
      );
    }
    const limited = limits.cpuMillis > 0 || limits.memoryBytes > 0 || (limits.pids ?? 0) > 0;
    if (this.cgroups.version === null || (!limited && !this.#cgroupEveryTask)) return [];
    try {
      return this.cgroups.create(id, limits, user ?? undefined);
    } catch (error) {
      CgroupManager.remove(this.cgroups.dirs(id));
      this.#log.warn(
        { task: taskId, err: errorMessage(error) },
        'process runtime: cannot create the task cgroup; running without',
      );
      return [];
    }
  }

  async start(containerId: string, options: CallOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    const meta = this.#meta(containerId);
    if (!meta) throw new Error(`Cannot start process ${containerId}: it does not exist (removed?)`);
    const dir = this.#dir(containerId);
    if (this.#isRunning(meta)) {
      if (readExit(dir) === null) return; // already started
      // A restart right after the exit was recorded: the supervisor is about to end.
      await this.#waitGone(containerId, meta.pid!, 2000, options.signal);
    }
    fs.rmSync(path.join(dir, FILES.exit), { force: true }); // a restart
    this.#exits.delete(containerId);
    const script = wrapperScript({
      dir,
      cwd: meta.cwd ?? dir,
      cgroupProcs: meta.cgroupDirs.map((d) => path.join(d, 'cgroup.procs')),
      supervisor: this.#perl === null ? null : path.join(this.stateDir, SUPERVISOR_FILE),
      perl: this.#perl ?? '',
    });
    const fd = fs.openSync(path.join(dir, FILES.supervisor), 'a');
    let child: ChildProcess;
    try {
      child = spawn('/bin/sh', ['-c', script, 'shoal-task', ...meta.argv], {
        cwd: dir,
        env: { ...meta.env },
        detached: true, // its own session and process group: it outlives the agent, and stop() kills the group
        stdio: ['ignore', fd, fd],
        ...(meta.user ? { uid: meta.user.uid, gid: meta.user.gid } : {}),
      });
    } finally {
      fs.closeSync(fd);
    }
    const pid = child.pid;
    if (pid === undefined) {
      const error = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw new Error(`Cannot start process ${containerId}: ${error.message}`, { cause: error });
    }
    child.unref();
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#onChildExit(containerId, code, signal);
        resolve();
      });
    });
    this.#children.set(containerId, { child, exited });
    const started: ProcessMeta = { ...meta, pid, pidStartTime: procStartTime(pid), startedAt: Date.now() };
    this.#metas.set(containerId, started);
    writeMeta(dir, started);
  }

  /** Our own child ended: record an exit status if the supervisor could not, and say so. */
  #onChildExit(id: string, code: number | null, signal: NodeJS.Signals | null): void {
    this.#children.delete(id);
    const meta = this.#metas.get(id);
    const dir = this.#dir(id);
    if (meta?.pid) signalGroup(meta.pid, 'SIGKILL'); // strays of the sh-only supervisor
    if (fs.existsSync(dir) && readExit(dir) === null) {
      const record: ExitRecord = {
        code: code ?? 128 + (signal ? os.constants.signals[signal] : 0),
        cpuMs: null,
        error: signal ? `killed by ${signal}` : 'the supervisor ended without recording the exit status',
      };
      try {
        fs.writeFileSync(path.join(dir, FILES.exit), formatExit(record));
      } catch {
        // removed meanwhile
      }
    }
    this.#emit({ containerId: id, action: 'die' });
  }

  async stop(containerId: string, stop: StopOptions, options: CallOptions = {}): Promise<void> {
    const meta = this.#meta(containerId);
    if (!meta || meta.pid === null) return;
    const pgid = meta.pid;
    if (!this.#isRunning(meta) && !groupAlive(pgid)) return;
    const signal = signalName(stop.signal || meta.stopSignal || 'SIGTERM');
    signalGroup(pgid, signal);
    if (await this.#waitGone(containerId, pgid, stop.graceMs, options.signal)) return;
    this.#kill(containerId, pgid);
    if (!(await this.#waitGone(containerId, pgid, 10_000, options.signal))) {
      throw new Error(`Cannot stop process ${containerId}: its process group ${pgid} survived SIGKILL for 10 s`);
    }
  }

  /** SIGKILL to the group and to whatever of the task's cgroup left the group. */
  #kill(id: string, pgid: number): void {
    signalGroup(pgid, 'SIGKILL');
    signalPids(CgroupManager.pids(this.#metas.get(id)?.cgroupDirs ?? []), 'SIGKILL');
  }

  /** Resolves true once the supervisor ended and no process is left in its group, false after `ms`. */
  async #waitGone(id: string, pgid: number, ms: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + ms;
    const own = this.#children.get(id);
    if (own) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([own.exited, new Promise((r) => (timer = setTimeout(r, ms)))]);
      clearTimeout(timer);
    }
    for (let i = 0; ; i++) {
      signal?.throwIfAborted();
      const meta = this.#metas.get(id);
      const supervisorGone = !this.#children.has(id) && (meta === undefined || !supervisorAlive(meta));
      if (supervisorGone && !groupAlive(pgid)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, Math.min(i < 10 ? 5 : 25, Math.max(1, deadline - Date.now()))));
    }
  }

  async remove(containerId: string, options: CallOptions = {}): Promise<void> {
    const meta = this.#meta(containerId);
    if (meta?.pid && (this.#isRunning(meta) || groupAlive(meta.pid))) {
      await this.stop(containerId, { signal: 'SIGKILL', graceMs: 0 }, options);
    }
    const cgroupDirs = meta?.cgroupDirs ?? [];
    if (cgroupDirs.length > 0) {
      signalPids(CgroupManager.pids(cgroupDirs), 'SIGKILL');
      // rmdir fails while the killed processes are still being torn down: retry briefly.
      for (let i = 0; i < 50 && !CgroupManager.remove(cgroupDirs); i++) await new Promise((r) => setTimeout(r, 10));
    }
    fs.rmSync(this.#dir(containerId), { recursive: true, force: true });
    this.#metas.delete(containerId);
    this.#exits.delete(containerId);
    this.#emit({ containerId, action: 'destroy' });
  }

  async *logs(containerId: string, options: LogOptions = {}): AsyncIterable<LogLine> {
    const meta = this.#meta(containerId);
    if (!meta) throw new Error(`Cannot read the output of process ${containerId}: it does not exist (removed?)`);
    yield* readLogs(
      {
        dir: this.#dir(containerId),
        startedAt: meta.startedAt ?? meta.createdAt,
        running: () => {
          const m = this.#metas.get(containerId);
          return m !== undefined && readExit(this.#dir(containerId)) === null && this.#isRunning(m);
        },
      },
      options,
    );
  }

  /**
   * `die` when a process of this node ends: at once for children of this agent, within
   * `adoptPollMs` for processes adopted after a restart.
   */
  async *events(nodeId: string, signal: AbortSignal): AsyncIterable<ContainerEvent> {
    const queue: ContainerEvent[] = [];
    let wake: (() => void) | null = null;
    const push = (e: ContainerEvent) => {
      const meta = this.#metas.get(e.containerId);
      if (meta && meta.labels[LABELS.nodeId] !== nodeId) return;
      queue.push(e);
      wake?.();
    };
    const reported = new Set<string>();
    const poll = setInterval(() => {
      for (const meta of this.#metas.values()) {
        if (meta.labels[LABELS.nodeId] !== nodeId || meta.startedAt === null || this.#children.has(meta.id)) continue;
        const key = `${meta.id}@${meta.startedAt}`;
        if (reported.has(key) || supervisorAlive(meta)) continue;
        reported.add(key);
        push({ containerId: meta.id, action: 'die' });
      }
    }, this.#adoptPollMs);
    // Processes already ended when we start watching are not news.
    for (const meta of this.#metas.values()) if (!supervisorAlive(meta)) reported.add(`${meta.id}@${meta.startedAt}`);
    const onAbort = () => wake?.();
    this.#listeners.add(push);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    } finally {
      clearInterval(poll);
      this.#listeners.delete(push);
      signal.removeEventListener('abort', onAbort);
    }
  }

  #emit(e: ContainerEvent): void {
    for (const l of this.#listeners) l(e);
  }

  #dir(id: string): string {
    if (!id.startsWith(PROCESS_ID_PREFIX) || id.includes('/') || id.includes('..')) {
      throw new TypeError(`Not a process runtime id: "${id}" (expected ${PROCESS_ID_PREFIX}<hex>)`);
    }
    return path.join(this.stateDir, id);
  }

  #meta(id: string): ProcessMeta | null {
    const cached = this.#metas.get(id);
    if (cached) return cached;
    const meta = readMeta(this.#dir(id));
    if (meta) this.#metas.set(id, meta);
    return meta;
  }

  #isRunning(meta: ProcessMeta): boolean {
    return this.#children.has(meta.id) || (meta.startedAt !== null && supervisorAlive(meta));
  }

  #exit(id: string): { record: ExitRecord; at: number } | null {
    const cached = this.#exits.get(id);
    if (cached) return cached;
    const exit = readExit(this.#dir(id));
    if (exit) this.#exits.set(id, exit);
    return exit;
  }

  #observe(meta: ProcessMeta): ObservedContainer {
    const labels = meta.labels;
    const generation = Number(labels[LABELS.generation]);
    const exit = meta.startedAt === null ? null : this.#exit(meta.id);
    const running = exit === null && this.#isRunning(meta);
    const status = meta.startedAt === null ? 'created' : exit ? 'exited' : running ? 'running' : 'dead';
    const cg = meta.cgroupDirs.length > 0 ? CgroupManager.usage(meta.cgroupDirs) : null;
    const cpuMs = cg?.cpuMs ?? exit?.record.cpuMs ?? null;
    return {
      id: meta.id,
      name: meta.name,
      nodeId: labels[LABELS.nodeId] ?? null,
      taskId: labels[LABELS.taskId] || null,
      generation: Number.isSafeInteger(generation) && labels[LABELS.generation] !== '' ? generation : null,
      labels,
      status,
      exitCode: exit?.record.code ?? null,
      health: 'none',
      healthOutput: '',
      startedAt: meta.startedAt,
      finishedAt: exit?.at ?? null,
      error: exit?.record.error ?? (status === 'dead' ? LOST_MESSAGE : ''),
      oomKilled: exit !== null && CgroupManager.oomKilled(meta.cgroupDirs),
      stopSignal: meta.stopSignal,
      stopGraceMs: meta.stopGraceMs,
      usage: cg ?? (cpuMs !== null ? { cpuMs, peakMemoryBytes: 0 } : null),
    };
  }
}

/** A valid signal name (`SIGTERM`, `TERM`, `15`), SIGTERM for anything else. */
function signalName(s: string): NodeJS.Signals {
  const signals = os.constants.signals as Record<string, number>;
  if (/^\d+$/.test(s)) {
    const name = Object.keys(signals).find((k) => signals[k] === Number(s));
    return (name ?? 'SIGTERM') as NodeJS.Signals;
  }
  const name = s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
  return (name in signals ? name : 'SIGTERM') as NodeJS.Signals;
}

/** The absolute path of a `perl` on the agent's PATH, or null. */
function findPerl(): string | null {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const candidate = path.join(dir || '.', 'perl');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
    } catch {
      continue;
    }
    const probe = spawnSync(candidate, ['-e', '1'], { stdio: 'ignore', timeout: 5000 });
    return probe.status === 0 ? candidate : null;
  }
  return null;
}
