/**
 * The node planner, pure: the tasks assigned to this node and its observed containers in, the
 * actions that make them match and the task reports out. No clock, no engine, no randomness:
 * the runtime (node-runtime.ts) observes, calls {@link planNode}, carries the actions out and
 * keeps the returned memory for the next pass. Level-triggered: planning twice over the same
 * observation asks for nothing new, and any pass after a crash converges.
 *
 * @module
 */
import { FENCE_STOP_MS } from './self-fence.js';
import { isTerminal, taskStateRank, type TaskState } from '../state/workloads.js';
import {
  decideAfterExit,
  freshMemory,
  markRestarted,
  type ExitEvent,
  type TaskMemory,
  type TerminalOutcome,
} from './restart-policy.js';
import type { ObservedContainer, RunnableAssignment, RuntimeAssignment, TaskReport } from './types.js';

/** The planner's memory of every task it manages, by task id. */
export type RestartState = Readonly<Record<string, TaskMemory>>;

/** Something to do to a container. Actions with the same `key` must run one after another, in order. */
export type Action =
  /** Create the task's container, then start it. */
  | { readonly type: 'create'; readonly key: string; readonly taskId: string; readonly assignment: RunnableAssignment }
  | { readonly type: 'start'; readonly key: string; readonly taskId: string; readonly containerId: string }
  | {
      readonly type: 'stop';
      readonly key: string;
      readonly taskId: string | null;
      readonly containerId: string;
      readonly graceMs: number;
      readonly signal: string;
      readonly reason: string;
    }
  | {
      readonly type: 'remove';
      readonly key: string;
      readonly taskId: string | null;
      readonly containerId: string;
      readonly reason: string;
    };

/** Input of {@link planNode}. */
export interface PlanInput {
  readonly nodeId: string;
  /** The tasks assigned to this node (others are ignored), with their services. */
  readonly desired: readonly RuntimeAssignment[];
  /** This node's containers (containers labelled for other nodes are ignored). */
  readonly observed: readonly ObservedContainer[];
  readonly now: number;
  readonly memory: RestartState;
  /** Action keys still being carried out: those tasks and containers are left alone this pass. */
  readonly busy?: ReadonlySet<string>;
  /** The previous pass's {@link PlanResult.settled}: those tasks are not planned again while nothing of theirs changed. */
  readonly settled?: ReadonlyMap<string, SettledTask>;
  /**
   * Services whose tasks must not run here now: this node lost the quorum and they stop on
   * disconnect (self-fence.ts). Their tasks are stopped, not started, and not reported.
   */
  readonly held?: { readonly services: ReadonlySet<string>; readonly reason: string };
}

/**
 * A task with nothing left to do on this node: ended in the replicated record, its container (if
 * any) not running, no action and no report. Planning it again yields nothing as long as its
 * record (the same object: records are replaced, never changed) and its container stay the same;
 * ended tasks stay assigned for their logs, so without this every pass would cost O(all tasks
 * ever run here) instead of O(live tasks).
 */
export interface SettledTask {
  readonly task: RuntimeAssignment['task'];
  /** Its service was gone then (a service removed later leaves the record as is, but the container must go). */
  readonly serviceGone: boolean;
  /** Its container as observed then (`undefined`: none). */
  readonly container: ObservedContainer | undefined;
  /** `id:status:finishedAt` of that container, '' for none (drivers that build new objects on each list). */
  readonly containerKey: string;
}

/** Output of {@link planNode}. */
export interface PlanResult {
  readonly actions: Action[];
  /** The observed state of every managed task (the runtime sends only the changes). */
  readonly reports: TaskReport[];
  readonly memory: RestartState;
  /** The earliest pending restart, so the runtime can wake up for it; `null` if none. */
  readonly nextWakeAt: number | null;
  /** The tasks to skip next pass (pass them back as {@link PlanInput.settled}). */
  readonly settled: ReadonlyMap<string, SettledTask>;
}

const LIVE = new Set(['running', 'restarting', 'paused']);

/** The key of actions on a container that belongs to no managed task. */
export function strayKey(containerId: string): string {
  return `container:${containerId}`;
}

/**
 * Decides what to do on this node.
 *
 * @example
 * ```ts
 * const { actions, reports, memory } = planNode({ nodeId, desired, observed, now: Date.now(), memory: previous });
 * ```
 */
export function planNode(input: PlanInput): PlanResult {
  const { nodeId, now } = input;
  const busy = input.busy ?? new Set<string>();
  const actions: Action[] = [];
  const reports: TaskReport[] = [];
  const memory: Record<string, TaskMemory> = {};
  const settled = new Map<string, SettledTask>();
  const previouslySettled = input.settled ?? new Map<string, SettledTask>();

  const desired = new Map<string, RuntimeAssignment>();
  for (const a of input.desired) if (a.task.nodeId === nodeId) desired.set(a.task.id, a);

  // Containers by task (current generation only); everything else of ours is a stray.
  const firstOf = new Map<string, ObservedContainer>();
  const moreOf = new Map<string, ObservedContainer[]>();
  const strays: ObservedContainer[] = [];
  for (const c of input.observed) {
    if (c.nodeId !== nodeId) continue;
    const a = c.taskId === null ? undefined : desired.get(c.taskId);
    if (a === undefined || c.generation !== a.task.generation) strays.push(c);
    else if (!firstOf.has(a.task.id)) firstOf.set(a.task.id, c);
    else moreOf.set(a.task.id, [...(moreOf.get(a.task.id) ?? []), c]);
  }

  // A task whose old-generation container still exists waits for it to go (they share a name).
  const fencedIds = new Set(strays.map((c) => c.taskId));

  // Settled tasks are skipped (their memory is not kept: planning one afresh changes nothing).
  const toPlan: [string, RuntimeAssignment][] = [];
  for (const entry of desired) {
    const [taskId, a] = entry;
    const mark = previouslySettled.get(taskId);
    const unchanged =
      mark !== undefined &&
      mark.task === a.task &&
      mark.serviceGone === (a.service === null) &&
      !moreOf.has(taskId) &&
      sameContainer(mark, firstOf.get(taskId));
    if (unchanged) settled.set(taskId, mark);
    else toPlan.push(entry);
  }
  for (const [taskId, a] of toPlan.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const previous = input.memory[taskId];
    const mem = previous && previous.generation === a.task.generation ? previous : freshMemory(a.task);
    if (busy.has(taskId)) {
      memory[taskId] = mem;
      continue;
    }
    const first = firstOf.get(taskId);
    const cs = first === undefined ? [] : [first, ...(moreOf.get(taskId) ?? [])];
    const [current, ...duplicates] = pickCurrent(cs);
    strays.push(...duplicates);
    if (current === undefined && fencedIds.has(taskId)) {
      memory[taskId] = mem;
      continue;
    }
    if (input.held?.services.has(a.task.serviceId) && !isTerminal(a.task.state)) {
      // held: stop it if it runs, start nothing; once the quorum is back it is planned as usual
      memory[taskId] = mem;
      if (current !== undefined && LIVE.has(current.status)) {
        const graceMs = Math.min(a.service?.spec.stopGracePeriodMs ?? 10_000, FENCE_STOP_MS);
        const signal = a.service?.spec.stopSignal ?? current.stopSignal ?? 'SIGTERM';
        const reason = input.held.reason;
        actions.push({ type: 'stop', key: taskId, taskId, containerId: current.id, graceMs, signal, reason });
      }
      continue;
    }
    const step = planTask(a, current, mem, now);
    memory[taskId] = step.mem;
    actions.push(...step.actions);
    if (step.report) reports.push(clamp(step.report, a));
    const over = isTerminal(a.task.state) && (current === undefined || !LIVE.has(current.status));
    if (over && step.actions.length === 0 && step.report === null && cs.length <= 1)
      settled.set(taskId, {
        task: a.task,
        serviceGone: a.service === null,
        container: current,
        containerKey: containerKey(current),
      });
  }

  for (const c of strays) {
    const key = strayKey(c.id);
    if (busy.has(key)) continue;
    const reason = strayReason(c, desired);
    if (LIVE.has(c.status)) {
      const graceMs = c.stopGraceMs ?? 10_000;
      actions.push({
        type: 'stop',
        key,
        taskId: c.taskId,
        containerId: c.id,
        graceMs,
        signal: c.stopSignal ?? 'SIGTERM',
        reason,
      });
    }
    actions.push({ type: 'remove', key, taskId: c.taskId, containerId: c.id, reason });
  }

  let nextWakeAt: number | null = null;
  for (const m of Object.values(memory)) {
    for (const at of [m.nextRestartAt, m.terminal === null && !m.timedOut ? m.deadlineAt : null]) {
      if (at !== null && (nextWakeAt === null || at < nextWakeAt)) nextWakeAt = at;
    }
  }
  return { actions, reports, memory, nextWakeAt, settled };
}

function containerKey(c: ObservedContainer | undefined): string {
  return c === undefined ? '' : `${c.id}:${c.status}:${c.finishedAt}`;
}

/** The same observation as when the task settled (a driver may hand the same object again: cheapest). */
function sameContainer(mark: SettledTask, c: ObservedContainer | undefined): boolean {
  return mark.container === c || mark.containerKey === containerKey(c);
}

interface TaskStep {
  readonly mem: TaskMemory;
  readonly actions: Action[];
  readonly report: TaskReport | null;
}

function planTask(a: RuntimeAssignment, c: ObservedContainer | undefined, mem0: TaskMemory, now: number): TaskStep {
  const { task } = a;
  let mem: TaskMemory = c ? { ...mem0, created: true, containerId: c.id } : mem0;
  const report = (state: TaskState, message: string, exitCode: number | null = null): TaskReport => {
    const base: TaskReport = {
      taskId: task.id,
      generation: task.generation,
      state,
      message,
      exitCode,
      containerId: c?.id ?? mem.containerId,
      restarts: mem.restarts,
    };
    if (!isTerminal(state) || task.job === undefined) return base;
    const outcome = mem.timedOut ? 'TIMEOUT' : c?.oomKilled ? 'OUT_OF_MEMORY' : undefined;
    return {
      ...base,
      ...(outcome === undefined ? {} : { outcome }),
      ...(c?.usage ? { usage: { cpuMs: Math.round(c.usage.cpuMs), peakMemoryBytes: c.usage.peakMemoryBytes } } : {}),
    };
  };
  const stop = (reason: string): Action => ({
    type: 'stop',
    key: task.id,
    taskId: task.id,
    containerId: c!.id,
    graceMs: a.service?.spec.stopGracePeriodMs ?? c!.stopGraceMs ?? 10_000,
    signal: a.service?.spec.stopSignal ?? c!.stopSignal ?? 'SIGTERM',
    reason,
  });

  // No longer wanted here (or its service is gone): stop, then (next pass, once the exit code is
  // known) remove and report.
  if (task.desiredState === 'shutdown' || !isRunnable(a)) {
    const quiet = isTerminal(task.state);
    if (mem.terminal && !quiet)
      return { mem, actions: c ? [remove(task.id, c, 'task ended')] : [], report: terminalReport() };
    // The manager may say why (`preempted by job 17 (priority 500)`): the user reads it in the task's message.
    const because = task.stopReason ?? 'no longer wanted on this node';
    if (c && LIVE.has(c.status)) return { mem, actions: [stop(`task is ${because}`)], report: null };
    if (c) mem = { ...mem, exitCode: c.exitCode };
    const actions = c ? [remove(task.id, c, `task is ${because}`)] : [];
    return { mem, actions, report: quiet ? null : report('shutdown', `stopped: ${because}`, mem.exitCode) };
  }

  // Over: never restart; a container that still runs (the record went terminal elsewhere) is stopped.
  if (mem.terminal || isTerminal(task.state)) {
    const actions = c && LIVE.has(c.status) ? [stop(`task is ${mem.terminal ?? task.state}`)] : [];
    // Once the record is terminal too there is nothing left to say (apply would ignore it): ended
    // tasks stay assigned for their logs, and must cost nothing on every pass.
    return { mem, actions, report: mem.terminal && !isTerminal(task.state) ? terminalReport() : null };
  }

  const runnable: RunnableAssignment = a;
  // A job's unit is never restarted in place: retries are new tasks of the job controller.
  const policy = task.job === undefined ? runnable.service.spec.deploy.restartPolicy : NO_RESTART;
  const waiting = (): TaskStep => ({ mem, actions: [], report: report(waitState(), mem.message, mem.exitCode) });
  const restartDue = mem.nextRestartAt !== null && now >= mem.nextRestartAt;

  if (!c) {
    if (mem.created && mem.nextRestartAt === null) {
      mem = decideAfterExit(mem, policy, gone(), now);
      if (mem.terminal) return { mem, actions: [], report: terminalReport() };
    }
    if (mem.nextRestartAt !== null && now < mem.nextRestartAt) return waiting();
    const restarting = mem.nextRestartAt !== null;
    if (restarting) mem = markRestarted(mem);
    mem = { ...mem, created: true };
    const message = restarting ? mem.message : 'creating container';
    return {
      mem,
      actions: [{ type: 'create', key: task.id, taskId: task.id, assignment: runnable }],
      report: report(restarting ? waitState() : 'preparing', message),
    };
  }

  if (LIVE.has(c.status)) {
    mem = { ...mem, nextRestartAt: null };
    const limit = task.job === undefined ? 0 : (runnable.service.spec.job?.timeLimitMs ?? 0);
    if (limit > 0 && c.startedAt !== null) {
      mem = { ...mem, deadlineAt: c.startedAt + limit };
      if (now >= c.startedAt + limit) {
        if (mem.timedOut) return { mem, actions: [], report: null }; // stopping
        mem = { ...mem, timedOut: true };
        return { mem, actions: [stop(`time limit of ${formatMs(limit)} exceeded`)], report: null };
      }
    }
    if (c.health === 'unhealthy') {
      if (mem.unhealthyStop === c.startedAt) return { mem, actions: [], report: null };
      mem = { ...mem, unhealthyStop: c.startedAt };
      return { mem, actions: [stop(`unhealthy: ${c.healthOutput}`)], report: null };
    }
    if (c.health === 'starting')
      return { mem, actions: [], report: report('starting', runningMessage('health: starting')) };
    mem = { ...mem, reachedRunning: true };
    return { mem, actions: [], report: report('running', runningMessage('')) };
  }

  if (c.status === 'removing') return { mem, actions: [], report: null };

  if (c.status === 'created') {
    if (mem.nextRestartAt !== null && !restartDue) return waiting();
    if (restartDue) mem = markRestarted(mem);
    return {
      mem,
      actions: [{ type: 'start', key: task.id, taskId: task.id, containerId: c.id }],
      report: report(restartDue ? waitState() : 'preparing', restartDue ? mem.message : 'starting container'),
    };
  }

  // exited or dead
  const finished = c.finishedAt ?? 0;
  if (mem.nextRestartAt === null && mem.handledExit !== finished) {
    mem = { ...decideAfterExit(mem, policy, exitOf(c, mem), now), handledExit: finished };
    if (mem.terminal) return { mem, actions: [], report: terminalReport() };
  }
  if (mem.nextRestartAt !== null && now >= mem.nextRestartAt) {
    mem = { ...markRestarted(mem), handledExit: finished };
    return {
      mem,
      actions: [{ type: 'start', key: task.id, taskId: task.id, containerId: c.id }],
      report: report(waitState(), mem.message, mem.exitCode),
    };
  }
  return waiting();

  function terminalReport(): TaskReport {
    if (mem.timedOut && mem.terminal !== 'rejected')
      return report('failed', `TIMEOUT: killed after its time limit (${mem.message})`, mem.exitCode);
    return report(mem.terminal as TerminalOutcome, mem.message, mem.exitCode);
  }
  function waitState(): TaskState {
    return mem.reachedRunning ? 'running' : 'starting';
  }
  function runningMessage(base: string): string {
    if (mem.restarts === 0) return base;
    const last = `restarted ${mem.restarts} time${mem.restarts === 1 ? '' : 's'}, last after: ${mem.lastReason}`;
    return base ? `${base}; ${last}` : last;
  }
}

const NO_RESTART = Object.freeze({ condition: 'none', delayMs: 0, maxAttempts: 0, windowMs: 0 } as const);

/** `90000` → `1m30s`, for messages. */
function formatMs(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
}

/** Whether the assignment's service is known (else it can only be shut down). */
export function isRunnable(a: RuntimeAssignment): a is RunnableAssignment {
  return a.service !== null;
}

function remove(key: string, c: ObservedContainer, reason: string): Action {
  return { type: 'remove', key, taskId: c.taskId, containerId: c.id, reason };
}

function gone(): ExitEvent {
  return { exitCode: null, ranMs: null, reason: 'container was removed outside shoal', clean: false };
}

/** Why a run ended, from the container's last state and what the runtime did to it. */
export function exitOf(c: ObservedContainer, mem: TaskMemory): ExitEvent {
  const ranMs = c.startedAt !== null && c.finishedAt !== null ? Math.max(0, c.finishedAt - c.startedAt) : null;
  const code = c.exitCode;
  if (mem.unhealthyStop !== null && mem.unhealthyStop === c.startedAt) {
    const output = c.healthOutput ? `: ${c.healthOutput}` : '';
    return { exitCode: code, ranMs, reason: `unhealthy (healthcheck failed${output})`, clean: false };
  }
  if (c.oomKilled)
    return { exitCode: code, ranMs, reason: `killed: out of memory (exit code ${code ?? 137})`, clean: false };
  if (c.status === 'dead')
    return { exitCode: code, ranMs, reason: `container is dead${c.error ? `: ${c.error}` : ''}`, clean: false };
  if (code === null)
    return {
      exitCode: null,
      ranMs,
      reason: `ended without an exit code${c.error ? `: ${c.error}` : ''}`,
      clean: false,
    };
  const error = c.error ? ` (${c.error})` : '';
  return { exitCode: code, ranMs, reason: `exited with code ${code}${error}`, clean: code === 0 };
}

/** The container to keep among several for one task: a live one first, then the latest started. */
function pickCurrent(cs: readonly ObservedContainer[]): ObservedContainer[] {
  return [...cs].sort((x, y) => {
    const live = Number(LIVE.has(y.status)) - Number(LIVE.has(x.status));
    if (live !== 0) return live;
    const started = (y.startedAt ?? 0) - (x.startedAt ?? 0);
    return started !== 0 ? started : x.id < y.id ? -1 : 1;
  });
}

function strayReason(c: ObservedContainer, desired: ReadonlyMap<string, RuntimeAssignment>): string {
  if (c.taskId === null || c.generation === null) return 'container has no valid shoal task labels';
  const a = desired.get(c.taskId);
  if (!a) return `task ${c.taskId} is not assigned to this node any more (fenced)`;
  if (a.task.generation !== c.generation) {
    return `task ${c.taskId} generation ${c.generation} was superseded by generation ${a.task.generation} (fenced)`;
  }
  return `duplicate container for task ${c.taskId}`;
}

/** Never report a live state below what the record already says (apply would ignore it anyway). */
function clamp(r: TaskReport, a: RuntimeAssignment): TaskReport {
  const current = a.task.state;
  if (isTerminal(r.state) || isTerminal(current)) return r;
  return taskStateRank(r.state) < taskStateRank(current) ? { ...r, state: current } : r;
}

/** An action that failed, as the runtime tells the planner. */
export interface ActionFailure {
  /** `rejected`: the node cannot run the task at all; `failed`: an engine error, retried by the restart policy. */
  readonly kind: 'rejected' | 'failed';
  readonly message: string;
}

/**
 * Records a failed create or start in the planner's memory: a rejection is terminal, any other
 * failure counts as a failed run under the restart policy (so a broken engine is retried with
 * back-off, not in a hot loop).
 */
export function recordFailure(
  memory: RestartState,
  assignment: RuntimeAssignment,
  failure: ActionFailure,
  now: number,
): RestartState {
  const { task } = assignment;
  if (!isRunnable(assignment)) return memory;
  const previous = memory[task.id];
  const mem = previous && previous.generation === task.generation ? previous : freshMemory(task);
  if (mem.terminal) return memory;
  const next: TaskMemory =
    failure.kind === 'rejected'
      ? { ...mem, terminal: 'rejected', message: failure.message, exitCode: null, nextRestartAt: null }
      : decideAfterExit(
          mem,
          task.job === undefined ? assignment.service.spec.deploy.restartPolicy : NO_RESTART,
          { exitCode: null, ranMs: null, reason: `could not start: ${failure.message}`, clean: false },
          now,
        );
  return { ...memory, [task.id]: next };
}
