/**
 * The task table shared by `shoal stack ps` and `shoal service ps`, in `docker stack ps` columns.
 * @module
 */
import type { TaskView } from '../../api/types.js';
import type { CommandContext, OptionSpec } from '../command.js';
import { SHORT_TASK_ID_LENGTH, ago, capitalize, renderTable, shortId, toJson } from '../format.js';

/** States in which a task's message is an error worth a column. */
const ERROR_STATES: ReadonlySet<string> = new Set(['failed', 'rejected', 'orphaned']);

/** `--all` for the task tables. */
export const ALL_TASKS_OPTION: OptionSpec = {
  type: 'boolean',
  short: 'a',
  description: 'include finished tasks (history), not only the current ones',
};

/** `--no-trunc` for the task tables. */
export const NO_TRUNC_TASKS_OPTION: OptionSpec = { type: 'boolean', description: 'show full task and node ids' };

/** The ERROR cell: the message of a failed task, quoted as docker does. */
function errorCell(task: TaskView): string {
  const failed = ERROR_STATES.has(task.state) || (task.exitCode !== null && task.exitCode !== 0);
  if (!failed) return '';
  const message = task.message || (task.exitCode === null ? task.state : `non-zero exit (${task.exitCode})`);
  return JSON.stringify(message);
}

/**
 * Slot (or node) of a task name, so history sorts under the task that replaced it:
 * `web_api.2` → `web_api` + `2`.
 */
function slotOrder(a: TaskView, b: TaskView): number {
  const [nameA, slotA] = splitName(a.name);
  const [nameB, slotB] = splitName(b.name);
  const bySlot =
    /^\d+$/.test(slotA) && /^\d+$/.test(slotB) ? Number(slotA) - Number(slotB) : slotA.localeCompare(slotB);
  return nameA.localeCompare(nameB) || bySlot;
}

function splitName(name: string): [string, string] {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? [name, ''] : [name.slice(0, dot), name.slice(dot + 1)];
}

/** Current tasks before finished ones of the same slot, newest first. */
function isCurrent(task: TaskView): boolean {
  return task.desiredState === 'running' || task.desiredState === 'complete' || task.desiredState === 'ready';
}

/**
 * Render tasks like `docker stack ps`: one row per task, sorted by service and slot; older tasks
 * of a slot (with `--all`) follow the current one with their name shown as `\_ web_api.2`.
 */
export function renderTasks(tasks: readonly TaskView[], options: { noTrunc: boolean; now: number }): string {
  const sorted = [...tasks].sort(
    (a, b) => slotOrder(a, b) || Number(isCurrent(b)) - Number(isCurrent(a)) || b.stateSince - a.stateSince,
  );
  const rows = sorted.map((task, i) => {
    const repeat = i > 0 && sorted[i - 1]!.name === task.name;
    const node = task.nodeHostname ?? (task.nodeId === null ? '' : shortId(task.nodeId, options.noTrunc));
    return [
      options.noTrunc ? task.id : task.id.slice(0, SHORT_TASK_ID_LENGTH),
      repeat ? ` \\_ ${task.name}` : task.name,
      task.image,
      node,
      capitalize(task.desiredState),
      `${capitalize(task.state)} ${ago(task.stateSince, options.now).toLowerCase()}`,
      errorCell(task),
    ];
  });
  return renderTable(['ID', 'NAME', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR'], rows);
}

/** Print tasks as `-o json`, ids only (`-q`) or the docker-style table. */
export function printTasks(context: CommandContext, tasks: readonly TaskView[]): void {
  if (context.output === 'json') context.stdout.write(toJson(tasks));
  else if (context.options.quiet === true) context.stdout.write(tasks.map((t) => `${t.id}\n`).join(''));
  else context.stdout.write(renderTasks(tasks, { noTrunc: context.options['no-trunc'] === true, now: context.now() }));
}
