/**
 * The task table shared by `shoal stack ps` and `shoal service ps`, in `docker stack ps` columns.
 * @module
 */
import type { TaskPortView, TaskView } from '../../api/types.js';
import type { CommandContext, OptionSpec } from '../command.js';
import { SHORT_TASK_ID_LENGTH, ago, capitalize, imageCell, nodeCell, renderTable, toJson } from '../format.js';

/** States in which a task's message is an error worth a column. */
const ERROR_STATES: ReadonlySet<string> = new Set(['failed', 'rejected', 'orphaned']);

/** States in which a task's message says why it waits (the scheduler's reason). */
const WAITING_STATES: ReadonlySet<string> = new Set(['new', 'pending']);

/** `--all` for the task tables. */
export const ALL_TASKS_OPTION: OptionSpec = {
  type: 'boolean',
  short: 'a',
  description: 'include finished tasks (history), not only the current ones',
};

/** `--no-trunc` for the task tables. */
export const NO_TRUNC_TASKS_OPTION: OptionSpec = { type: 'boolean', description: 'show full task and node ids' };

/** `-o` for the task tables. */
export const TASK_OUTPUTS = ['table', 'wide', 'json'] as const;

/**
 * The ERROR cell: the message of a failed task, or why a pending task waits, quoted as docker
 * does.
 */
function errorCell(task: TaskView): string {
  if (WAITING_STATES.has(task.state)) return task.message ? JSON.stringify(task.message) : '';
  const failed = ERROR_STATES.has(task.state) || (task.exitCode !== null && task.exitCode !== 0);
  if (!failed) return '';
  const message = task.message || (task.exitCode === null ? task.state : `non-zero exit (${task.exitCode})`);
  return JSON.stringify(message);
}

/**
 * Published ports as `docker ps` shows them: `*:8080->80/tcp`, `127.0.0.1:53->53/udp`, and
 * `80/tcp` for a port published on any free host port.
 * @example portsCell([{ published: 8080, target: 80, protocol: 'tcp', hostIp: null }]) // "*:8080->80/tcp"
 */
export function portsCell(ports: readonly TaskPortView[] | undefined): string {
  return (ports ?? [])
    .map((p) =>
      p.published === null
        ? `${p.target}/${p.protocol}`
        : `${p.hostIp ?? '*'}:${p.published}->${p.target}/${p.protocol}`,
    )
    .join(', ');
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

/** Options of {@link renderTasks}. */
export interface RenderTasksOptions {
  /** Full task and node ids. */
  readonly noTrunc: boolean;
  readonly now: number;
  /** `-o wide`: full ids, the node id in its own column, the container and the ports. */
  readonly wide?: boolean;
}

/**
 * Render tasks like `docker stack ps`: one row per task, sorted by service and slot; older tasks
 * of a slot (with `--all`) follow the current one with their name shown as `\_ web_api.2`. NODE
 * is the hostname with a short node id, since several agents may share a machine.
 */
export function renderTasks(tasks: readonly TaskView[], options: RenderTasksOptions): string {
  const wide = options.wide === true;
  const sorted = [...tasks].sort(
    (a, b) => slotOrder(a, b) || Number(isCurrent(b)) - Number(isCurrent(a)) || b.stateSince - a.stateSince,
  );
  const rows = sorted.map((task, i) => {
    const repeat = i > 0 && sorted[i - 1]!.name === task.name;
    const cells = [
      options.noTrunc || wide ? task.id : task.id.slice(0, SHORT_TASK_ID_LENGTH),
      repeat ? ` \\_ ${task.name}` : task.name,
      imageCell(task.image, options.noTrunc),
      wide ? (task.nodeHostname ?? '') : nodeCell(task.nodeHostname, task.nodeId, options.noTrunc),
    ];
    if (wide) cells.push(task.nodeId ?? '');
    cells.push(
      capitalize(task.desiredState),
      `${capitalize(task.state)} ${ago(task.stateSince, options.now).toLowerCase()}`,
    );
    if (wide) cells.push(task.containerId?.slice(0, SHORT_TASK_ID_LENGTH) ?? '', portsCell(task.ports));
    cells.push(errorCell(task));
    return cells;
  });
  const headers = wide
    ? ['ID', 'NAME', 'IMAGE', 'NODE', 'NODE ID', 'DESIRED STATE', 'CURRENT STATE', 'CONTAINER', 'PORTS', 'ERROR']
    : ['ID', 'NAME', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR'];
  return renderTable(headers, rows);
}

/** Print tasks as `-o json`, ids only (`-q`) or the docker-style table (`-o wide`: more columns). */
export function printTasks(context: CommandContext, tasks: readonly TaskView[]): void {
  if (context.output === 'json') context.stdout.write(toJson(tasks));
  else if (context.options.quiet === true) context.stdout.write(tasks.map((t) => `${t.id}\n`).join(''));
  else {
    const options = {
      noTrunc: context.options['no-trunc'] === true,
      now: context.now(),
      wide: context.output === 'wide',
    };
    context.stdout.write(renderTasks(tasks, options));
  }
}
