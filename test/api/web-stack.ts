/**
 * The `web` stack the workload route and CLI tests share, deployed on real in-process agents:
 * `web_api` (nginx, 2 replicas, 8080:80; a task that fails twice is given up on its node and
 * replaced, so it stays in the history under its replacement) and `web_agent` (global: one task
 * per node). Helpers reach
 * a task's container on the MemoryDriver of the node that runs it, to make it print or exit.
 */
import type { LogLine, TaskView } from '../../src/api/index.js';
import type { MemoryDriver } from '../runtime/memory-driver.js';
import type { Harness } from './harness.js';

export const WEB_COMPOSE = `services:
  api:
    image: nginx:1.25
    ports: ["8080:80"]
    deploy:
      replicas: 2
      restart_policy:
        condition: on-failure
        delay: 0s
        max_attempts: 1
  agent:
    image: example/agent:1
    deploy:
      mode: global
`;

/** Labels alpha starts with, as the node tests expect them. */
export const ALPHA_LABELS = { zone: 'a', gpu: 'h100' } as const;

/** Polls `read` every 20 ms until `check` holds of its answer; fails after 15 s naming `what`. */
export async function until<T>(what: string, read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 15 s: last ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const allRunning = (tasks: readonly TaskView[]) => tasks.every((t) => t.state === 'running');

/** Deploy `web` through the agent (not through the recorded API) and wait for its 5 tasks to run. */
export async function deployWeb(h: Harness): Promise<TaskView[]> {
  const api = h.agent.agent.api;
  await api.deployStack({ name: 'web', compose: WEB_COMPOSE, file: 'compose.yml' });
  return until(
    'web to run 5 tasks',
    () => api.stackTasks('web'),
    (t) => t.length === 5 && allRunning(t),
  );
}

/** The live task of `web` named `name` (`web_api.1`). */
export async function webTask(h: Harness, name: string): Promise<TaskView> {
  const task = (await h.agent.agent.api.stackTasks('web')).find((t) => t.name === name && t.state === 'running');
  if (!task) throw new Error(`no running task ${name}`);
  return task;
}

/** A task's container: the driver of the node that runs it, and its id there. */
export function containerOf(h: Harness, task: TaskView): { readonly driver: MemoryDriver; readonly id: string } {
  if (task.nodeId === null || !task.containerId) throw new Error(`task ${task.name} has no container`);
  return { driver: h.cluster.byId(task.nodeId).driver, id: task.containerId };
}

/** Make the container of `task` print `line`; returns the line as the agent will serve it. */
export function print(h: Harness, task: TaskView, line: string, options: Partial<LogLine> = {}): LogLine {
  const { driver, id } = containerOf(h, task);
  const time = options.time ?? Date.now();
  const stream = options.stream ?? 'stdout';
  driver.print(id, line, { stream, time });
  return { taskId: task.id, taskName: task.name, nodeId: task.nodeId!, stream, time, line };
}

/**
 * Make `web_api.1` exit with `code` twice (its node restarts it once, then gives up); resolves
 * once the agent lists it failed in the history and its replacement runs. Returns the failed task.
 */
export async function failWebApi1(h: Harness, code: number): Promise<TaskView> {
  const api = h.agent.agent.api;
  const failing = await webTask(h, 'web_api.1');
  const { driver, id } = containerOf(h, failing);
  driver.exit(id, code);
  const restarted = (t: TaskView | undefined) => t?.restarts === 1 && t.state === 'running';
  await until(
    'web_api.1 to be restarted once',
    () => api.serviceTasks('web_api'),
    (tasks) => restarted(tasks.find((t) => t.id === failing.id)),
  );
  driver.exit(id, code);
  const tasks = await until(
    'web_api.1 to fail and be replaced',
    () => h.agent.agent.api.serviceTasks('web_api', { all: true }),
    (t) =>
      t.some((x) => x.id === failing.id && x.state === 'failed') && t.filter((x) => x.state === 'running').length === 2,
  );
  return tasks.find((t) => t.id === failing.id)!;
}
