/**
 * `shoal service ls|ps|inspect|scale`: the services of the stacks, like `docker service`.
 * (`service logs` is in service-logs.ts.)
 * @module
 */
import type { ServiceInspectView, ServiceView, TaskView } from '../../api/types.js';
import { STALE_OPTION, outputOption, type CommandContext, type CommandSpec } from '../command.js';
import { ExitCode, UsageError } from '../errors.js';
import { imageCell, renderTable, toJson } from '../format.js';
import { autoscaleCell } from './autoscale-cell.js';
import { ALL_TASKS_OPTION, NO_TRUNC_TASKS_OPTION, TASK_OUTPUTS, printTasks } from './tasks.js';

/** The path of one service. */
export function servicePath(reference: string, suffix = ''): string {
  return `/v1/services/${encodeURIComponent(reference)}${suffix}`;
}

/** A service's full name as docker shows it: `<stack>_<name>`. */
export function serviceName(service: Pick<ServiceView, 'stack' | 'name'>): string {
  return `${service.stack}_${service.name}`;
}

/**
 * The human table of services, docker's columns; MODE is the kind (replicated, global, job, cron).
 * An UPDATE column is added while some service's rollout is not completed (issue 15).
 */
export function renderServices(services: readonly ServiceView[]): string {
  const sorted = [...services].sort((a, b) => serviceName(a).localeCompare(serviceName(b)));
  const rows = sorted.map((service) => [
    serviceName(service),
    service.kind,
    `${service.running}/${service.desired}`,
    imageCell(service.image),
    service.ports.join(',') || '',
  ]);
  const headers = ['NAME', 'MODE', 'REPLICAS', 'IMAGE', 'PORTS'];
  if (sorted.some((s) => s.autoscale !== undefined)) {
    headers.push('AUTOSCALE'); // issue 16: value/target, bounds, last decision
    rows.forEach((row, i) => row.push(autoscaleCell(sorted[i]!)));
  }
  if (!sorted.some((s) => updateCell(s) !== '')) return renderTable(headers, rows);
  return renderTable(
    [...headers, 'UPDATE'],
    rows.map((row, i) => [...row, updateCell(sorted[i]!)]),
  );
}

/**
 * `updating 2/5`, `paused: 1 of 5 new tasks failed ...` (reasons cut at 80 characters); empty
 * once completed, and while a new service starts (it updates nothing).
 */
export function updateCell(service: ServiceView): string {
  const u = service.update;
  if (u === undefined || u.state === 'completed' || (u.state === 'updating' && u.fromVersion === 0)) return '';
  const counts = u.state === 'rolled_back' ? '' : ` ${u.updated}/${u.total}`;
  const reason = u.reason === '' ? '' : `: ${u.reason.length > 80 ? `${u.reason.slice(0, 79)}…` : u.reason}`;
  return `${u.state.replace(/_/g, ' ')}${counts}${reason}`;
}

/** `shoal service ls`. */
export const serviceLsCommand: CommandSpec = {
  words: ['service', 'ls'],
  aliases: ['list'],
  summary: 'List the services',
  description:
    'REPLICAS is running/desired; for a global service desired is the number of eligible nodes.\n' +
    'UPDATE (shown while a rollout is not completed): its state, tasks updated/wanted, and why.',
  options: {
    stack: { type: 'string', value: 'STACK', description: 'only the services of this stack' },
    output: outputOption(['table', 'json']),
    quiet: { type: 'boolean', short: 'q', description: 'print only service ids, one per line' },
    stale: STALE_OPTION,
  },
  outputs: ['table', 'json'],
  maxArgs: 0,
  remote: true,
  examples: [
    'shoal service ls',
    'shoal service ls --stack web',
    "shoal service ls -o json | jq -r '.[] | select(.running < .desired) | .id'",
  ],
  async run(context) {
    const services = await context.client().call<ServiceView[]>('GET', '/v1/services', {
      query: { stack: context.options.stack as string | undefined, stale: context.options.stale === true },
    });
    if (context.output === 'json') context.stdout.write(toJson(services));
    else if (context.options.quiet === true) context.stdout.write(services.map((s) => `${s.id}\n`).join(''));
    else context.stdout.write(renderServices(services));
    return ExitCode.ok;
  },
};

/** `shoal service ps`. */
export const servicePsCommand: CommandSpec = {
  words: ['service', 'ps'],
  argsUsage: '<service>',
  summary: 'List the tasks of a service',
  description: 'A service is named by its id (`<stack>_<name>`, as `shoal service ls` shows it).',
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
  examples: ['shoal service ps web_api', 'shoal service ps web_api --all', 'shoal service ps web_api -q'],
  async run(context) {
    const tasks = await context.client().call<TaskView[]>('GET', servicePath(context.args[0]!, '/tasks'), {
      query: { all: context.options.all === true, stale: context.options.stale === true },
    });
    printTasks(context, tasks);
    return ExitCode.ok;
  },
};

/** `shoal service inspect`. */
export const serviceInspectCommand: CommandSpec = {
  words: ['service', 'inspect'],
  argsUsage: '<service>...',
  summary: 'Show the full record of services as JSON',
  description: 'Prints a JSON array with one object per service (its spec, replicas and current tasks), like docker.',
  options: {
    output: {
      type: 'string',
      short: 'o',
      value: 'FORMAT',
      description: 'output format: json (the only one, as docker)',
    },
    stale: STALE_OPTION,
  },
  // `table` is the default when -o is absent; inspect prints JSON either way.
  outputs: ['table', 'json'],
  minArgs: 1,
  remote: true,
  examples: ['shoal service inspect web_api', "shoal service inspect web_api | jq '.[0].spec'"],
  async run(context) {
    const views: ServiceInspectView[] = [];
    for (const reference of context.args) {
      views.push(
        await context.client().call<ServiceInspectView>('GET', servicePath(reference), {
          query: { stale: context.options.stale === true },
        }),
      );
    }
    context.stdout.write(toJson(views));
    return ExitCode.ok;
  },
};

/** `web_api=3` → `['web_api', 3]`; anything else is a usage error. */
export function parseScaleArg(arg: string): [string, number] {
  const match = /^(.+)=(\d{1,9})$/.exec(arg);
  if (!match) throw new UsageError(`"${arg}": expected SERVICE=REPLICAS, e.g. web_api=3`);
  return [match[1]!, Number(match[2])];
}

async function scaleOne(context: CommandContext, service: string, replicas: number): Promise<ServiceView> {
  return context.client().call<ServiceView>('POST', servicePath(service, '/scale'), { body: { replicas } });
}

/** `shoal service scale`. */
export const serviceScaleCommand: CommandSpec = {
  words: ['service', 'scale'],
  argsUsage: '<service>=<replicas>...',
  summary: 'Set the number of replicas of replicated services',
  description:
    'Every argument is checked before any service is changed. The scheduler then starts or stops tasks;\n' +
    '`shoal service ps` shows them converge. Only replicated services scale.',
  options: { output: outputOption(['table', 'json']) },
  outputs: ['table', 'json'],
  minArgs: 1,
  remote: true,
  examples: ['shoal service scale web_api=5', 'shoal service scale web_api=0 web_worker=2'],
  async run(context) {
    const targets = context.args.map(parseScaleArg);
    const results: ServiceView[] = [];
    for (const [service, replicas] of targets) {
      const view = await scaleOne(context, service, replicas);
      results.push(view);
      if (context.output !== 'json') context.stdout.write(`${serviceName(view)} scaled to ${replicas}\n`);
      for (const warning of view.warnings ?? []) context.stderr.write(`WARNING: ${warning}\n`);
    }
    if (context.output === 'json') context.stdout.write(toJson(results));
    return ExitCode.ok;
  },
};
