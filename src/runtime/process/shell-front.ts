/**
 * The per-task way to start a supervisor, where the launcher is not used (no Perl, or turned
 * off): `/bin/sh` spawned detached from the agent runs the shell front of wrapper.ts, which
 * execs the Perl supervisor when there is one. Plus the host facts the driver needs (perl, signals).
 *
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProcessMeta } from './task-dir.js';
import { FILES, wrapperScript } from './wrapper.js';

/** What {@link spawnShellFront} needs. */
export interface ShellFrontInput {
  readonly id: string;
  readonly meta: ProcessMeta;
  /** The task's directory. */
  readonly dir: string;
  readonly cgroupProcs: readonly string[];
  /** `null`: the shell runs the command itself (raw output files, no times). */
  readonly perl: string | null;
  /** The supervisor script's path. */
  readonly supervisor: string;
  /** The shell (and so the supervisor it became) ended. */
  readonly onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** Spawns a task's shell front; resolves to its pid, which leads the task's session and group. */
export async function spawnShellFront(input: ShellFrontInput): Promise<number> {
  const { meta, dir } = input;
  const script = wrapperScript({
    dir,
    cwd: meta.cwd ?? dir,
    cgroupProcs: input.cgroupProcs,
    supervisor: input.perl === null ? null : input.supervisor,
    perl: input.perl ?? '',
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
    throw new Error(`Cannot start process ${input.id}: ${error.message}`, { cause: error });
  }
  child.unref();
  child.once('exit', input.onExit);
  return pid;
}

/** The name of signal number `n`. */
export function signalOf(n: number): NodeJS.Signals {
  return signalName(String(n));
}

/** A valid signal name (`SIGTERM`, `TERM`, `15`), SIGTERM for anything else. */
export function signalName(s: string): NodeJS.Signals {
  const signals = os.constants.signals as Record<string, number>;
  if (/^\d+$/.test(s)) {
    const name = Object.keys(signals).find((k) => signals[k] === Number(s));
    return (name ?? 'SIGTERM') as NodeJS.Signals;
  }
  const name = s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
  return (name in signals ? name : 'SIGTERM') as NodeJS.Signals;
}

/** The absolute path of a `perl` on the agent's PATH, or null. */
export function findPerl(): string | null {
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
