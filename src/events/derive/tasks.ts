/**
 * Task events: a task's state changed (with the reason the scheduler or the runtime gave), a
 * waiting task's reason changed, a task was preempted. Transient steps a person does not act on
 * (`new`, `assigned`, `preparing`, `starting`, and waiting with no reason yet) are left out, and
 * many tasks of one service making the same change in one command (a deploy of 500 replicas, a
 * node's batch of reports) are one event with a `count`: at thousands of tasks, one event each
 * would push everything else out of the window.
 * @module
 */
import type { AppliedCommand } from '../../state/cluster-state.js';
import type { IndexedState } from '../../state/indexed-state.js';
import type { TaskRecord, TaskState } from '../../state/workloads.js';
import type { EventDraft } from '../types.js';
import { hostOf, plural, taskName } from './names.js';

const QUIET: ReadonlySet<TaskState> = new Set(['new', 'assigned', 'preparing', 'starting']);
/** From this many tasks of one service making the same change in one command, one event tells them. */
export const GROUP_FROM = 4;

type Change = readonly [was: TaskRecord | undefined, is: TaskRecord];

export function taskEvents({ before, after }: AppliedCommand): EventDraft[] {
  if (before.tasks === after.tasks) return [];
  const changed: Change[] = [];
  before.tasks.diff(after.tasks, (_id, was, is) => {
    if (is === undefined) return; // collected: history, not news
    if (is.state === 'pending' && is.message === '') return; // not placed yet, no reason to tell
    const moved = was?.state !== is.state;
    const newReason = is.state === 'pending' && was?.state === 'pending' && was.message !== is.message;
    if ((moved && !QUIET.has(is.state)) || newReason) changed.push([was, is]);
  });
  changed.sort(([, a], [, b]) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // the same change of many tasks of a service (same state, node and message): one event
  const groups = new Map<string, Change[]>();
  for (const change of changed) {
    const [, is] = change;
    const key = `${is.serviceId}\u0000${is.state}\u0000${is.nodeId ?? ''}\u0000${is.message}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [change]);
    else group.push(change);
  }
  const out: EventDraft[] = [];
  for (const group of groups.values()) {
    if (group.length >= GROUP_FROM) out.push(groupEvent(after, group));
    else for (const [was, is] of group) out.push(taskEvent(after, was, is));
  }
  return out;
}

function groupEvent(state: IndexedState, group: readonly Change[]): EventDraft {
  const [, first] = group[0]!;
  const service = state.services[first.serviceId];
  const name = first.serviceId;
  const what = describe(state, { ...first, exitCode: null });
  return {
    type: 'task',
    action: first.state,
    name,
    service: first.serviceId,
    ...(service ? { stack: service.stack } : {}),
    ...(first.nodeId !== null ? { node: first.nodeId } : {}),
    to: first.state,
    count: group.length,
    message: `${plural(group.length, 'task')} of ${name} ${what.replace(/^is /, 'are ').replace(/^was /, 'were ')}`,
  };
}

function taskEvent(state: IndexedState, was: TaskRecord | undefined, is: TaskRecord): EventDraft {
  const name = taskName(state, is);
  const service = state.services[is.serviceId];
  return {
    type: 'task',
    action: is.state,
    name,
    task: is.id,
    service: is.serviceId,
    ...(service ? { stack: service.stack } : {}),
    ...(is.nodeId !== null ? { node: is.nodeId } : {}),
    ...(is.job !== undefined ? { job: is.job.jobId } : {}),
    ...(was !== undefined ? { from: was.state } : {}),
    to: is.state,
    ...(is.exitCode !== null ? { exitCode: is.exitCode } : {}),
    message: `${name} ${describe(state, is)}`,
  };
}

function describe(state: IndexedState, task: TaskRecord): string {
  const host = hostOf(state, task.nodeId);
  const why = task.message === '' ? '' : `: ${task.message}`;
  const exit = task.exitCode === null ? '' : ` (exit code ${task.exitCode})`;
  switch (task.state) {
    case 'pending':
      return `is waiting for a node${why}`;
    case 'running':
      return `is running on ${host}`;
    case 'complete':
      return `completed on ${host}${exit}`;
    case 'failed':
      return `failed on ${host}${why}${exit}`;
    case 'rejected':
      return `was rejected by ${host}${why}`;
    case 'orphaned':
      return `was orphaned: its node ${host} went down`;
    case 'shutdown':
      return `was shut down on ${host}${task.stopReason !== undefined ? `: ${task.stopReason}` : why}`;
    default:
      return `is ${task.state} on ${host}${why}`;
  }
}

/** `task.preempt`: each victim, and what it was stopped for. */
export function preemptionEvents({ command, after }: AppliedCommand): EventDraft[] {
  if (command.type !== 'task.preempt') return [];
  const out: EventDraft[] = [];
  for (const id of command.taskIds) {
    const task = after.tasks.get(id);
    if (task === undefined) continue;
    const name = taskName(after, task);
    out.push({
      type: 'task',
      action: 'preempted',
      name,
      task: id,
      service: task.serviceId,
      ...(task.nodeId !== null ? { node: task.nodeId } : {}),
      ...(task.job !== undefined ? { job: task.job.jobId } : {}),
      message: `${name} ${task.stopReason ?? 'preempted for higher-priority work'}`,
    });
  }
  return out;
}
