/**
 * `shoal stack deploy|ls|ps|rm`: groups of services from a Compose file, like `docker stack`.
 * @module
 */
import type { ServiceView, StackDeployResult, StackRemoveResult, StackView, TaskView } from '../../api/types.js';
import { STALE_OPTION, outputOption, type CommandSpec } from '../command.js';
import { buildDeployRequest } from '../compose-files.js';
import { registryAuthFor } from '../docker-auth.js';
import { tooLargeMessage } from '../agent-errors.js';
import { ApiRequestError, ExitCode, UsageError } from '../errors.js';
import { ago, renderTable, toJson } from '../format.js';
import { waitForRollouts } from './deploy-progress.js';
import { ALL_TASKS_OPTION, NO_TRUNC_TASKS_OPTION, TASK_OUTPUTS, printTasks } from './tasks.js';

const VERBS: Readonly<Record<StackDeployResult['services'][number]['change'], string>> = {
  created: 'Creating service',
  updated: 'Updating service',
  unchanged: 'Unchanged service',
  removed: 'Removing service',
};

/** The human report of a deploy: one line per service, docker's words. */
export function renderDeploy(result: StackDeployResult): string {
  return result.services.map((service) => `${VERBS[service.change]} ${result.stack}_${service.name}\n`).join('');
}

/** `shoal stack deploy`. */
export const stackDeployCommand: CommandSpec = {
  words: ['stack', 'deploy'],
  aliases: ['up'],
  argsUsage: '[NAME]',
  summary: 'Deploy a stack from a Compose file, or update it to match the file',
  description:
    'The agent parses and validates the file and reports every error at once (file:line, key path, message).\n' +
    "The stack name is --name (or the argument), else the file's top-level `name:`, else its directory name.\n" +
    "`${VAR}` in the file is filled in from `.env` next to the file, with this shell's environment over it;\n" +
    'only variables whose names appear in the file or its env files are sent to the agent.\n' +
    'Every `env_file:` the services name is read here, relative to the Compose file, and sent along\n' +
    '(the CLI finds them with a line scan: keep `env_file:` paths literal or simple `${VAR}`s).\n' +
    'Services no longer in the file are removed. Deploying an unchanged file changes nothing.\n' +
    'Then it waits for the rollouts of the created and changed services and shows their progress\n' +
    '(tasks updated/wanted, failed): exit 0 once all completed (or await `shoal service promote`),\n' +
    'exit 1 with the reason when one paused or rolled back. --detach (and -o json) return at once.',
  options: {
    file: { type: 'string', short: 'f', value: 'FILE', description: 'the Compose file (default: compose.yml)' },
    name: { type: 'string', value: 'NAME', description: 'the stack name (default: see above)' },
    detach: { type: 'boolean', short: 'd', description: 'return once the change is accepted, without waiting' },
    'with-registry-auth': {
      type: 'boolean',
      description: "send the registry credentials of your Docker config (docker login) to resolve the file's images",
    },
    output: outputOption(['table', 'json']),
  },
  outputs: ['table', 'json'],
  maxArgs: 1,
  remote: true,
  examples: [
    'shoal stack deploy -f compose.yml',
    'shoal stack deploy -f deploy/compose.yml --name shop',
    'TAG=1.4.2 shoal stack deploy -f compose.yml web',
    'shoal stack deploy -f compose.yml -o json | jq \'.services[] | select(.change != "unchanged")\'',
    'shoal stack deploy -f compose.yml --detach',
  ],
  async run(context) {
    const file = (context.options.file as string | undefined) ?? 'compose.yml';
    const name = (context.options.name as string | undefined) ?? context.args[0];
    const built = buildDeployRequest(file, { name, env: context.env });
    const auth =
      context.options['with-registry-auth'] === true ? registryAuthFor(built.compose, { env: context.env }) : null;
    for (const warning of auth?.warnings ?? []) context.stderr.write(`WARNING: ${warning}\n`);
    const request = auth === null ? built : { ...built, registryAuth: auth.auth };
    const result = await context
      .client()
      .call<StackDeployResult>('POST', '/v1/stacks', { body: request })
      .catch((error: unknown) => {
        if (!(error instanceof ApiRequestError) || error.status !== 413) throw error;
        const what = `the Compose file ${file} with its env files`;
        const size = Buffer.byteLength(JSON.stringify(request));
        throw new ApiRequestError(413, error.code, tooLargeMessage(error.message, { what, size }));
      });
    if (context.output === 'json') {
      context.stdout.write(toJson(result));
      return ExitCode.ok;
    }
    for (const warning of result.warnings) context.stderr.write(`WARNING: ${warning}\n`);
    context.stdout.write(renderDeploy(result));
    const started = result.services
      .filter((s) => s.change === 'created' || s.change === 'updated')
      .map((s) => `${result.stack}_${s.name}`);
    if (context.options.detach === true || started.length === 0) return ExitCode.ok;
    const fetchServices = () =>
      context.client().call<ServiceView[]>('GET', '/v1/services', { query: { stack: result.stack } });
    return waitForRollouts({ fetchServices, stdout: context.stdout, stderr: context.stderr }, { services: started });
  },
};

/** The human table of stacks. */
export function renderStacks(stacks: readonly StackView[], now: number): string {
  const rows = [...stacks]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((stack) => [
      stack.name,
      String(stack.services),
      `${stack.tasksRunning}/${stack.tasksDesired}`,
      ago(stack.createdAt, now),
      ago(stack.updatedAt, now),
    ]);
  return renderTable(['NAME', 'SERVICES', 'TASKS', 'CREATED', 'UPDATED'], rows);
}

/** `shoal stack ls`. */
export const stackLsCommand: CommandSpec = {
  words: ['stack', 'ls'],
  aliases: ['list'],
  summary: 'List the stacks',
  description: 'TASKS is running/desired over all services of the stack.',
  options: {
    output: outputOption(['table', 'json']),
    quiet: { type: 'boolean', short: 'q', description: 'print only stack names, one per line' },
    stale: STALE_OPTION,
  },
  outputs: ['table', 'json'],
  maxArgs: 0,
  remote: true,
  examples: ['shoal stack ls', "shoal stack ls -o json | jq -r '.[] | select(.tasksRunning < .tasksDesired) | .name'"],
  async run(context) {
    const stacks = await context
      .client()
      .call<StackView[]>('GET', '/v1/stacks', { query: { stale: context.options.stale === true } });
    if (context.output === 'json') context.stdout.write(toJson(stacks));
    else if (context.options.quiet === true) context.stdout.write(stacks.map((s) => `${s.name}\n`).join(''));
    else context.stdout.write(renderStacks(stacks, context.now()));
    return ExitCode.ok;
  },
};

/** `shoal stack ps`. */
export const stackPsCommand: CommandSpec = {
  words: ['stack', 'ps'],
  argsUsage: '<stack>',
  summary: 'List the tasks of a stack',
  description:
    'One row per task, like `docker stack ps`. With --all, tasks that ended (failed, replaced, shut down)\n' +
    'are listed under the task of the same slot, as `\\_ name`. NODE is the hostname with a short node id;\n' +
    'ERROR says why a task failed or why a pending one waits. -o wide adds the node id, container and ports.',
  options: {
    all: ALL_TASKS_OPTION,
    output: outputOption(TASK_OUTPUTS),
    quiet: { type: 'boolean', short: 'q', description: 'print only task ids, one per line' },
    stale: STALE_OPTION,
    'no-trunc': NO_TRUNC_TASKS_OPTION,
  },
  outputs: TASK_OUTPUTS,
  minArgs: 1,
  maxArgs: 1,
  remote: true,
  examples: [
    'shoal stack ps web',
    'shoal stack ps web --all',
    'shoal stack ps web -o wide',
    'shoal stack ps web -o json | jq \'.[] | select(.state != "running")\'',
  ],
  async run(context) {
    const name = context.args[0]!;
    const tasks = await context.client().call<TaskView[]>('GET', `/v1/stacks/${encodeURIComponent(name)}/tasks`, {
      query: { all: context.options.all === true, stale: context.options.stale === true },
    });
    printTasks(context, tasks);
    return ExitCode.ok;
  },
};

/** `shoal stack rm`. */
export const stackRmCommand: CommandSpec = {
  words: ['stack', 'rm'],
  aliases: ['remove', 'down'],
  argsUsage: '<stack>...',
  summary: 'Remove stacks and all their services',
  description:
    "The stacks' tasks are stopped on their nodes, and the command waits until they have ended\n" +
    '(--wait seconds, default 60; exit 1 naming those still running then). --detach returns at once.\n' +
    'Removing a stack that does not exist exits 4.',
  options: {
    output: outputOption(['table', 'json']),
    detach: { type: 'boolean', short: 'd', description: 'return once the removal is accepted, without waiting' },
    wait: { type: 'string', description: 'seconds to wait for the tasks to end (default 60)' },
  },
  outputs: ['table', 'json'],
  minArgs: 1,
  remote: true,
  examples: [
    'shoal stack rm web',
    'shoal stack rm web shop',
    'shoal stack rm web --detach',
    'shoal stack rm web --wait 300',
  ],
  async run(context) {
    const wait = context.options.detach === true ? null : waitSeconds(context.options.wait);
    const query = wait === null ? '' : `?wait=${wait}`;
    const results: StackRemoveResult[] = [];
    let left = 0;
    for (const name of context.args) {
      if (context.output !== 'json' && wait !== null) context.stderr.write(`Removing stack ${name}...\n`);
      const result = await context
        .client()
        // The agent answers once the tasks ended or the wait passed: the request's bound is longer.
        .call<StackRemoveResult>('DELETE', `/v1/stacks/${encodeURIComponent(name)}${query}`, {
          ...(wait === null ? {} : { timeoutMs: (wait + 15) * 1000 }),
        });
      results.push(result);
      left += result.stillRunning?.length ?? 0;
      if (context.output !== 'json') context.stdout.write(removalLine(result));
    }
    if (context.output === 'json') context.stdout.write(toJson(results));
    return left > 0 ? ExitCode.failed : ExitCode.ok;
  },
};

/** `--wait`: whole seconds, 0..3600. */
function waitSeconds(value: string | boolean | undefined): number {
  if (value === undefined || typeof value === 'boolean') return 60;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 3600)
    throw new UsageError(`--wait: expected whole seconds from 0 to 3600, got ${JSON.stringify(value)}`);
  return seconds;
}

/** What `stack rm` says of one stack: its services, and whether its tasks ended. */
export function removalLine(result: StackRemoveResult): string {
  const count = `${result.services} service${result.services === 1 ? '' : 's'}`;
  const head = `Removed stack ${result.removed} (${count})`;
  if (result.tasks === undefined) return `Removing stack ${result.removed} (${count})\n`;
  const still = result.stillRunning ?? [];
  if (still.length === 0) return `${head}: ${result.tasks} task${result.tasks === 1 ? '' : 's'} ended\n`;
  const where = still.map((t) => `${t.id} on ${t.node ?? 'no node'}`).join(', ');
  return `${head}: ${still.length} of ${result.tasks} tasks still stopping (${where}); their nodes stop them when they can\n`;
}
