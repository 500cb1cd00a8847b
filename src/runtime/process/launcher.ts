/**
 * The agent's side of the launcher (launcher-script.ts): starts the Perl process lazily, again
 * after it died, sends it one line per task and routes its answers back to the task's callbacks.
 *
 * @module
 */
import { Socket } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { formatLaunch, parseLauncherLine, type LaunchRequest } from './launcher-script.js';

/** Thrown by {@link Launcher.launch} when the launcher ended before it said whether the task started. */
export class LauncherDiedError extends Error {
  override readonly name = 'LauncherDiedError';
}

/** What the launcher tells about one task, in this order. */
export interface LaunchCallbacks {
  /** The supervisor runs (before launch() resolves): its pid and `/proc` start time. */
  readonly onStart: (pid: number, startTime: string | null) => void;
  /** The supervisor ended; `status` is its wait status. */
  readonly onExit: (status: number) => void;
  /** The launcher ended while the supervisor ran: no onExit will come (the supervisor lives on). */
  readonly onLost: () => void;
}

/** Options of {@link Launcher}. */
export interface LauncherOptions {
  readonly perl: string;
  /** The launcher script's path. */
  readonly script: string;
  /** Where the launcher's own stderr goes (appended). */
  readonly logFile: string;
}

interface Instance {
  readonly child: ChildProcess;
  readonly starting: Map<number, { cb: LaunchCallbacks; resolve: () => void; reject: (e: Error) => void }>;
  readonly running: Map<number, LaunchCallbacks>;
  rest: string;
  dead: boolean;
  /** Requests of this tick, written in one go (a burst of starts costs one system call). */
  outbox: string[];
}

/**
 * One long-lived launcher process, restarted on demand.
 *
 * @example
 * ```ts
 * const launcher = new Launcher({ perl: '/usr/bin/perl', script, logFile });
 * await launcher.launch(request, { onStart: (pid) => record(pid), onExit: (status) => done(status), onLost });
 * ```
 */
export class Launcher {
  readonly #options: LauncherOptions;
  #instance: Instance | null = null;
  #seq = 0;

  constructor(options: LauncherOptions) {
    this.#options = options;
  }

  /** The launcher's pid while it runs, else null. */
  get pid(): number | null {
    return this.#instance && !this.#instance.dead ? (this.#instance.child.pid ?? null) : null;
  }

  /** Starts one supervisor; resolves once it runs (after `cb.onStart`). */
  launch(request: LaunchRequest, cb: LaunchCallbacks): Promise<void> {
    const inst = this.#instance && !this.#instance.dead ? this.#instance : this.#spawn();
    const seq = ++this.#seq;
    return new Promise<void>((resolve, reject) => {
      inst.starting.set(seq, { cb, resolve, reject });
      if (inst.outbox.push(formatLaunch(seq, request)) === 1) {
        process.nextTick(() => {
          if (!inst.dead) inst.child.stdin!.write(inst.outbox.join(''));
          inst.outbox.length = 0;
        });
      }
    });
  }

  /** Ends the launcher (closes its stdin); running supervisors carry on. Idempotent. */
  close(): void {
    const inst = this.#instance;
    this.#instance = null;
    if (inst && !inst.dead) inst.child.stdin!.end();
  }

  #spawn(): Instance {
    const fd = fs.openSync(this.#options.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.#options.perl, [this.#options.script], { stdio: ['pipe', 'pipe', fd] });
    } finally {
      fs.closeSync(fd);
    }
    const inst: Instance = { child, starting: new Map(), running: new Map(), rest: '', dead: false, outbox: [] };
    this.#instance = inst;
    // Neither the launcher nor its pipes keep the agent alive; at the agent's exit its stdin closes and it ends.
    child.unref();
    // A child's pipes are sockets at run time, though typed as plain streams.
    for (const s of [child.stdin, child.stdout]) if (s instanceof Socket) s.unref();
    child.stdin!.on('error', () => this.#die(inst, 'its input pipe broke'));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.#onData(inst, chunk));
    child.once('error', (error) => this.#die(inst, error.message));
    // New tasks go to a new launcher at once; this one's last answers are read until its pipe closes.
    child.once('exit', () => this.#instance === inst && (this.#instance = null));
    child.once('close', (code, signal) => this.#die(inst, signal ? `killed by ${signal}` : `exited with code ${code}`));
    return inst;
  }

  #onData(inst: Instance, chunk: string): void {
    const lines = (inst.rest + chunk).split('\n');
    inst.rest = lines.pop() ?? '';
    for (const line of lines) {
      const m = parseLauncherLine(line);
      if (!m) continue;
      if (m.kind === 'pid') {
        const s = inst.starting.get(m.seq);
        if (!s) continue;
        inst.starting.delete(m.seq);
        inst.running.set(m.seq, s.cb);
        try {
          s.cb.onStart(m.pid, m.startTime);
          s.resolve();
        } catch (error) {
          s.reject(error as Error);
        }
      } else if (m.kind === 'err') {
        const s = inst.starting.get(m.seq);
        inst.starting.delete(m.seq);
        s?.reject(new Error(`Cannot start the task's supervisor: ${m.message}`));
      } else {
        const cb = inst.running.get(m.seq);
        inst.running.delete(m.seq);
        cb?.onExit(m.status);
      }
    }
  }

  /** The launcher ended: pending starts fail, running supervisors are left to be polled. */
  #die(inst: Instance, why: string): void {
    if (inst.dead) return;
    inst.dead = true;
    if (this.#instance === inst) this.#instance = null;
    if (inst.child.exitCode === null && inst.child.signalCode === null) inst.child.kill('SIGKILL');
    for (const s of inst.starting.values()) {
      s.reject(
        new LauncherDiedError(
          `Cannot start the task: the process launcher (pid ${inst.child.pid}) ended (${why}) before it answered; ` +
            `see ${this.#options.logFile}, then start the task again`,
        ),
      );
    }
    inst.starting.clear();
    for (const cb of inst.running.values()) cb.onLost();
    inst.running.clear();
  }
}
