/**
 * The local restart policy, pure: what a node does when one of its task's containers ends.
 *
 * Swarm restarts at a fixed `delay` forever, so a crash-looping container hammers its node. Here
 * the delay doubles on each consecutive restart, from the spec's `delay` up to
 * {@link MAX_BACKOFF_MS}, and both the back-off and the `max_attempts` count start over once a
 * run lasted at least `window` (without a window: the back-off still resets after a run of
 * {@link BACKOFF_RESET_MS}, and attempts are counted forever, as the spec's `0` says).
 *
 * @module
 */
import type { RestartPolicySpec } from '../stack/spec.js';
import type { TaskRecord } from '../state/workloads.js';

/** The back-off never grows past 5 minutes. */
export const MAX_BACKOFF_MS = 300_000;
/** Without a restart window, a run this long resets the back-off. */
export const BACKOFF_RESET_MS = 300_000;
/** Base of the doubling when the spec's delay is 0 (the first restart is then immediate). */
export const ZERO_DELAY_BASE_MS = 1000;

/** Terminal outcomes the runtime decides by itself. */
export type TerminalOutcome = 'complete' | 'failed' | 'rejected';

/** What the runtime remembers of one task between passes (the planner's state, never replicated). */
export interface TaskMemory {
  readonly generation: number;
  /** In-place restarts so far (reported as `restarts`). */
  readonly restarts: number;
  /** Restarts counted toward `max_attempts` (reset by the window). */
  readonly attempts: number;
  /** Consecutive restarts since the last long-enough run: the back-off exponent. */
  readonly backoffStep: number;
  /** `finishedAt` of the last exit already dealt with (so each exit is handled once). */
  readonly handledExit: number | null;
  /** When the pending restart is due; `null` if none is pending. */
  readonly nextRestartAt: number | null;
  /** Why it last ended, for messages. */
  readonly lastReason: string;
  /** The message to report while waiting to restart or once terminal. */
  readonly message: string;
  readonly exitCode: number | null;
  readonly terminal: TerminalOutcome | null;
  /** `startedAt` of the run the runtime stopped because it was unhealthy. */
  readonly unhealthyStop: number | null;
  /** A container was created for it (its disappearance is then a failure). */
  readonly created: boolean;
  /** It was observed running (and healthy) at least once. */
  readonly reachedRunning: boolean;
  readonly containerId: string | null;
  /** The runtime stopped it for running past its job's time limit (reported `TIMEOUT`). */
  readonly timedOut: boolean;
  /** When the current run must end (job time limit), for the runtime's wake-up; null if none. */
  readonly deadlineAt: number | null;
}

/** How a run ended. */
export interface ExitEvent {
  readonly exitCode: number | null;
  /** How long it ran, `null` if it never started. */
  readonly ranMs: number | null;
  /** Human reason: `exited with code 1`, `unhealthy: ...`, `could not start: ...`. */
  readonly reason: string;
  /** Exit 0 and not stopped for being unhealthy. */
  readonly clean: boolean;
}

/** Fresh memory for a task first seen by this runtime (after an agent restart: its record's restarts carry on). */
export function freshMemory(task: TaskRecord): TaskMemory {
  return {
    generation: task.generation,
    restarts: task.restarts,
    attempts: task.restarts,
    backoffStep: 0,
    handledExit: null,
    nextRestartAt: null,
    lastReason: '',
    message: '',
    exitCode: task.exitCode,
    terminal: null,
    unhealthyStop: null,
    created: false,
    reachedRunning: task.state === 'running',
    containerId: task.containerId,
    timedOut: false,
    deadlineAt: null,
  };
}

/** Delay before the restart number `step` (0-based) of a crash loop: `delay`, then doubling, capped. */
export function backoffDelay(delayMs: number, step: number): number {
  if (step <= 0) return Math.min(Math.max(delayMs, 0), MAX_BACKOFF_MS);
  const base = delayMs > 0 ? delayMs : ZERO_DELAY_BASE_MS;
  return Math.min(base * 2 ** Math.min(step, 40), MAX_BACKOFF_MS);
}

/** `1.5s`, `250ms`, `2m` : short durations for messages. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  return `${+(ms / 60_000).toFixed(1)}m`;
}

/**
 * Applies the restart policy to an exit: either a restart is scheduled (`nextRestartAt`) or the
 * task becomes terminal (`complete`/`failed`) with a message saying why.
 */
export function decideAfterExit(mem: TaskMemory, policy: RestartPolicySpec, exit: ExitEvent, now: number): TaskMemory {
  let { attempts, backoffStep } = mem;
  const resetAfter = policy.windowMs > 0 ? policy.windowMs : BACKOFF_RESET_MS;
  if (exit.ranMs !== null && exit.ranMs >= resetAfter) {
    backoffStep = 0;
    if (policy.windowMs > 0) attempts = 0;
  }
  const base = { ...mem, attempts, backoffStep, lastReason: exit.reason, exitCode: exit.exitCode, nextRestartAt: null };
  const wanted = policy.condition === 'any' || (policy.condition === 'on-failure' && !exit.clean);
  const outcome: TerminalOutcome = exit.clean ? 'complete' : 'failed';
  if (!wanted) {
    const why = policy.condition === 'none' ? 'restart policy: none' : 'restart policy: on-failure';
    return { ...base, terminal: outcome, message: exit.clean ? exit.reason : `${exit.reason} (${why})` };
  }
  if (policy.maxAttempts > 0 && attempts >= policy.maxAttempts) {
    return {
      ...base,
      terminal: outcome,
      message: `${exit.reason}; gave up after ${attempts} restart${attempts === 1 ? '' : 's'} (max_attempts ${policy.maxAttempts})`,
    };
  }
  const delay = backoffDelay(policy.delayMs, backoffStep);
  const of = policy.maxAttempts > 0 ? ` of ${policy.maxAttempts}` : '';
  return {
    ...base,
    terminal: null,
    nextRestartAt: now + delay,
    message: `${exit.reason}; restarting in ${formatMs(delay)} (restart ${attempts + 1}${of})`,
  };
}

/** Memory once the pending restart is carried out. */
export function markRestarted(mem: TaskMemory): TaskMemory {
  return {
    ...mem,
    restarts: mem.restarts + 1,
    attempts: mem.attempts + 1,
    backoffStep: mem.backoffStep + 1,
    nextRestartAt: null,
    message: `restarted after: ${mem.lastReason}`,
  };
}
