/**
 * The process runtime: a ContainerDriver that runs a task as a plain child process of the host,
 * as Slurm runs jobs, for batch work where containers are not wanted. Each "container" is a
 * directory `<stateDir>/<id>/` (see task-dir.ts); the process runs detached, in its own process
 * group and session, under a supervisor that records its output and exit status on disk, so that
 * it outlives the agent and a restarted agent adopts it (or reports it lost).
 *
 * Per task the agent's own thread does little: the supervisor is forked by a long-lived launcher
 * (launcher.ts) that hears of it over a pipe, and it creates the task directory and `meta.json`
 * itself; metas live in memory (the disk is read again only when the state directory changed);
 * an exit file is read once, when the launcher says the supervisor ended. Without Perl, or with
 * `launcher: false`, a shell is spawned per task (shell-front.ts), as before.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RuntimeLogger } from '../node-runtime.js';
import { setLongTimeout, type LongTimeout } from '../long-timeout.js';
import {
  LABELS,
  type CallOptions,
  type ContainerDriver,
  type ContainerEvent,
  type LiveUsage,
  type LogLine,
  type LogOptions,
  type ObservedContainer,
  type RunnableAssignment,
  type StopOptions,
} from '../types.js';
import { CgroupManager, type LimitsSupport } from './cgroups.js';
import { cgroupLiveUsage } from './live-usage.js';
import { PROCESS_ID_PREFIX, taskDirOf } from './task-dir.js';
import { readLogs } from './log-file.js';
import { EndedViews, LOST_MESSAGE, observeProcess } from './observe.js';
import { processEvents } from './process-events.js';
import { ProcUsageSampler } from './proc-usage.js';
import { checkRunnable, spawnPlan, type HostIdentity } from './spawn-plan.js';
import {
  groupAlive,
  killCgroup,
  taskGroup,
  procStartTime,
  readExit,
  readMeta,
  signalGroup,
  supervisorAlive,
  writeMeta,
  type ProcessMeta,
} from './task-dir.js';
import type { ProcessDriverOptions } from './driver-options.js';
import { Launcher } from './launcher.js';
import { decodeWaitStatus, LAUNCHER_FILE, LAUNCHER_PERL } from './launcher-script.js';
import { findPerl, signalName, signalOf, spawnShellFront } from './shell-front.js';
import { FILES, formatExit, SUPERVISOR_FILE, SUPERVISOR_PERL, type ExitRecord } from './wrapper.js';

export type { ProcessDriverOptions };

/** A supervisor this agent started, whose end it will hear of (from Node or from the launcher). */
interface OwnSupervisor {
  readonly exited: Promise<void>;
  readonly settle: () => void;
}

export { PROCESS_ID_PREFIX };

export { LOST_MESSAGE };

/** How often list() looks at the state directory for tasks of other drivers (a previous agent's). */
const SCAN_INTERVAL_MS = 200;

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
  readonly #children = new Map<string, OwnSupervisor>();
  readonly #launcher: Launcher | null;
  /** mtime of the state directory at the last scan: list() reads it again only when it changed. */
  #scannedMtimeNs: bigint | null = null;
  #scannedAt = -Infinity;
  readonly #metas = new Map<string, ProcessMeta>();
  readonly #exits = new Map<string, { record: ExitRecord; at: number }>();
  readonly #endedViews = new EndedViews();
  readonly #listeners = new Set<(e: ContainerEvent) => void>();
  /** Peak memory from /proc, for tasks whose cgroup gives none (most have no cgroup). */
  readonly #usage: ProcUsageSampler;
  #warnedLimits = false;

  constructor(options: ProcessDriverOptions) {
    this.stateDir = path.resolve(options.stateDir);
    this.#log = options.logger ?? silent;
    this.#adoptPollMs = options.adoptPollMs ?? 500;
    this.#cgroupEveryTask = options.cgroupEveryTask ?? false;
    this.#usage = new ProcUsageSampler({ intervalMs: options.usageSampleMs ?? 2000 });
    fs.mkdirSync(this.stateDir, { recursive: true });
    // Traversable, not listable: a task run as another user reaches its own directory and the
    // supervisor script, and no one else's output.
    fs.chmodSync(this.stateDir, 0o711);
    const cg = options.cgroups ?? true;
    this.cgroups =
      cg === true ? CgroupManager.detect() : cg === false ? CgroupManager.disabled('disabled by configuration') : cg;
    this.#perl = options.perl === undefined ? findPerl() : options.perl;
    if (this.#perl !== null) fs.writeFileSync(path.join(this.stateDir, SUPERVISOR_FILE), SUPERVISOR_PERL);
    this.#launcher = null;
    if (this.#perl !== null && options.launcher !== false) {
      const script = path.join(this.stateDir, LAUNCHER_FILE);
      fs.writeFileSync(script, LAUNCHER_PERL);
      const logFile = path.join(this.stateDir, '.shoal-launcher.log');
      this.#launcher = new Launcher({ perl: this.#perl, script, logFile });
    }
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

  /** The launcher's pid while it runs (null: not started yet, ended, or not used). */
  get launcherPid(): number | null {
    return this.#launcher?.pid ?? null;
  }

  /** Ends the launcher (its running tasks carry on, to be adopted by the next driver). Idempotent. */
  close(): void {
    this.#launcher?.close();
    this.#usage.close();
  }

  async list(nodeId: string, options: CallOptions = {}): Promise<ObservedContainer[]> {
    options.signal?.throwIfAborted();
    this.#scan();
    const out: ObservedContainer[] = [];
    for (const meta of this.#metas.values()) {
      if (meta.labels[LABELS.nodeId] === nodeId) out.push(this.#observe(meta));
    }
    return out;
  }

  /** A running task's CPU time and memory from its cgroups (live-usage.ts); `null` without cgroups. */
  async liveUsage(containerId: string, options: CallOptions = {}): Promise<LiveUsage | null> {
    options.signal?.throwIfAborted();
    const dirs = this.#metas.get(containerId)?.cgroupDirs ?? [];
    return dirs.length === 0 ? null : cgroupLiveUsage(dirs);
  }

  /**
   * Brings the cached metas in line with the task directories (others' tasks, those of a previous
   * agent), only when the state directory changed since the last look: list() is called often.
   * Synchronous, so that no start() slips between the read and the update.
   */
  #scan(): void {
    // Our own tasks are in #metas from create(): only others' changes need the directory, and
    // they may wait a little (reading a directory of a thousand ended tasks on every pass does not).
    const now = performance.now();
    if (now - this.#scannedAt < SCAN_INTERVAL_MS) return;
    this.#scannedAt = now;
    const mtime = fs.statSync(this.stateDir, { bigint: true }).mtimeNs;
    if (mtime === this.#scannedMtimeNs) return;
    this.#scannedMtimeNs = mtime;
    const names = new Set(fs.readdirSync(this.stateDir).filter((n) => n.startsWith(PROCESS_ID_PREFIX)));
    for (const name of names) if (!this.#metas.has(name)) this.#meta(name);
    // Created but never started: no directory yet.
    for (const [id, meta] of this.#metas) {
      if (meta.startedAt === null || names.has(id)) continue;
      this.#metas.delete(id);
      this.#endedViews.forget(id);
    }
  }

  async create(nodeId: string, a: RunnableAssignment, options: CallOptions = {}): Promise<string> {
    options.signal?.throwIfAborted();
    const plan = spawnPlan(nodeId, a, this.#host);
    const id = PROCESS_ID_PREFIX + randomBytes(8).toString('hex');
    // The directory and meta.json are written once, at start: a task created and never started
    // by an agent that then ended leaves nothing behind (the next agent creates it again).
    // Until then its own (empty) directory is not there: check a relative command against the
    // state directory, which holds no task's command either.
    checkRunnable(a.task.id, plan.argv, plan.env, plan.cwd ?? this.stateDir);
    // An autoscaled service's tasks get a cgroup even without limits: its live usage is read there.
    const measured = a.service.spec.kind === 'replicated' && a.service.spec.autoscale !== null;
    const cgroupDirs = this.#createCgroup(id, a.task.id, plan.limits, plan.user, measured);
    const { name, labels, argv, env, cwd, user, stopSignal, stopGraceMs, limits } = plan;
    this.#metas.set(id, {
      ...{ id, name, labels, argv, env, cwd, user, stopSignal, stopGraceMs, limits, cgroupDirs },
      ...{ createdAt: Date.now(), startedAt: null, pid: null, pidStartTime: null },
    });
    return id;
  }

  /** A cgroup with the task's limits, when the host allows; says once when it cannot enforce them. */
  #createCgroup(
    id: string,
    taskId: string,
    limits: ProcessMeta['limits'],
    user: ProcessMeta['user'],
    measured = false,
  ): string[] {
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
    if (this.cgroups.version === null || (!limited && !this.#cgroupEveryTask && !measured)) return [];
    const { dirs, error } = this.cgroups.tryCreate(id, limits, user ?? undefined);
    if (error !== null)
      this.#log.warn({ task: taskId, err: error }, 'process runtime: cannot create the task cgroup; running without');
    return dirs;
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
    // A first start through the launcher: its supervisor creates the directory and writes meta.json.
    const fresh = meta.pid === null;
    if (!fresh) {
      fs.rmSync(path.join(dir, FILES.exit), { force: true }); // a restart
    } else if (!this.#launcher) {
      try {
        fs.mkdirSync(dir, { mode: 0o700 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // a start that failed before
      }
      if (meta.user) fs.chownSync(dir, meta.user.uid, meta.user.gid);
    }
    this.#exits.delete(containerId);
    const cgroupProcs = meta.cgroupDirs.map((d) => path.join(d, 'cgroup.procs'));
    const own = this.#own(containerId);
    const startedAt = Date.now(); // before the supervisor runs: its output and exit come later
    // meta.json, what a restarted agent adopts, is written once, as soon as the pid is known
    // (by the launcher's supervisor itself on a first start).
    const started = (pid: number, pidStartTime: string | null, written: boolean) => {
      const m: ProcessMeta = { ...meta, pid, pidStartTime, startedAt };
      this.#metas.set(containerId, m);
      this.#usage.track(containerId, pid);
      if (!written) writeMeta(dir, m, { fresh });
    };
    try {
      if (this.#launcher) {
        const { argv, env, user, pid: _pid, pidStartTime: _st, ...rest } = meta;
        await this.#launcher.launch(
          {
            dir,
            meta: fresh ? { ...rest, argv, env, user, startedAt } : null,
            cwd: meta.cwd ?? dir,
            cgroupProcs,
            user,
            env,
            argv,
          },
          {
            onStart: (pid, pidStartTime) => started(pid, pidStartTime, fresh),
            onExit: (status) => {
              const { code, signal } = decodeWaitStatus(status);
              this.#onChildExit(containerId, own, code, signal === null ? null : signalOf(signal));
            },
            // Its supervisor lives on, not our child any more: watched like an adopted one.
            onLost: () => {
              if (this.#children.get(containerId) === own) this.#children.delete(containerId);
              own.settle();
            },
          },
        );
      } else {
        const pid = await spawnShellFront({
          id: containerId,
          meta,
          dir,
          cgroupProcs,
          perl: this.#perl,
          supervisor: path.join(this.stateDir, SUPERVISOR_FILE),
          onExit: (code, signal) => this.#onChildExit(containerId, own, code, signal),
        });
        started(pid, procStartTime(pid), false);
      }
    } catch (error) {
      if (this.#children.get(containerId) === own) this.#children.delete(containerId);
      own.settle();
      throw error;
    }
  }

  /** Registers a supervisor of ours, before it starts (its end may be told before its start resolves). */
  #own(id: string): OwnSupervisor {
    let settle!: () => void;
    const exited = new Promise<void>((resolve) => (settle = resolve));
    const own = { exited, settle };
    this.#children.set(id, own);
    return own;
  }

  /** Our own supervisor ended: record an exit status if it could not, and say so. */
  #onChildExit(id: string, own: OwnSupervisor, code: number | null, signal: NodeJS.Signals | null): void {
    own.settle();
    // A previous run's end told late (a restart in place did not wait for it): not this run's.
    if (this.#children.get(id) !== own) return;
    this.#children.delete(id);
    const meta = this.#metas.get(id);
    const group = meta ? taskGroup(meta) : null;
    if (group !== null) signalGroup(group, 'SIGKILL'); // strays of the sh-only supervisor
    killCgroup(meta);
    if (meta) {
      const dir = this.#dir(id);
      let exit = readExit(dir);
      if (exit === null) {
        const record: ExitRecord = {
          code: code ?? 128 + (signal ? os.constants.signals[signal] : 0),
          cpuMs: null,
          error: signal ? `killed by ${signal}` : 'the supervisor ended without recording the exit status',
        };
        try {
          fs.writeFileSync(path.join(dir, FILES.exit), formatExit(record));
          exit = { record, at: Date.now() };
        } catch {
          // removed meanwhile
        }
      }
      if (exit) this.#exits.set(id, exit);
    }
    this.#emit({ containerId: id, action: 'die' });
  }

  async stop(containerId: string, stop: StopOptions, options: CallOptions = {}): Promise<void> {
    const meta = this.#meta(containerId);
    const pgid = meta ? taskGroup(meta) : null;
    if (!meta || pgid === null || (!this.#isRunning(meta) && !groupAlive(pgid))) return killCgroup(meta);
    const signal = signalName(stop.signal || meta.stopSignal || 'SIGTERM');
    signalGroup(pgid, signal);
    if (await this.#waitGone(containerId, pgid, stop.graceMs, options.signal)) return killCgroup(meta);
    this.#kill(containerId, pgid);
    if (!(await this.#waitGone(containerId, pgid, 10_000, options.signal))) {
      throw new Error(`Cannot stop process ${containerId}: its process group ${pgid} survived SIGKILL for 10 s`);
    }
  }

  /** SIGKILL to the group and to whatever of the task's cgroup left the group. */
  #kill(id: string, pgid: number): void {
    const meta = this.#metas.get(id);
    // A group whose number was reused is another program's; the task's cgroup is always its own.
    if (meta === undefined || taskGroup(meta) !== null) signalGroup(pgid, 'SIGKILL');
    killCgroup(meta);
  }

  /** Resolves true once the supervisor ended and no process is left in its group, false after `ms`. */
  async #waitGone(id: string, pgid: number, ms: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + ms;
    const own = this.#children.get(id);
    if (own) {
      let timer: LongTimeout | undefined;
      // `ms` is the service's stop_grace_period: it may exceed Node's 24.8-day timer limit.
      await Promise.race([own.exited, new Promise((r) => (timer = setLongTimeout(() => r(undefined), ms)))]);
      timer?.clear();
    }
    for (let i = 0; ; i++) {
      signal?.throwIfAborted();
      const meta = this.#metas.get(id);
      const supervisorGone = !this.#children.has(id) && (meta === undefined || !supervisorAlive(meta));
      const group = meta === undefined ? pgid : taskGroup(meta);
      if (supervisorGone && (group === null || !groupAlive(group))) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, Math.min(i < 10 ? 5 : 25, Math.max(1, deadline - Date.now()))));
    }
  }

  async remove(containerId: string, options: CallOptions = {}): Promise<void> {
    const meta = this.#meta(containerId);
    const group = meta ? taskGroup(meta) : null;
    if (meta && group !== null && (this.#isRunning(meta) || groupAlive(group))) {
      await this.stop(containerId, { signal: 'SIGKILL', graceMs: 0 }, options);
    }
    const cgroupDirs = meta?.cgroupDirs ?? [];
    if (cgroupDirs.length > 0) {
      killCgroup(meta);
      // rmdir fails while the killed processes are still being torn down: retry briefly.
      for (let i = 0; i < 50 && !CgroupManager.remove(cgroupDirs); i++) await new Promise((r) => setTimeout(r, 10));
    }
    fs.rmSync(this.#dir(containerId), { recursive: true, force: true });
    this.#metas.delete(containerId);
    this.#endedViews.forget(containerId);
    this.#usage.forget(containerId);
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
  events(nodeId: string, signal: AbortSignal): AsyncIterable<ContainerEvent> {
    const sources = {
      metas: this.#metas,
      children: this.#children,
      listeners: this.#listeners,
      adoptPollMs: this.#adoptPollMs,
      killLeftovers: (meta: ProcessMeta) => this.#killLeftovers(meta),
    };
    return processEvents(sources, nodeId, signal);
  }

  /** What an ended adopted task left; only on its recorded exit (an unreadable /proc also says "not alive"). */
  #killLeftovers(meta: ProcessMeta): void {
    if (meta.startedAt !== null && readExit(this.#dir(meta.id)) !== null) killCgroup(meta);
  }

  #emit(e: ContainerEvent): void {
    for (const l of this.#listeners) l(e);
  }

  #dir(id: string): string {
    return taskDirOf(this.stateDir, id);
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
    // Our own supervisor's exit file is read once, when we hear of its end.
    const exit = meta.startedAt === null || this.#children.has(meta.id) ? null : this.#exit(meta.id);
    const peak = this.#usage.peak(meta.id);
    if (exit !== null) return this.#endedViews.view(meta, exit, peak);
    this.#endedViews.forget(meta.id);
    const running = this.#isRunning(meta);
    if (running && meta.pid !== null) this.#usage.track(meta.id, meta.pid); // adopted after a restart
    return observeProcess(meta, exit, running, peak);
  }
}
